/**
 * Creating a container up to the point where only execve is left: shared by `run`
 * (which then lets it exec) and `create` (which leaves it waiting for `start`).
 * Order: id and config checked → state dir claimed → cgroup made → process launched
 * → state written. Any failure undoes every earlier step: nothing is left behind.
 */
import { mark } from "../trace.ts";
import { RuntsError } from "../errors.ts";
import { createCgroupManager, effectiveDeviceRules } from "../cgroups/mod.ts";
import type { CgroupManager } from "../cgroups/mod.ts";
import { O } from "../linux/constants.ts";
import { close, mknod, moveFdAbove, openat, prctl } from "../linux/syscalls.ts";
import { childFds } from "../linux/child.ts";
import { PR, S_IF } from "../linux/constants.ts";
import { hostIdOf, writeIdMaps } from "../process/idmap.ts";
import { loadConfig } from "../spec/config.ts";
import type { Spec } from "../spec/types.ts";
import {
  type ContainerDir,
  type ContainerRecord,
  processStartTime,
  StateStore,
  validateId,
} from "../state/store.ts";
import { cgroupMountEmitter } from "../rootfs/cgroup_mount.ts";
import { launch } from "./launch.ts";
import { compileSeccompFilter } from "../process/seccomp_ops.ts";
import { hasHooks, HookError, runHooks, runPoststop } from "./hooks.ts";
import { ociState } from "./status.ts";

/** What `create` and `run` are told on the command line (runc's flags). */
export interface CreateFlags {
  id: string;
  bundle: string;
  root: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  /** Socket-activation fds (included in preserveFds): LISTEN_FDS/LISTEN_PID are set. */
  listenFds: number;
  noPivot: boolean;
  noNewKeyring: boolean;
  systemdCgroup: boolean;
  rootless: boolean;
  /** Called with each warning (config, seccomp, hooks). */
  warn(message: string): void;
}

export interface SetupOptions extends Omit<CreateFlags, "pidFile" | "consoleSocket"> {
  mode: "run" | "create";
  /** false when detached without --console-socket: nobody could hold the pty. */
  terminalAllowed: boolean;
  /** Receives the pty master (terminal: true); must take ownership. */
  onPty?(masterFd: number, spec: Spec): void;
}

export interface SetupContainer {
  record: ContainerRecord;
  dir: ContainerDir;
  cgroup: CgroupManager;
  /** runts' end of the sync socket: EOF after execve (run). */
  syncFd: number;
}

/** runts' cgroup parent for containers without linux.cgroupsPath. */
const DEFAULT_CGROUP_PARENT = "runts";

export async function setupContainer(o: SetupOptions): Promise<SetupContainer> {
  mark("setup: start");
  validateId(o.id);
  const loaded = loadConfig(o.bundle);
  mark("setup: config loaded");
  loaded.warnings.forEach((w) => o.warn(w));
  const spec = loaded.spec;
  const rootfs = Deno.realPathSync(loaded.rootfs);
  // Checked before anything is created: a bad profile leaves nothing behind.
  const seccomp = await compileSeccompFilter(spec.linux?.seccomp);
  const bundle = Deno.realPathSync(o.bundle);
  if (spec.process?.terminal && !o.terminalAllowed) {
    throw new RuntsError(
      "cannot allocate a tty without --console-socket when detached (process.terminal is true)",
    );
  }
  const record: ContainerRecord = {
    ociVersion: spec.ociVersion,
    id: o.id,
    pid: 0,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    owner: Deno.uid() === 0 ? "root" : String(Deno.uid()),
    annotations: spec.annotations,
    spec,
  };
  const store = new StateStore(o.root);
  const dir = store.create(o.id);
  mark("setup: state dir");
  const undo: (() => void)[] = [() => dir.remove()];
  try {
    const cgroup = createCgroupManager({
      id: o.id,
      cgroupsPath: spec.linux?.cgroupsPath,
      resources: spec.linux?.resources,
      systemd: o.systemdCgroup,
      rootless: o.rootless,
      defaultParent: DEFAULT_CGROUP_PARENT,
    });
    // Written before the cgroup exists: a runts killed from here on leaves a
    // "creating" container that `delete --force` can clean up (cgroup included).
    record.cgroup = cgroup.toJSON();
    dir.write(record);
    undo.push(() => cgroup.destroy());
    cgroup.create();
    // runts' own default device rules are not forced on a rootless container: it has
    // no devices cgroup of its own (runc likewise), only what its config asks for.
    const configured = spec.linux?.resources?.devices;
    cgroup.apply({
      ...spec.linux?.resources,
      devices: o.rootless && !configured
        ? undefined
        : effectiveDeviceRules(configured, spec.linux?.devices),
    });
    mark("setup: cgroup");
    let execFifoFd: number | undefined;
    if (o.mode === "create") {
      mknod(dir.execFifo, S_IF.FIFO | 0o600);
      // The init opens it as the container's root: in a user namespace that is the
      // host id container 0 maps to (runc's createExecFifo does the same).
      const uid = hostIdOf(0, spec.linux?.uidMappings);
      const gid = hostIdOf(0, spec.linux?.gidMappings);
      if (uid !== 0 || gid !== 0) Deno.chownSync(dir.execFifo, uid, gid);
      // Above the numbers the child moves its own fds to (see childFds).
      execFifoFd = moveFdAbove(
        openat(dir.execFifo, O.PATH | O.CLOEXEC),
        childFds(o.preserveFds).pty + 1,
      );
      undo.push(() => close(execFifoFd!));
    }
    // Orphans of a container sharing our pid namespace are reparented to us, not init.
    prctl(PR.SET_CHILD_SUBREAPER, 1);
    const init = await launch(
      {
        spec,
        seccomp,
        id: o.id,
        newKeyring: !o.noNewKeyring,
        extraEnv: o.listenFds > 0 ? [`LISTEN_FDS=${o.listenFds}`, "LISTEN_PID=1"] : [],
        bundle,
        rootfs,
        execFifoFd,
        preserveFds: o.preserveFds,
        noPivot: o.noPivot,
        // An unprivileged runts denies setgroups when it writes the id maps (the kernel
        // requires it), so the process keeps the groups it has.
        skipSetgroups: Deno.uid() !== 0 &&
          (spec.linux?.namespaces ?? []).some((n) => n.type === "user" && !n.path),
        hooksBeforePivot: hasHooks(spec.hooks, "prestart", "createRuntime", "createContainer"),
        cgroupMount: cgroupMountEmitter(cgroup, spec),
      },
      {
        warn: o.warn,
        setup(pid) {
          if (spec.linux?.uidMappings || spec.linux?.gidMappings) {
            writeIdMaps(pid, spec.linux.uidMappings, spec.linux.gidMappings);
          }
          cgroup.addProcess(pid);
        },
        pty(fd) {
          if (o.onPty) o.onPty(fd, spec);
          else close(fd);
        },
        async beforePivot(pid) {
          const state = ociState({ ...record, pid }, "creating");
          await runHooks(spec.hooks, "prestart", { state });
          await runHooks(spec.hooks, "createRuntime", { state });
          const container = { pid, namespaces: spec.linux?.namespaces ?? [] };
          await runHooks(spec.hooks, "createContainer", { state, container });
        },
        async ready(pid) {
          record.pid = pid;
          record.pidStartTime = processStartTime(pid);
          dir.write(record);
          if (o.mode === "run") {
            // run = create + start: startContainer hooks run before the program does.
            const container = { pid, namespaces: spec.linux?.namespaces ?? [] };
            await runHooks(spec.hooks, "startContainer", {
              state: ociState(record, "created"),
              container,
            });
          }
        },
      },
      o.mode === "run" ? "exec" : "created",
    );
    mark("setup: launched");
    if (execFifoFd !== undefined) close(execFifoFd);
    return { record, dir, cgroup, syncFd: init.syncFd };
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch { /* best effort: report the original error */ }
    }
    if (e instanceof HookError) {
      await runPoststop(spec.hooks, ociState(record, "stopped"), o.warn);
    }
    throw e;
  }
}
