/**
 * A process runts waits for in the foreground (run, exec): signals sent to runts are
 * forwarded to it (buffered until its pid is known), other children are reaped on
 * the way (runts is a subreaper), and its exit status becomes runts' (128+N when
 * killed by signal N).
 */
import { kill, waitpidAsync, type WaitResult } from "../linux/syscalls.ts";
import { SIGNALS } from "./signals.ts";

/** Signals passed on (SIGWINCH resizes the pty instead; SIGCHLD is ours). */
const FORWARDED: Deno.Signal[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGCONT",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGPROF",
  "SIGVTALRM",
  "SIGURG",
];

export class SignalForwarder {
  private pid = 0;
  private readonly pending: number[] = [];
  private readonly listeners = FORWARDED.map((s) => [s, () => this.forward(SIGNALS[s])] as const);

  constructor() {
    for (const [s, f] of this.listeners) Deno.addSignalListener(s, f);
  }

  private forward(sig: number): void {
    if (this.pid <= 0) {
      this.pending.push(sig);
      return;
    }
    try {
      kill(this.pid, sig);
    } catch { /* it is exiting */ }
  }

  /** From now on signals go to `pid`; those that arrived before are delivered now. */
  target(pid: number): void {
    this.pid = pid;
    for (const sig of this.pending.splice(0)) this.forward(sig);
  }

  stop(): void {
    for (const [s, f] of this.listeners) Deno.removeSignalListener(s, f);
  }
}

/** Wait for `pid`, reaping any other child (orphans reparented to runts) on the way. */
export async function reapUntil(pid: number): Promise<WaitResult> {
  for (;;) {
    const r = await waitpidAsync(-1);
    if (r.pid === pid) return r;
  }
}
