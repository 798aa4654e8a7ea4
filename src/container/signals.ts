/** Signal names and numbers as `runc kill` accepts them: "KILL", "SIGKILL", "9". */
import { RuntsError } from "../errors.ts";

export const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw new RuntsError(`invalid signal number ${text}`);
    return n;
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  const rt = /^SIGRTMIN(\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[2] ?? 0);
    const n = name.startsWith("SIGRTMIN") ? 34 + off : 64 - off;
    if (n < 34 || n > 64) throw new RuntsError(`invalid signal "${text}"`);
    return n;
  }
  const n = SIGNALS[name];
  if (n === undefined) throw new RuntsError(`unknown signal "${text}"`);
  return n;
}
