/**
 * `runts run`: create the container and exec its process in one go, then (unless
 * detached) stay in the foreground: relay the terminal, forward signals, reap, and
 * return the container's exit status (128+N when killed by signal N). The container
 * is deleted when it ends unless --keep.
 */
import { mark } from "../trace.ts";
import { RuntsError } from "../errors.ts";
import { close } from "../linux/syscalls.ts";
import { reapUntil, SignalForwarder } from "./foreground.ts";
import { startTerminalRelay, type TerminalRelay } from "../process/console_relay.ts";
import { sendConsole } from "../process/console_socket.ts";
import { type CreateFlags, setupContainer } from "./setup.ts";
import { destroyContainer } from "./destroy.ts";
import { hasHooks, runHooks, runPoststop } from "./hooks.ts";
import { ociState } from "./status.ts";

export interface RunOptions extends CreateFlags {
  detach: boolean;
  keep: boolean;
}

export async function runContainer(o: RunOptions): Promise<number> {
  if (o.detach && o.keep) throw new RuntsError("--keep cannot be used with --detach");
  let relay: TerminalRelay | undefined;
  const signals = o.detach ? undefined : new SignalForwarder();
  try {
    const c = await setupContainer({
      ...o,
      mode: "run",
      terminalAllowed: !o.detach || o.consoleSocket !== undefined,
      onPty: (fd, spec) => {
        if (o.consoleSocket) sendConsole(o.consoleSocket, fd);
        else relay = startTerminalRelay(fd, spec.process?.consoleSize);
      },
    });
    close(c.syncFd);
    const spec = c.record.spec;
    if (hasHooks(spec.hooks, "poststart")) {
      try {
        await runHooks(spec.hooks, "poststart", { state: ociState(c.record, "running") });
      } catch (e) {
        // runtime.md: a failed poststart stops the container.
        destroyContainer(c.dir, c.record, c.cgroup);
        await runPoststop(spec.hooks, ociState(c.record, "stopped"), o.warn);
        throw e;
      }
    }
    // Other commands (state, kill, exec) must not wait for us while it runs.
    c.dir.unlock();
    const initPid = c.record.pid;
    if (o.pidFile) writePidFile(o.pidFile, initPid);
    signals?.target(initPid);
    if (o.detach) return 0;
    mark("run: exec done");
    const result = await reapUntil(initPid);
    mark("run: init exited");
    if (relay) {
      // Output still in the pty is copied before we go; orphans can't hold it forever.
      await Promise.race([relay.output, new Promise((r) => setTimeout(r, 1000))]);
    }
    c.dir.lock();
    if (o.keep) {
      c.record.stopped = true;
      c.dir.write(c.record);
      c.cgroup.killAll(9);
      c.dir.unlock();
    } else {
      destroyContainer(c.dir, c.record, c.cgroup);
      await runPoststop(spec.hooks, ociState(c.record, "stopped"), o.warn);
    }
    return result.exitCode;
  } finally {
    relay?.stop();
    signals?.stop();
  }
}

export function writePidFile(path: string, pid: number): void {
  // Atomic, like runc: a reader never sees an empty file.
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    Deno.writeTextFileSync(tmp, String(pid));
    Deno.renameSync(tmp, path);
  } catch (e) {
    throw new RuntsError(`write pid file ${path}: ${(e as Error).message}`, { cause: e });
  }
}
