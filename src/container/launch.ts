/**
 * runts' side of starting a container process (shared by run and create): clone the
 * init program, answer its sync points (id maps, cgroup, hooks, pty) and turn a
 * failure record into an error naming the step that failed. On failure every
 * process started here is killed and reaped before the error propagates.
 */
import { mark } from "../trace.ts";
import { RuntsError } from "../errors.ts";
import { SOCK_SEQPACKET } from "../linux/constants.ts";
import { errnoName } from "../linux/errno.ts";
import { decodeFailure } from "../linux/program.ts";
import { type SpawnedProgram, spawnProgram } from "../linux/spawn.ts";
import {
  close,
  kill,
  moveFdAbove,
  recvWithFds,
  socketpair,
  waitpid,
  write,
} from "../linux/syscalls.ts";
import { childFds } from "../linux/child.ts";
import { withPidNamespace } from "../linux/nsenter.ts";
import { buildInitProgram, type InitOptions } from "./init_program.ts";
import { Sync, SYNC_BASE, SYNC_NAMES } from "./sync.ts";

export interface LaunchHooks {
  /** Notes from building the program (e.g. seccomp names unknown on this arch). */
  warn?(message: string): void;
  /** Child asked for SETUP: write id maps, put `pid` in the cgroup. */
  setup(pid: number): void;
  /** Mounts are done (before pivot_root): createRuntime / createContainer hooks. */
  beforePivot?(initPid: number): Promise<void> | void;
  /** The pty master arrived (terminal: true). Ownership passes to the callee. */
  pty?(masterFd: number): void;
  /** Ready to exec (run) or to wait for start (create): last host-side work. */
  ready?(initPid: number): Promise<void> | void;
}

export interface Launched {
  /** Host pid of the container init. */
  pid: number;
  /** The runts end of the sync socket (run: EOF means execve happened). */
  syncFd: number;
}

const GO = new Uint8Array(8);

export async function launch(
  opts: Omit<InitOptions, "syncFd">,
  hooks: LaunchHooks,
  waitFor: "exec" | "created",
): Promise<Launched> {
  const [parentFd, rawChildFd] = socketpair(SOCK_SEQPACKET);
  // The child moves its fds to fixed numbers right above the preserved ones; ours
  // must not already sit there.
  const fds = childFds(opts.preserveFds);
  const childFd = moveFdAbove(rawChildFd, fds.pty + 1);
  let built;
  try {
    built = buildInitProgram({ ...opts, syncFd: childFd });
  } catch (e) {
    close(parentFd);
    close(childFd);
    throw e;
  }
  const { program, namespaces } = built;
  built.warnings.forEach((w) => hooks.warn?.(w));
  mark(`launch: program built (${program.ops.length} ops)`);
  let spawned: SpawnedProgram;
  try {
    spawned = withPidNamespace(
      namespaces.parentJoinPid,
      () => spawnProgram(program, fds.sync, namespaces.cloneFlags),
    );
  } finally {
    close(childFd);
  }
  const childPid = spawned.pid;
  mark("launch: cloned");
  let initPid = namespaces.fork ? -1 : childPid;
  let ready = false;
  try {
    for (;;) {
      const { data, fds } = recvWithFds(parentFd, 16);
      if (data.length === 0) {
        // EOF: every copy of the child's end is closed — execve ran (CLOEXEC) or the child died.
        if (waitFor === "exec" && ready) break;
        throw new RuntsError(`container process exited during setup${describeExit(childPid)}`);
      }
      const rec = decodeFailure(data);
      mark(`launch: message ${SYNC_NAMES[rec.op] ?? rec.op}`);
      if (rec.op < SYNC_BASE) {
        const op = program.ops[rec.op];
        const cause = rec.errno ? errnoName(rec.errno) : `unexpected result ${rec.result}`;
        const what = op?.what ?? `step ${rec.op}`;
        const message = op?.options.complete ? what : `${what}: ${cause}`;
        throw new RuntsError(`container setup failed: ${message}`, {
          errno: rec.errno || undefined,
        });
      }
      switch (rec.op) {
        case Sync.SETUP:
          hooks.setup(childPid);
          write(parentFd, GO);
          break;
        case Sync.PID:
          initPid = Number(rec.result);
          waitpid(childPid); // the intermediate exits right after reporting
          break;
        case Sync.PTY:
          if (fds.length !== 1) throw new RuntsError("container setup: no pty received");
          if (hooks.pty) hooks.pty(fds[0]);
          else close(fds[0]);
          break;
        case Sync.HOOKS:
          await hooks.beforePivot?.(initPid);
          write(parentFd, GO);
          break;
        case Sync.READY:
          await hooks.ready?.(initPid);
          ready = true;
          write(parentFd, GO);
          break;
        case Sync.CREATED:
          if (waitFor === "created") return { pid: initPid, syncFd: parentFd };
          throw new RuntsError("container setup: unexpected CREATED");
        default:
          throw new RuntsError(
            `container setup: unexpected message ${SYNC_NAMES[rec.op] ?? rec.op}`,
          );
      }
    }
    // execve gave the child its own memory: ours can go. (create keeps it: the child
    // still runs the program when `start` releases it.)
    spawned.release();
    return { pid: initPid, syncFd: parentFd };
  } catch (e) {
    for (const pid of [initPid, childPid]) {
      if (pid > 0) {
        try {
          kill(pid, 9);
        } catch { /* already gone */ }
        try {
          waitpid(pid);
        } catch { /* not our child or reaped */ }
      }
    }
    close(parentFd);
    spawned.release();
    throw e;
  }
}

function describeExit(pid: number): string {
  try {
    const r = waitpid(pid);
    if (!r) return "";
    return r.signal ? ` (killed by signal ${r.signal})` : ` (exit status ${r.exitCode})`;
  } catch {
    return "";
  }
}
