/**
 * The last steps before execve: a clean signal state (Deno ignores SIGPIPE and the
 * disposition would be inherited), no runtime fds left open, umask, and the
 * executable looked up in the container's PATH like runc (exec.LookPath).
 */
import { ERRNO } from "../linux/errno.ts";
import { AT, F_SETFD, O } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function emitSignalReset(p: ChildProgram): void {
  const dfl = p.alloc(32); // struct kernel_sigaction, all zero: SIG_DFL, no flags, empty mask
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === 9 || sig === 19) continue; // SIGKILL, SIGSTOP can't be changed
    p.op("rt_sigaction", [sig, dfl, 0, 8], `reset signal ${sig}`, { ignore: ERRNO.EINVAL });
  }
  p.op("rt_sigprocmask", [2, /* SIG_SETMASK */ p.alloc(8), 0, 8], "unblock all signals");
}

/**
 * Only stdio and the preserved fds reach the program: every other fd this clone of
 * runts holds (Deno's, the state lock's) is closed now, so a created container
 * holds nothing of runts while it waits; the sync socket and the fifo are
 * close-on-exec.
 */
export function emitFdCleanup(p: ChildProgram, preserveFds: number, keepFifo: boolean): void {
  for (let fd = 3; fd < 3 + preserveFds; fd++) {
    p.op("fcntl", [fd, F_SETFD, 0], `keep preserved fd ${fd} open`);
  }
  // Without an exec fifo its slot may hold an inherited fd: close it too.
  const first = keepFifo ? p.fd.firstTransient : p.fd.fifo;
  p.op("close_range", [first, 0xffffffff, 0], "close runtime fds");
}

export function emitUmask(p: ChildProgram, umask: number | undefined): void {
  p.op("umask", [umask ?? 0o022], "set umask");
}

/**
 * `base` with `extra` applied: a variable set again replaces the earlier value in
 * place (runc dedups the same way), new ones are appended.
 */
export function mergeEnv(base: string[], extra: string[]): string[] {
  const out = [...base];
  const index = new Map(out.map((e, i) => [envName(e), i]));
  for (const e of extra) {
    const i = index.get(envName(e));
    if (i === undefined) {
      index.set(envName(e), out.length);
      out.push(e);
    } else out[i] = e;
  }
  return out;
}

function envName(entry: string): string {
  const i = entry.indexOf("=");
  return i < 0 ? entry : entry.slice(0, i);
}

/** PATH of the container environment, as the lookup uses it. */
function pathOf(env: string[]): string {
  const e = env.findLast((v) => v.startsWith("PATH="));
  return e ? e.slice(5) : DEFAULT_PATH;
}

/** Candidate paths for args[0], in lookup order. */
export function executableCandidates(arg0: string, env: string[]): string[] {
  if (arg0.includes("/")) return [arg0];
  return pathOf(env).split(":").map((d) => (d === "" ? "." : d)).map((d) => `${d}/${arg0}`);
}

/**
 * create: find the program before waiting for `start`, so a missing executable fails
 * `create` as with runc (which looks it up before it waits). Existence is checked
 * (an O_PATH open per PATH candidate); execve itself still decides the rest.
 */
export function emitExecutableCheck(p: ChildProgram, args: string[], env: string[]): void {
  const found = p.label();
  const searched = !args[0].includes("/");
  for (const path of executableCandidates(args[0], env)) {
    // Any fd is non-zero (0 is stdin, always open): success jumps to `found`.
    p.op("openat", [AT.FDCWD, p.s(path), O.PATH | O.CLOEXEC], `exec ${path}`, {
      ignore: searched ? [ERRNO.ENOENT, ERRNO.ENOTDIR] : undefined,
      jumpIfNonzero: found,
    });
  }
  if (searched) {
    p.op(
      "openat",
      [AT.FDCWD, p.s(""), 0],
      `exec "${args[0]}": executable file not found in $PATH`,
      { complete: true },
    );
  }
  p.bind(found);
}

export function emitExec(p: ChildProgram, args: string[], env: string[]): void {
  const argv = p.strArray(args);
  const envp = p.strArray(env);
  const candidates = executableCandidates(args[0], env);
  const searched = !args[0].includes("/");
  for (const path of candidates) {
    // Like exec.LookPath, a candidate that is missing (ENOENT, or ENOTDIR for a PATH
    // entry that is a file) or not executable (EACCES) is skipped; any other failure
    // of an existing program (ENOEXEC, ...) is reported.
    const next = p.label();
    p.op(
      "execve",
      [p.s(path), argv, envp],
      `exec ${path}`,
      searched
        ? { ignore: [ERRNO.ENOENT, ERRNO.ENOTDIR], onErrno: { errno: ERRNO.EACCES, to: next } }
        : {},
    );
    p.bind(next);
  }
  if (searched) {
    // Reached only when every candidate was missing: fail with ENOENT and say so.
    p.op(
      "openat",
      [AT.FDCWD, p.s(""), 0],
      `exec "${args[0]}": executable file not found in $PATH`,
      { complete: true },
    );
  }
}
