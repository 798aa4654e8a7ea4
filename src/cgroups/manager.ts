/**
 * The cgroup manager the container lifecycle uses: one object over all of a
 * container's cgroup directories (every v1 hierarchy, plus the cgroup2 one on
 * hybrid and v2 hosts), built from a config or reopened from the state dir.
 */
import { RuntsError } from "../errors.ts";
import type { LinuxDeviceCgroup, LinuxResources } from "../spec/types.ts";
import { attachDeviceFilter } from "./devices_v2.ts";
import { type CgroupHost, detectCgroupHost } from "./detect.ts";
import { type CgroupFs, errorCode, realCgroupFs } from "./fs.ts";
import { hierarchyPaths, innerCgroupPath, parseSystemdCgroupsPath } from "./path.ts";
import { executeWrites } from "./plan.ts";
import { DBusConnection, systemBusSocketPath } from "./dbus.ts";
import {
  type SystemdBus,
  SystemdCgroupManager,
  systemdCgroupPath,
  systemdRuntimeDir,
  systemdUnitName,
} from "./systemd.ts";
import { SIGKILL, signalProcess, sleepMs } from "./signals.ts";
import { readStatsV1, readStatsV2 } from "./stats.ts";
import type {
  CgroupConfig,
  CgroupManager,
  CgroupMode,
  CgroupStats,
  FreezerState,
  SavedCgroup,
} from "./types.ts";
import { planV1Writes } from "./v1.ts";
import { planV2Writes } from "./v2.ts";

/** Installs the cgroup v2 device filter for `rules` on the cgroup2 directory `dir`. */
export type DeviceFilterInstaller = (dir: string, rules: LinuxDeviceCgroup[]) => void;

/** How long freeze waits for the kernel to report the cgroup frozen. */
const FREEZE_TIMEOUT_MS = 5000;

/** Order in which v1 hierarchies are asked for their process list. */
const PROCESS_LIST_CONTROLLERS = ["pids", "freezer", "devices", "memory", "cpu", "cpuacct"];

export class FsCgroupManager implements CgroupManager {
  constructor(
    readonly mode: CgroupMode,
    readonly paths: Record<string, string>,
    private readonly fs: CgroupFs = realCgroupFs,
    /** controller -> mount point; needed by create() only. */
    private readonly mountpoints: Record<string, string> = {},
    private readonly rootless = false,
    /** Installs the v2 device filter (eBPF); replaced in unit tests. */
    private readonly attachDevices: DeviceFilterInstaller = attachDeviceFilter,
  ) {}

  /** Distinct directories (comounted controllers share one). */
  private dirs(): string[] {
    const v1 = Object.entries(this.paths).filter(([k]) => k !== "unified").map(([, d]) => d);
    const all = [...v1];
    if (this.paths.unified !== undefined) all.push(this.paths.unified);
    return [...new Set(all)];
  }

  private v1Paths(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, d] of Object.entries(this.paths)) if (k !== "unified") out[k] = d;
    return out;
  }

  create(): void {
    const done = new Set<string>();
    for (const [controller, dir] of Object.entries(this.paths)) {
      if (done.has(dir)) continue;
      done.add(dir);
      try {
        if (controller === "cpuset") this.createCpuset(dir);
        else if (controller === "unified" && this.mode === "v2") this.createV2(dir);
        else this.fs.mkdirAll(dir);
      } catch (e) {
        // Rootless on v1: no delegation, so run without this hierarchy (runc does too).
        const code = errorCode((e as Error).cause);
        if (this.rootless && (code === "EACCES" || code === "EPERM" || code === "EROFS")) {
          for (const [k, d] of Object.entries(this.paths)) if (d === dir) delete this.paths[k];
          continue;
        }
        throw e;
      }
    }
  }

  /** Directories from just below the mount point down to `dir`. */
  private levels(controller: string, dir: string): string[] {
    const mount = this.mountpoints[controller];
    if (mount === undefined || !dir.startsWith(mount + "/")) return [dir];
    const parts = dir.slice(mount.length + 1).split("/");
    return parts.map((_, i) => `${mount}/${parts.slice(0, i + 1).join("/")}`);
  }

  /** A new v1 cpuset cgroup starts with empty cpus/mems, which makes attaching fail: copy the parent's. */
  private createCpuset(dir: string): void {
    let parent = this.mountpoints.cpuset ?? dir.slice(0, dir.lastIndexOf("/"));
    for (const level of this.levels("cpuset", dir)) {
      this.fs.mkdirAll(level);
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        if (this.fs.read(`${level}/${file}`).trim() !== "") continue;
        this.fs.write(`${level}/${file}`, this.fs.read(`${parent}/${file}`).trim());
      }
      parent = level;
    }
  }

  /** mkdir each level and enable the parent's controllers for it, as runc does. */
  private createV2(dir: string): void {
    let parent = this.mountpoints.unified ?? dir.slice(0, dir.lastIndexOf("/"));
    for (const level of this.levels("unified", dir)) {
      const available = this.fs.read(`${parent}/cgroup.controllers`).trim().split(/\s+/)
        .filter((c) => c !== "");
      if (available.length > 0) {
        const control = `${parent}/cgroup.subtree_control`;
        const all = available.map((c) => `+${c}`).join(" ");
        try {
          this.fs.write(control, all);
        } catch {
          // One refused controller (e.g. cpu with realtime tasks) must not block the others;
          // a resource that needs a missing controller is refused by name in apply().
          for (const c of available) {
            try {
              this.fs.write(control, `+${c}`);
            } catch { /* see above */ }
          }
        }
      }
      this.fs.mkdirAll(level);
      parent = level;
    }
  }

  apply(resources: LinuxResources | undefined): void {
    if (resources === undefined) return;
    if (this.mode !== "v2") {
      // Hybrid too: the v1 devices controller governs devices there, as with runc.
      executeWrites(
        this.fs,
        planV1Writes(resources, {
          paths: this.v1Paths(),
          fs: this.fs,
          hybrid: this.mode === "hybrid",
        }),
      );
      return;
    }
    executeWrites(this.fs, planV2Writes(resources, { dir: this.paths.unified, fs: this.fs }));
    if (resources.devices && resources.devices.length > 0) {
      this.attachDevices(this.paths.unified, resources.devices);
    }
  }

  addProcess(pid: number): void {
    for (const dir of this.dirs()) {
      try {
        this.fs.write(`${dir}/cgroup.procs`, String(pid));
      } catch (e) {
        throw new RuntsError(`cgroup: add pid ${pid} to ${dir}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
  }

  /** The directory whose cgroup.procs lists the container's processes. */
  private processDir(): string | undefined {
    if (this.mode === "v2") return this.paths.unified;
    for (const c of PROCESS_LIST_CONTROLLERS) if (this.paths[c]) return this.paths[c];
    return this.dirs()[0];
  }

  processes(): number[] {
    const root = this.processDir();
    if (root === undefined || !this.fs.exists(root)) return [];
    const pids = new Set<number>();
    const walk = (dir: string) => {
      let text = "";
      try {
        text = this.fs.read(`${dir}/cgroup.procs`);
      } catch (e) {
        if (!this.fs.exists(dir)) return; // removed while walking
        throw e;
      }
      for (const line of text.split("\n")) if (line.trim()) pids.add(Number(line));
      for (const sub of this.fs.subdirs(dir)) walk(`${dir}/${sub}`);
    };
    walk(root);
    return [...pids];
  }

  /** v1 freezer dir, or the cgroup2 dir when there is no v1 freezer. */
  private freezer(): { kind: "v1" | "v2"; dir: string } | undefined {
    if (this.mode !== "v2" && this.paths.freezer) return { kind: "v1", dir: this.paths.freezer };
    if (this.paths.unified && this.fs.exists(`${this.paths.unified}/cgroup.freeze`)) {
      return { kind: "v2", dir: this.paths.unified };
    }
    return undefined;
  }

  private requireFreezer(): { kind: "v1" | "v2"; dir: string } {
    const f = this.freezer();
    if (!f) {
      throw new RuntsError("cgroup: no freezer: neither a v1 freezer hierarchy nor cgroup.freeze");
    }
    return f;
  }

  freeze(): void {
    const f = this.requireFreezer();
    const deadline = performance.now() + FREEZE_TIMEOUT_MS;
    if (f.kind === "v1") {
      const file = `${f.dir}/freezer.state`;
      for (let attempt = 0;; attempt++) {
        // runc re-kicks the freezer now and then: a fork storm can keep it in FREEZING.
        if (attempt % 50 === 49) this.fs.write(file, "THAWED");
        this.fs.write(file, "FROZEN");
        const state = this.fs.read(file).trim();
        if (state === "FROZEN") return;
        if (performance.now() > deadline) break;
        sleepMs(1);
      }
      this.fs.write(file, "THAWED");
    } else {
      this.fs.write(`${f.dir}/cgroup.freeze`, "1");
      while (performance.now() <= deadline) {
        if (readKeyedValue(this.fs.read(`${f.dir}/cgroup.events`), "frozen") === "1") return;
        sleepMs(1);
      }
      this.fs.write(`${f.dir}/cgroup.freeze`, "0");
    }
    throw new RuntsError(`cgroup: ${f.dir} did not freeze within ${FREEZE_TIMEOUT_MS} ms`);
  }

  thaw(): void {
    const f = this.requireFreezer();
    if (f.kind === "v1") this.fs.write(`${f.dir}/freezer.state`, "THAWED");
    else this.fs.write(`${f.dir}/cgroup.freeze`, "0");
  }

  state(): FreezerState {
    const f = this.freezer();
    if (!f || !this.fs.exists(f.dir)) return "thawed";
    if (f.kind === "v1") {
      // FREEZING counts as thawed, as in runc: the freeze did not complete.
      return this.fs.read(`${f.dir}/freezer.state`).trim() === "FROZEN" ? "frozen" : "thawed";
    }
    return this.fs.read(`${f.dir}/cgroup.freeze`).trim() === "1" ? "frozen" : "thawed";
  }

  killAll(signal: number): void {
    const unified = this.paths.unified;
    if (signal === SIGKILL && unified && this.fs.exists(`${unified}/cgroup.kill`)) {
      // The kernel kills every member, forks included, atomically.
      this.fs.write(`${unified}/cgroup.kill`, "1");
      if (this.mode === "v2") return;
      // Hybrid: a process may sit only in the v1 hierarchies (joined by someone else).
      // No freeze here: v1-frozen tasks cannot die, so freezing dying ones would stall.
      for (const pid of this.processes()) signalProcess(pid, signal);
      return;
    }
    // Frozen processes cannot fork, so the list stays complete while we signal it.
    let frozen = false;
    const f = this.freezer();
    if (f && this.fs.exists(f.dir)) {
      try {
        this.freeze();
        frozen = true;
      } catch {
        // A cgroup that will not freeze still gets signalled (best effort, like runc).
      }
    }
    try {
      for (const pid of this.processes()) signalProcess(pid, signal);
    } finally {
      if (frozen) this.thaw();
    }
  }

  stats(): CgroupStats {
    if (this.mode === "v2") return readStatsV2(this.paths.unified, this.fs);
    return readStatsV1(this.v1Paths(), this.fs);
  }

  oomKillCount(): number {
    if (this.mode !== "v2" && this.paths.memory) {
      const file = `${this.paths.memory}/memory.oom_control`;
      if (!this.fs.exists(file)) return 0;
      return Number(readKeyedValue(this.fs.read(file), "oom_kill") ?? 0);
    }
    const dir = this.paths.unified;
    if (!dir || !this.fs.exists(`${dir}/memory.events`)) return 0;
    return Number(readKeyedValue(this.fs.read(`${dir}/memory.events`), "oom_kill") ?? 0);
  }

  destroy(): void {
    for (const dir of this.dirs()) removeCgroupTree(this.fs, dir);
  }

  toJSON(): SavedCgroup {
    const saved: SavedCgroup = { mode: this.mode, paths: { ...this.paths } };
    if (this.rootless) saved.rootless = true;
    return saved;
  }
}

/** Value of `key` in "key value" lines (memory.events, cgroup.events, memory.oom_control). */
export function readKeyedValue(text: string, key: string): string | undefined {
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key) return v;
  }
  return undefined;
}

/** rmdir a cgroup and its sub-cgroups, retrying while the kernel still reports it busy. */
export function removeCgroupTree(fs: CgroupFs, dir: string): void {
  for (const sub of fs.subdirs(dir)) removeCgroupTree(fs, `${dir}/${sub}`);
  let delay = 10;
  for (let attempt = 0;; attempt++) {
    try {
      fs.rmdir(dir);
      return;
    } catch (e) {
      // EBUSY right after the last process exits: the kernel frees the cgroup lazily.
      if (errorCode((e as Error).cause) !== "EBUSY" || attempt >= 5) throw e;
      sleepMs(delay);
      delay *= 2;
    }
  }
}

function mountpointsFor(host: CgroupHost): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [c, m] of host.v1Controllers) out[c] = m;
  if (host.unifiedMount) out.unified = host.unifiedMount;
  return out;
}

/** Connects to the system bus (replaced in unit tests). */
export type SystemdBusConnector = () => SystemdBus;

const connectSystemBus: SystemdBusConnector = () => DBusConnection.connect(systemBusSocketPath());

/**
 * The systemd driver: refused, naming the missing piece, when systemd is not the running init
 * (no /run/systemd/system, or RUNTS_SYSTEMD_RUNTIME_DIR for tests) or the system bus cannot be
 * reached; otherwise a manager whose unit is started at addProcess (see systemd.ts).
 */
function createSystemdManager(
  cfg: CgroupConfig,
  fs: CgroupFs,
  options: {
    host?: CgroupHost;
    attachDevices?: DeviceFilterInstaller;
    connectBus?: SystemdBusConnector;
    jobTimeoutMs?: number;
  },
): CgroupManager {
  const parsed = parseSystemdCgroupsPath(cfg.cgroupsPath ?? "", cfg.id);
  const unit = systemdUnitName(parsed);
  const cgPath = systemdCgroupPath(parsed);
  const runtimeDir = systemdRuntimeDir();
  if (!fs.exists(runtimeDir)) {
    throw new RuntsError(
      `cgroup: the systemd cgroup driver was requested (cgroupsPath ${
        JSON.stringify(cfg.cgroupsPath ?? "")
      }) but systemd is not running on this host (${runtimeDir} is missing); run without --systemd-cgroup`,
    );
  }
  if (cfg.rootless) {
    throw new RuntsError(
      "cgroup: --systemd-cgroup with rootless needs the user's systemd instance, which runts does not support",
    );
  }
  const connect = options.connectBus ?? connectSystemBus;
  let bus: SystemdBus;
  try {
    bus = connect();
  } catch (e) {
    throw new RuntsError(
      `cgroup: the systemd cgroup driver needs systemd's D-Bus API (unit ${unit}): ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
  const host = options.host ?? detectCgroupHost();
  return new SystemdCgroupManager(
    host.mode,
    hierarchyPaths(host, cgPath),
    { parsed, unit },
    connect,
    fs,
    mountpointsFor(host),
    options.attachDevices,
    bus,
    options.jobTimeoutMs,
  );
}

/** Build the manager for a new container (nothing is created until create()). */
export function createCgroupManager(
  cfg: CgroupConfig,
  options: {
    host?: CgroupHost;
    fs?: CgroupFs;
    attachDevices?: DeviceFilterInstaller;
    /** systemd driver only: how to reach the bus, and how long to wait for systemd's jobs. */
    connectBus?: SystemdBusConnector;
    jobTimeoutMs?: number;
  } = {},
): CgroupManager {
  const fs = options.fs ?? realCgroupFs;
  if (cfg.systemd) return createSystemdManager(cfg, fs, options);
  const host = options.host ?? detectCgroupHost();
  const inner = innerCgroupPath(cfg);
  return new FsCgroupManager(
    host.mode,
    hierarchyPaths(host, inner),
    fs,
    mountpointsFor(host),
    cfg.rootless,
    options.attachDevices,
  );
}

/** Reopen the manager of an existing container from its saved state. */
export function openCgroupManager(
  saved: SavedCgroup,
  options: {
    fs?: CgroupFs;
    attachDevices?: DeviceFilterInstaller;
    connectBus?: SystemdBusConnector;
    jobTimeoutMs?: number;
  } = {},
): CgroupManager {
  if (saved.systemdUnit !== undefined) {
    const { systemdUnit, ...rest } = saved;
    return new SystemdCgroupManager(
      rest.mode,
      { ...rest.paths },
      { unit: systemdUnit },
      options.connectBus ?? connectSystemBus,
      options.fs ?? realCgroupFs,
      {},
      options.attachDevices,
      undefined,
      options.jobTimeoutMs,
    );
  }
  return new FsCgroupManager(
    saved.mode,
    { ...saved.paths },
    options.fs ?? realCgroupFs,
    {},
    saved.rootless,
    options.attachDevices,
  );
}
