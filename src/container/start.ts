/**
 * `runts start`: release a created container's init from the exec fifo and return
 * as soon as it has gone on to execve. The fifo is opened non-blocking so a dead
 * init can't hang start.
 */
import { RuntsError } from "../errors.ts";
import { O } from "../linux/constants.ts";
import { close, openat, pollIn, readFd } from "../linux/syscalls.ts";
import { StateStore } from "../state/store.ts";
import { containerStatus } from "./status.ts";
import { initAlive } from "../state/store.ts";

export function startContainer(root: string, id: string): number {
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    const status = containerStatus(dir, record);
    if (status !== "created") {
      throw new RuntsError(`cannot start container "${id}": it is ${status}, not created`);
    }
    const fd = openat(dir.execFifo, O.RDONLY | O.NONBLOCK | O.CLOEXEC);
    try {
      const buf = new Uint8Array(1);
      for (;;) {
        if (pollIn(fd, 100)) {
          if (readFd(fd, buf) === 1) break;
        }
        if (!initAlive(record)) {
          throw new RuntsError(`cannot start container "${id}": its process exited`);
        }
      }
    } finally {
      close(fd);
    }
    Deno.removeSync(dir.execFifo);
    return 0;
  } finally {
    dir.unlock();
  }
}
