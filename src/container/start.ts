/**
 * `runts start`: run the startContainer hooks in the container, release the init
 * from the exec fifo, run the poststart hooks, and return. The fifo is opened
 * non-blocking so a dead init can't hang start. A failed hook destroys the
 * container (runtime.md).
 */
import { RuntsError } from "../errors.ts";
import { O } from "../linux/constants.ts";
import { close, openat, pollIn, readFd } from "../linux/syscalls.ts";
import { type ContainerDir, type ContainerRecord, initAlive, StateStore } from "../state/store.ts";
import { cgroupOf, containerStatus, ociState } from "./status.ts";
import { destroyContainer } from "./destroy.ts";
import { runHooks, runPoststop } from "./hooks.ts";

export async function startContainer(
  root: string,
  id: string,
  warn: (m: string) => void,
): Promise<number> {
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    const status = containerStatus(dir, record);
    if (status !== "created") {
      throw new RuntsError(`cannot start container "${id}": it is ${status}, not created`);
    }
    const hooks = record.spec.hooks;
    try {
      const container = { pid: record.pid, namespaces: record.spec.linux?.namespaces ?? [] };
      await runHooks(hooks, "startContainer", { state: ociState(record, "created"), container });
      releaseInit(dir, record);
      await runHooks(hooks, "poststart", { state: ociState(record, "running") });
    } catch (e) {
      destroyContainer(dir, record, cgroupOf(record));
      await runPoststop(hooks, ociState(record, "stopped"), warn);
      throw e;
    }
    return 0;
  } finally {
    dir.unlock();
  }
}

/** Read the init's byte from the exec fifo: it then goes on to execve. */
function releaseInit(dir: ContainerDir, record: ContainerRecord): void {
  const fd = openat(dir.execFifo, O.RDONLY | O.NONBLOCK | O.CLOEXEC);
  try {
    const buf = new Uint8Array(1);
    for (;;) {
      if (pollIn(fd, 100) && readFd(fd, buf) === 1) break;
      if (!initAlive(record)) {
        throw new RuntsError(`cannot start container "${record.id}": its process exited`);
      }
    }
  } finally {
    close(fd);
  }
  Deno.removeSync(dir.execFifo);
}
