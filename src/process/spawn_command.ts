/**
 * Start a command with runts' own clone-and-exec (what hooks need and Deno.Command
 * can't give): argv[0] as configured, exactly the given environment, its own
 * session (so a timeout can kill the whole process group), stdio on pipes, no other
 * fd inherited, and optionally every namespace of another process (the container's)
 * entered in the child itself.
 */
import { RuntsError } from "../errors.ts";
import { ChildProgram } from "../linux/child.ts";
import { CLOSE_RANGE_CLOEXEC, O } from "../linux/constants.ts";
import { errnoName } from "../linux/errno.ts";
import { NAMESPACE_PROC_NAME } from "../linux/namespaces.ts";
import { withPidNamespace } from "../linux/nsenter.ts";
import { decodeFailure } from "../linux/program.ts";
import { spawnProgram } from "../linux/spawn.ts";
import { close, pipe, readFd, waitpid } from "../linux/syscalls.ts";
import type { LinuxNamespaceType } from "../spec/types.ts";
import { emitSignalReset } from "./exec.ts";

export interface CommandSpec {
  path: string;
  /** argv, argv[0] included. */
  args: string[];
  env: string[];
  /** Enter these namespaces of `pid` (user first, mount last). */
  namespacesOf?: { pid: number; types: LinuxNamespaceType[] };
}

export interface NativeChild {
  pid: number;
  /** Our ends of its stdin (write), stdout and stderr (read). */
  stdin: number;
  stdout: number;
  stderr: number;
}

const JOIN_ORDER: LinuxNamespaceType[] = ["user", "ipc", "uts", "network", "cgroup", "mount"];

/** Throws RuntsError naming the step when the command can't be started. */
export function spawnCommand(c: CommandSpec): NativeChild {
  const [inR, inW] = pipe();
  const [outR, outW] = pipe();
  const [errR, errW] = pipe();
  const [repR, repW] = pipe();
  const ours = [inW, outR, errR];
  let repWOpen = true;
  try {
    const p = new ChildProgram();
    p.op("dup3", [inR, 0, 0], "stdin");
    p.op("dup3", [outW, 1, 0], "stdout");
    p.op("dup3", [errW, 2, 0], "stderr");
    p.op("setsid", [], "start a session");
    const ns = c.namespacesOf;
    for (const t of JOIN_ORDER.filter((t) => ns?.types.includes(t))) {
      const path = `/proc/${ns!.pid}/ns/${NAMESPACE_PROC_NAME[t]}`;
      p.op("openat", [-100, p.s(path), O.RDONLY | O.CLOEXEC], `open ${path}`, { store: p.scratch });
      p.op("setns", [{ load: p.scratch }, 0], `enter ${t} namespace ${path}`);
      p.close(p.scratch, `close ${path}`);
    }
    emitSignalReset(p);
    p.op("close_range", [3, 0xffffffff, CLOSE_RANGE_CLOEXEC], "close-on-exec for other fds");
    p.op("execve", [p.s(c.path), p.strArray(c.args), p.strArray(c.env)], `exec ${c.path}`);
    const pidPath = ns?.types.includes("pid") ? `/proc/${ns.pid}/ns/pid` : undefined;
    const spawned = withPidNamespace(pidPath, () => spawnProgram(p, repW));
    close(repW);
    repWOpen = false;
    // EOF: execve closed the report pipe; a record: the step that failed.
    const rec = new Uint8Array(16);
    const n = readFd(repR, rec);
    spawned.release();
    if (n === 16) {
      waitpid(spawned.pid);
      const f = decodeFailure(rec);
      throw new RuntsError(`${p.ops[f.op]?.what ?? `step ${f.op}`}: ${errnoName(f.errno)}`);
    }
    return { pid: spawned.pid, stdin: inW, stdout: outR, stderr: errR };
  } catch (e) {
    ours.forEach((fd) => close(fd));
    throw e;
  } finally {
    for (const fd of [inR, outW, errW, repR]) close(fd);
    if (repWOpen) close(repW);
  }
}
