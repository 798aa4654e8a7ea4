/**
 * The whole life of a container process from clone() to execve(), as one syscall
 * program. The named stages follow runc's init: namespaces → (fork for pid ns) →
 * rootfs and mounts → /dev → pivot_root → console → hostname, sysctl → readonly and
 * masked paths → limits → credentials → exec. Every step is an op with a
 * description, so a failure names exactly what could not be done.
 */
import { RuntsError } from "../errors.ts";
import { ChildProgram } from "../linux/child.ts";
import { CLONE, O, PR, SIGCHLD } from "../linux/constants.ts";
import { type NamespacePlan, planNamespaces } from "../linux/namespaces.ts";
import type { Label, Ref } from "../linux/program.ts";
import { containerDevices, emitDevices, emitDevLinks, needsDevSetup } from "../rootfs/devices.ts";
import { emitMaskedPaths, emitReadonlyPaths, emitReadonlyRoot } from "../rootfs/finalize.ts";
import { emitMounts, emitRootfsBind, type MountContext } from "../rootfs/mounts.ts";
import { emitPivotRoot } from "../rootfs/pivot.ts";
import { emitConsole } from "../process/console_child.ts";
import {
  emitBoundingSet,
  emitCapabilities,
  emitUser,
  kernelLastCap,
} from "../process/credentials.ts";
import {
  emitExec,
  emitExecutableCheck,
  emitFdCleanup,
  emitSignalReset,
  emitUmask,
  mergeEnv,
} from "../process/exec.ts";
import { emitOomScoreAdj, emitRlimits } from "../process/limits.ts";
import { emitSeccomp, type SeccompFilter } from "../process/seccomp_ops.ts";
import type { Process, Spec } from "../spec/types.ts";
import { ERRNO } from "../linux/errno.ts";
import { mark } from "../trace.ts";
import { Sync, syncRecord } from "./sync.ts";

export interface InitOptions {
  spec: Spec;
  /**
   * exec: a new process in an existing container. `spec.linux.namespaces` then name
   * the init's namespaces by path, `process` replaces spec.process, and the rootfs,
   * hostname, sysctl and path stages are skipped (the container has them).
   */
  exec?: { process: Process };
  /** Container id (names the session keyring). */
  id: string;
  /** Join a new session keyring "_ses.<id>" (runc's default; --no-new-keyring skips). */
  newKeyring: boolean;
  /** Added to process.env (LISTEN_FDS/LISTEN_PID with socket activation). */
  extraEnv?: string[];
  bundle: string;
  /** Real path of the rootfs. */
  rootfs: string;
  /** The child's end of the sync socketpair. */
  syncFd: number;
  /** create: an O_PATH fd of the exec fifo; the process waits on it before execve. */
  execFifoFd?: number;
  preserveFds: number;
  noPivot: boolean;
  /** Emits the `cgroup`-type mount (needs the cgroup layout). */
  cgroupMount?: MountContext["cgroupMount"];
  /** Stop before pivot_root so runts can run createRuntime/createContainer hooks. */
  hooksBeforePivot: boolean;
  /** linux.seccomp, compiled (see compileSeccompFilter). */
  seccomp?: SeccompFilter;
  /** Skip setgroups (rootless user namespace with setgroups denied). */
  skipSetgroups?: boolean;
}

export interface InitProgram {
  program: ChildProgram;
  /** How runts starts the child: clone flags, a pid namespace to enter around clone(). */
  namespaces: NamespacePlan;
  /** Notes for the user (e.g. seccomp syscall names unknown on this architecture). */
  warnings: string[];
}

/** Send a sync record and wait for runts' go-ahead. */
function syncAndWait(p: ChildProgram, syncFd: number, code: number, what: string): void {
  p.op("write", [syncFd, p.bytes(syncRecord(code)), 16], `${what} (tell runts)`, { expect: 16 });
  p.op("read", [syncFd, p.alloc(8), 8], `${what} (wait for runts)`, { expect: 8 });
}

export function buildInitProgram(o: InitOptions): InitProgram {
  const { spec } = o;
  const proc = o.exec?.process ?? spec.process;
  if (!proc?.args?.length) throw new RuntsError("process.args must name the program to run");
  const ns = planNamespaces(spec.linux?.namespaces);
  if (!ns.has("mount")) throw new RuntsError("linux.namespaces: runts needs a mount namespace");
  if (o.preserveFds > 4096) {
    throw new RuntsError("--preserve-fds: at most 4096 fds can be preserved");
  }
  const p = new ChildProgram(o.preserveFds);
  const sync = p.fd.sync;
  // Our fds at fixed numbers first: they survive the close of everything else.
  p.op("dup3", [o.syncFd, sync, O.CLOEXEC], "move the sync socket");
  if (o.execFifoFd !== undefined) {
    p.op("dup3", [o.execFifoFd, p.fd.fifo, O.CLOEXEC], "move the exec fifo");
  }

  // Stage 1: namespaces. Die with runts while it is still setting us up.
  p.op("prctl", [PR.SET_PDEATHSIG, 9, 0, 0, 0], "set parent-death signal");
  // Not dumpable: container processes can't open our /proc/<pid>/exe (CVE-2019-5736).
  // With a new user namespace an unprivileged runts must still write our id maps, so
  // (as runc) this waits until after SETUP; nothing of the container runs before that.
  const nonDumpable = () =>
    p.op("prctl", [PR.SET_DUMPABLE, 0, 0, 0, 0], "mark the setup process non-dumpable");
  if (!ns.newUser) nonDumpable();
  const nsFds: Ref[] = ns.join.map((j) => {
    const fd = p.cell();
    p.op(
      "openat",
      [-100, p.s(j.path), O.RDONLY | O.CLOEXEC],
      `open ${j.type} namespace ${j.path}`,
      {
        store: fd,
      },
    );
    return fd;
  });
  ns.join.forEach((j, i) => {
    p.op("setns", [{ load: nsFds[i] }, 0], `join ${j.type} namespace ${j.path}`);
    p.close(nsFds[i], `close ${j.path}`);
  });
  syncAndWait(p, sync, Sync.SETUP, "id maps and cgroup");
  if (ns.newUser) {
    nonDumpable();
    p.op("setresgid", [0, 0, 0], "become root group in the user namespace");
    p.op("setresuid", [0, 0, 0], "become root in the user namespace");
  }
  if (o.newKeyring && !o.exec) {
    // An own session keyring keeps the host's keys out of reach (ENOSYS: no keyrings).
    p.op(
      "keyctl",
      [1, /* KEYCTL_JOIN_SESSION_KEYRING */ p.s(`_ses.${o.id}`)],
      "join a new session keyring",
      {
        ignore: ERRNO.ENOSYS,
      },
    );
  }
  if (ns.unshareFlags) p.op("unshare", [ns.unshareFlags], "create namespaces");
  let intermediate: Label | undefined;
  const pidRecord = p.bytes(syncRecord(Sync.PID));
  if (ns.fork) {
    if (ns.isNew("pid")) p.op("unshare", [CLONE.NEWPID], "create the pid namespace");
    intermediate = p.label();
    // Raw clone sharing memory and (unused) stack: the interpreter keeps its state in
    // registers. The kernel writes the new pid into the PID record (PARENT_SETTID);
    // the child (result 0) goes on as the container init.
    p.op(
      "clone",
      [CLONE.VM | CLONE.PARENT_SETTID | SIGCHLD, 0, { ref: pidRecord.ref + 8 }, 0, 0],
      "fork the container init",
      {
        jumpIfNonzero: intermediate,
      },
    );
  }

  mark("build: namespaces");
  if (o.exec) {
    if (proc.terminal) emitConsole(p, { bindConsole: false });
  } else {
    emitContainerSetup(p, o, ns);
    mark("build: rootfs");
    if (proc.terminal) emitConsole(p, { bindConsole: true });
    emitContainerEnvironment(p, spec);
  }
  emitOomScoreAdj(p, proc.oomScoreAdj);
  emitRlimits(p, proc.rlimits);
  emitUmask(p, proc.user.umask);
  emitSignalReset(p);
  emitFdCleanup(p, o.preserveFds, o.execFifoFd !== undefined);
  syncAndWait(p, sync, Sync.READY, "ready to exec");
  // From here the container outlives runts (create returns; run may be killed).
  p.op("prctl", [PR.SET_PDEATHSIG, 0, 0, 0, 0], "clear parent-death signal");

  // Stage 4: credentials, then exec. Without no_new_privs, loading a filter needs
  // CAP_SYS_ADMIN, so it goes before the capabilities are dropped (as runc does).
  const seccomp = o.seccomp;
  const warnings: string[] = seccomp?.warnings ?? [];
  if (seccomp && !proc.noNewPrivileges) emitSeccomp(p, seccomp);
  mark("build: environment");
  const lastCap = kernelLastCap();
  emitBoundingSet(p, proc.capabilities, lastCap);
  emitUser(p, {
    user: proc.user,
    capabilities: proc.capabilities,
    lastCap,
    skipSetgroups: !!o.skipSetgroups,
  });
  emitCapabilities(p, proc.capabilities, lastCap);
  if (proc.noNewPrivileges) p.op("prctl", [PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0], "set no_new_privs");
  p.op("chdir", [p.s(proc.cwd)], `chdir to cwd ${proc.cwd}`);
  if (seccomp && proc.noNewPrivileges) emitSeccomp(p, seccomp);
  const env = mergeEnv(proc.env ?? [], o.extraEnv ?? []);
  if (o.execFifoFd !== undefined) {
    emitExecutableCheck(p, proc.args, env);
    p.op("write", [sync, p.bytes(syncRecord(Sync.CREATED)), 16], "report created", {
      expect: 16,
    });
    const fifo = p.cell();
    p.op(
      "openat",
      [-100, p.s(`/proc/self/fd/${p.fd.fifo}`), O.WRONLY | O.CLOEXEC],
      "wait for start (exec fifo)",
      {
        store: fifo,
      },
    );
    p.op("write", [{ load: fifo }, p.s("0"), 1], "signal start on the exec fifo", { expect: 1 });
    p.close(fifo, "close the exec fifo");
  }
  emitExec(p, proc.args, env);
  mark("build: credentials and exec");

  if (intermediate) {
    // The intermediate process: report the init's pid and leave.
    p.bind(intermediate);
    p.op("write", [sync, pidRecord, 16], "report the init pid", { expect: 16 });
    p.op("exit_group", [0], "intermediate exit");
  }
  return { program: p, namespaces: ns, warnings };
}

/** Stage 2: the rootfs, mounts and /dev, then pivot_root. */
function emitContainerSetup(p: ChildProgram, o: InitOptions, ns: NamespacePlan): void {
  const { spec } = o;
  // umask 0 so device nodes get exactly their configured modes.
  p.op("umask", [0], "clear umask for setup");
  const mctx: MountContext = {
    rootfs: o.rootfs,
    bundle: o.bundle,
    rootfsPropagation: spec.linux?.rootfsPropagation,
    newUserNs: ns.isNew("user"),
    newNetNs: ns.isNew("network"),
    newCgroupNs: ns.isNew("cgroup"),
    cgroupMount: o.cgroupMount,
  };
  emitRootfsBind(p, mctx);
  emitMounts(p, spec.mounts ?? [], mctx);
  if (needsDevSetup(spec.mounts)) {
    emitDevices(p, containerDevices(spec.linux?.devices), ns.has("user"));
    emitDevLinks(p, fileExists("/proc/kcore"));
  } else if (spec.linux?.devices?.length) {
    emitDevices(p, spec.linux.devices, ns.has("user"));
  }
  if (o.hooksBeforePivot) {
    syncAndWait(p, p.fd.sync, Sync.HOOKS, "createRuntime and createContainer hooks");
  }
  emitPivotRoot(p, o.rootfs, o.noPivot);
}

/** Stage 3: hostname, sysctl, read-only and masked paths, read-only root. */
function emitContainerEnvironment(p: ChildProgram, spec: Spec): void {
  if (spec.hostname !== undefined) {
    p.op(
      "sethostname",
      [p.s(spec.hostname), byteLength(spec.hostname)],
      `set hostname "${spec.hostname}"`,
    );
  }
  if (spec.domainname !== undefined) {
    p.op(
      "setdomainname",
      [p.s(spec.domainname), byteLength(spec.domainname)],
      `set domainname "${spec.domainname}"`,
    );
  }
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    p.writeFile(`/proc/sys/${key.replaceAll(".", "/")}`, value, `set sysctl ${key}=${value}`);
  }
  emitReadonlyPaths(p, spec.linux?.readonlyPaths ?? []);
  emitMaskedPaths(p, spec.linux?.maskedPaths ?? []);
  if (spec.root?.readonly) emitReadonlyRoot(p);
}

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

function fileExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
