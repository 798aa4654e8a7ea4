/** Signal numbers -> Deno.Signal names (Linux numbering, same on x86_64 and aarch64). */
import { RuntsError } from "../errors.ts";

const NAMES: Record<number, Deno.Signal> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
  16: "SIGSTKFLT",
  17: "SIGCHLD",
  18: "SIGCONT",
  19: "SIGSTOP",
  20: "SIGTSTP",
  21: "SIGTTIN",
  22: "SIGTTOU",
  23: "SIGURG",
  24: "SIGXCPU",
  25: "SIGXFSZ",
  26: "SIGVTALRM",
  27: "SIGPROF",
  28: "SIGWINCH",
  29: "SIGIO",
  30: "SIGPWR",
  31: "SIGSYS",
};

export const SIGKILL = 9;

export function signalName(signal: number): Deno.Signal {
  const name = NAMES[signal];
  if (!name) throw new RuntsError(`cgroup: cannot send signal ${signal} to the cgroup's processes`);
  return name;
}

/** kill(2) that treats an already-gone process as success. */
export function signalProcess(pid: number, signal: number): void {
  try {
    Deno.kill(pid, signalName(signal));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // ESRCH: exited meanwhile
    if ((e as { code?: string }).code === "ESRCH") return;
    throw new RuntsError(
      `cgroup: kill ${pid} with ${signalName(signal)}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** Synchronous sleep (the manager's API is synchronous). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
