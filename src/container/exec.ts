/**
 * `runts exec`: a new process in a running container. It enters every namespace of
 * the container's init (user and cgroup included, through /proc/<pid>/ns/*), joins
 * its cgroup, and gets the process' user, capabilities, rlimits, no_new_privs,
 * seccomp filter and environment — the same syscall program as the init, without
 * the rootfs stages. Like the init it is non-dumpable until execve, so processes in
 * the container can't reach the runtime binary through /proc/<pid>/exe.
 */
import { RuntsError } from "../errors.ts";
import { NAMESPACE_PROC_NAME } from "../linux/namespaces.ts";
import { close, prctl } from "../linux/syscalls.ts";
import { PR } from "../linux/constants.ts";
import { startTerminalRelay, type TerminalRelay } from "../process/console_relay.ts";
import { sendConsole } from "../process/console_socket.ts";
import { capabilityName } from "../spec/generate.ts";
import { parseProcess } from "../spec/config.ts";
import type { Process, Spec } from "../spec/types.ts";
import { StateStore } from "../state/store.ts";
import { launch } from "./launch.ts";
import { mergeEnv } from "../process/exec.ts";
import { compileSeccompFilter } from "../process/seccomp_ops.ts";
import { reapUntil, SignalForwarder } from "./foreground.ts";
import { writePidFile } from "./run.ts";
import { cgroupOf, containerStatus } from "./status.ts";

export interface ExecOptions {
  root: string;
  id: string;
  /** --process FILE ("-" for stdin). */
  processFile?: string;
  args: string[];
  tty: boolean;
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivs: boolean;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
  warn(message: string): void;
}

/** The process to run: --process, or the container's process with the flags applied. */
export function execProcess(o: ExecOptions, spec: Spec): Process {
  if (o.processFile) {
    const text = o.processFile === "-"
      ? new TextDecoder().decode(readAllStdin())
      : readText(o.processFile);
    const { process, warnings } = parseProcess(
      text,
      o.processFile === "-" ? "<stdin>" : o.processFile,
    );
    warnings.forEach((w) => o.warn(w));
    return process;
  }
  if (o.args.length === 0) throw new RuntsError("exec: arguments required (the command to run)");
  const base: Process = structuredClone(spec.process ?? { user: { uid: 0, gid: 0 }, cwd: "/" });
  const p: Process = { ...base, args: o.args, terminal: o.tty };
  if (o.cwd) p.cwd = o.cwd;
  p.env = mergeEnv(base.env ?? [], o.env);
  if (o.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw new RuntsError(`exec: --user "${o.user}": expected <uid>[:<gid>]`);
    p.user = {
      ...base.user,
      uid: Number(m[1]),
      gid: m[2] !== undefined ? Number(m[2]) : base.user.gid,
    };
  }
  if (o.additionalGids.length) {
    p.user = {
      ...p.user,
      additionalGids: o.additionalGids.map((g) => {
        if (!/^\d+$/.test(g)) {
          throw new RuntsError(`exec: --additional-gids "${g}" is not a number`);
        }
        return Number(g);
      }),
    };
  }
  if (o.caps.length) {
    const caps = { ...(base.capabilities ?? {}) };
    for (const c of o.caps) {
      const name = capabilityName(c);
      // As runc 1.1: bounding, effective, permitted (ambient would need inheritable).
      for (const set of ["bounding", "effective", "permitted"] as const) {
        caps[set] = [...new Set([...(caps[set] ?? []), name])];
      }
    }
    p.capabilities = caps;
  }
  if (o.noNewPrivs) p.noNewPrivileges = true;
  return p;
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new RuntsError(`exec: read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function readAllStdin(): Uint8Array {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = Deno.stdin.readSync(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export async function execInContainer(o: ExecOptions): Promise<number> {
  const dir = new StateStore(o.root).open(o.id);
  let record;
  try {
    record = dir.read();
    const status = containerStatus(dir, record);
    if (status === "stopped" || status === "creating") {
      throw new RuntsError(`cannot exec in a ${status} container "${o.id}"`);
    }
    if (status === "paused" && !o.ignorePaused) {
      throw new RuntsError(`cannot exec in a paused container "${o.id}" (use --ignore-paused)`);
    }
  } finally {
    dir.unlock();
  }
  const spec = record.spec;
  const process = execProcess(o, spec);
  if (process.terminal && o.detach && !o.consoleSocket) {
    throw new RuntsError("cannot allocate a tty when detached without --console-socket");
  }
  // Every namespace of the container, entered through the init's /proc entries.
  const namespaces = (spec.linux?.namespaces ?? []).map((n) => ({
    type: n.type,
    path: `/proc/${record.pid}/ns/${NAMESPACE_PROC_NAME[n.type]}`,
  }));
  const execSpec: Spec = { ...spec, linux: { ...spec.linux, namespaces } };
  const cgroup = cgroupOf(record);
  let relay: TerminalRelay | undefined;
  const signals = o.detach ? undefined : new SignalForwarder();
  prctl(PR.SET_CHILD_SUBREAPER, 1);
  try {
    const launched = await launch(
      {
        spec: execSpec,
        exec: { process },
        seccomp: await compileSeccompFilter(spec.linux?.seccomp),
        id: o.id,
        newKeyring: false,
        bundle: record.bundle,
        rootfs: record.rootfs,
        preserveFds: o.preserveFds,
        noPivot: false,
        hooksBeforePivot: false,
      },
      {
        warn: o.warn,
        setup(pid) {
          cgroup?.addProcess(pid);
        },
        pty(fd) {
          if (o.consoleSocket) sendConsole(o.consoleSocket, fd);
          else relay = startTerminalRelay(fd, process.consoleSize);
        },
      },
      "exec",
    );
    close(launched.syncFd);
    if (o.pidFile) writePidFile(o.pidFile, launched.pid);
    if (o.detach) return 0;
    signals?.target(launched.pid);
    const result = await reapUntil(launched.pid);
    if (relay) await Promise.race([relay.output, new Promise((r) => setTimeout(r, 1000))]);
    return result.exitCode;
  } finally {
    relay?.stop();
    signals?.stop();
  }
}
