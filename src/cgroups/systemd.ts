/**
 * The systemd cgroup driver (`--systemd-cgroup`), with runc's semantics:
 *
 * - cgroupsPath `slice:prefix:name` → unit `<prefix>-<name>.scope` in `slice` (default
 *   system.slice; `-.slice` is the root slice); a name ending in `.slice` is itself the unit (a
 *   slice, which `Wants=` the parent).
 * - The unit is made with `StartTransientUnit(unit, "replace", props, [])` over D-Bus, and runts
 *   waits for the `JobRemoved` signal of the returned job. props: Description, Slice (or Wants),
 *   Delegate, PIDs=[pid], DefaultDependencies=false, the accounting switches and the resource
 *   properties runc sets (v1: MemoryLimit, CPUShares, CPUQuotaPerSecUSec, BlockIOWeight,
 *   TasksMax; v2: MemoryMax, CPUWeight, CPUQuotaPerSecUSec, IOWeight, TasksMax).
 * - The unit's cgroup in each hierarchy is `<mount>/<expanded slice>/<unit>` (`a-b.slice` →
 *   `/a.slice/a-b.slice`). Hierarchies systemd does not manage (cpuset, freezer on v1) get the
 *   same directory made by runts, as runc's "join" does; every resource is then written through
 *   the cgroupfs code as well (as runc does after StartTransientUnit).
 * - **Creation happens in `addProcess(pid)`**: systemd needs the pid when the unit starts. The
 *   core calls addProcess at the SETUP sync, before the child does anything, so the order is
 *   unchanged for the container; `create()` makes nothing and `apply()` before addProcess is
 *   kept and written right after the unit exists (so its refusals come after the launch).
 * - `destroy()`: `StopUnit(unit, "replace")` (a unit already gone is fine), wait for its job, then
 *   rmdir whatever is left (the hierarchies runts made itself).
 * - Not done: `update` writes cgroupfs only (no SetUnitProperties), no DeviceAllow properties
 *   (devices go through the v1 devices controller / eBPF as with cgroupfs), no systemd version
 *   probing (CPUQuotaPeriodUSec, AllowedCPUs are not sent), pid 1's own cgroup is assumed to be
 *   the hierarchy root (runc strips an init.scope prefix).
 */
import { RuntsError } from "../errors.ts";
import type { LinuxResources } from "../spec/types.ts";
import { type DBusConnection, DBusError, type Message, Variant } from "./dbus.ts";
import type { CgroupFs } from "./fs.ts";
import { type DeviceFilterInstaller, FsCgroupManager, removeCgroupTree } from "./manager.ts";
import type { SystemdCgroupsPath } from "./path.ts";
import type { CgroupManager, CgroupMode, CgroupStats, FreezerState, SavedCgroup } from "./types.ts";

export const SYSTEMD_DEST = "org.freedesktop.systemd1";
export const SYSTEMD_PATH = "/org/freedesktop/systemd1";
export const SYSTEMD_MANAGER = "org.freedesktop.systemd1.Manager";

/** systemd's directory that exists only when systemd is the running init (sd_booted). */
export function systemdRuntimeDir(): string {
  return Deno.env.get("RUNTS_SYSTEMD_RUNTIME_DIR") || "/run/systemd/system";
}

/** How long runts waits for systemd's job (runc: 30 s). */
const JOB_TIMEOUT_MS = 30_000;

/** USEC_INFINITY / "no limit" of systemd's uint64 properties. */
const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

/** The bus operations the driver uses (DBusConnection; a fake in unit tests). */
export type SystemdBus = Pick<DBusConnection, "call" | "addMatch" | "waitForSignal" | "close">;

/** runc's getUnitName: `<prefix>-<name>.scope`, or the name itself when it is a slice. */
export function systemdUnitName(p: SystemdCgroupsPath): string {
  if (p.name.endsWith(".slice")) return p.name;
  return `${p.prefix}-${p.name}.scope`;
}

/** runc's ExpandSlice: "a-b.slice" → "/a.slice/a-b.slice"; "-.slice" → "/". */
export function expandSlice(slice: string): string {
  const suffix = ".slice";
  const invalid = () =>
    new RuntsError(`cgroup: invalid systemd slice name ${JSON.stringify(slice)}`);
  if (slice.length < suffix.length || !slice.endsWith(suffix) || slice.includes("/")) {
    throw invalid();
  }
  const base = slice.slice(0, -suffix.length);
  if (base === "-") return "/";
  let path = "";
  let prefix = "";
  for (const component of base.split("-")) {
    if (component === "") throw invalid();
    path += "/" + prefix + component + suffix;
    prefix += component + "-";
  }
  return path;
}

/** The unit's cgroup path inside every hierarchy ("/system.slice/runts-c1.scope"). */
export function systemdCgroupPath(p: SystemdCgroupsPath): string {
  const unit = systemdUnitName(p);
  if (unit.endsWith(".slice")) return expandSlice(unit);
  const slice = expandSlice(p.slice);
  return (slice === "/" ? "" : slice) + "/" + unit;
}

/** runc's CPUQuotaPerSecUSec: quota per second of CPU, rounded up to 10 ms; -1 → infinity. */
export function cpuQuotaPerSecUSec(quota: number, period: number): bigint {
  if (quota <= 0) return UINT64_MAX;
  const p = BigInt(period === 0 ? 100_000 : period);
  let perSec = (BigInt(quota) * 1_000_000n) / p;
  if (perSec % 10_000n !== 0n) perSec = (perSec / 10_000n + 1n) * 10_000n;
  return perSec;
}

/** A number that may be -1 ("unlimited") as systemd's uint64 (runc: uint64(-1)). */
function u64(v: number): bigint {
  return v < 0 ? UINT64_MAX : BigInt(v);
}

/** runc's shares → weight conversion (cgroup v2). */
function cpuSharesToWeight(shares: number): bigint {
  return BigInt(1 + Math.floor(((shares - 2) * 9999) / 262142));
}

/** The `a(sv)` properties of StartTransientUnit, in runc's order. */
export function transientUnitProperties(
  p: SystemdCgroupsPath,
  pid: number,
  mode: CgroupMode,
  resources: LinuxResources | undefined,
): [string, Variant][] {
  const unit = systemdUnitName(p);
  const props: [string, Variant][] = [
    ["Description", new Variant("s", `runts container ${p.name}`)],
  ];
  if (unit.endsWith(".slice")) props.push(["Wants", new Variant("s", p.slice)]);
  else props.push(["Slice", new Variant("s", p.slice)]);
  props.push(
    ["Delegate", new Variant("b", true)],
    ["PIDs", new Variant("au", [pid])],
    ["DefaultDependencies", new Variant("b", false)],
    ["MemoryAccounting", new Variant("b", true)],
    ["CPUAccounting", new Variant("b", true)],
    [mode === "v2" ? "IOAccounting" : "BlockIOAccounting", new Variant("b", true)],
    ["TasksAccounting", new Variant("b", true)],
  );
  const r = resources ?? {};
  const t = (name: string, v: bigint) => props.push([name, new Variant("t", v)]);
  const memory = r.memory?.limit ?? 0;
  if (memory !== 0) t(mode === "v2" ? "MemoryMax" : "MemoryLimit", u64(memory));
  const shares = r.cpu?.shares ?? 0;
  if (shares !== 0) {
    if (mode === "v2") t("CPUWeight", cpuSharesToWeight(shares));
    else t("CPUShares", BigInt(shares));
  }
  const quota = r.cpu?.quota ?? 0;
  const period = r.cpu?.period ?? 0;
  if (quota !== 0 || period !== 0) t("CPUQuotaPerSecUSec", cpuQuotaPerSecUSec(quota, period));
  const weight = r.blockIO?.weight ?? 0;
  if (weight !== 0) {
    if (mode === "v2") t("IOWeight", BigInt(1 + Math.floor(((weight - 10) * 9999) / 990)));
    else t("BlockIOWeight", BigInt(weight));
  }
  const pids = r.pids?.limit;
  if (pids !== undefined && (pids > 0 || pids === -1)) t("TasksMax", u64(pids));
  return props;
}

export interface SystemdUnit {
  /** The parsed cgroupsPath; absent when reopened from the state (only the unit is kept). */
  parsed?: SystemdCgroupsPath;
  unit: string;
}

/**
 * One cgroup manager over a systemd unit; cgroupfs (an FsCgroupManager it holds, not extends:
 * manager.ts imports this module) for everything after the unit exists.
 */
export class SystemdCgroupManager implements CgroupManager {
  private started: boolean;
  private pending: LinuxResources | undefined;
  private readonly fsm: FsCgroupManager;

  constructor(
    mode: CgroupMode,
    paths: Record<string, string>,
    private readonly unitInfo: SystemdUnit,
    /** Opens a bus connection (connected and authenticated). */
    private readonly connect: () => SystemdBus,
    private readonly cgfs: CgroupFs,
    mountpoints: Record<string, string> = {},
    attachDevices?: DeviceFilterInstaller,
    /** A bus already opened by createCgroupManager (checked up front); used once. */
    private bus?: SystemdBus,
    readonly jobTimeoutMs = JOB_TIMEOUT_MS,
  ) {
    this.fsm = new FsCgroupManager(mode, paths, cgfs, mountpoints, false, attachDevices);
    // Reopened from the state dir: the unit exists already.
    this.started = unitInfo.parsed === undefined;
  }

  get mode(): CgroupMode {
    return this.fsm.mode;
  }

  get paths(): Record<string, string> {
    return this.fsm.paths;
  }

  get unit(): string {
    return this.unitInfo.unit;
  }

  private takeBus(): SystemdBus {
    const bus = this.bus ?? this.connect();
    this.bus = undefined;
    return bus;
  }

  /** Nothing to make yet: systemd makes the unit's cgroups when it gets the pid (addProcess). */
  create(): void {}

  apply(resources: LinuxResources | undefined): void {
    if (this.started) return this.fsm.apply(resources);
    if (resources !== undefined) this.pending = { ...this.pending, ...resources };
  }

  addProcess(pid: number): void {
    if (this.started) return this.fsm.addProcess(pid);
    const bus = this.takeBus();
    try {
      this.startUnit(bus, pid);
    } finally {
      bus.close();
    }
    this.started = true;
    // Hierarchies systemd does not manage (cpuset, freezer on v1): runts joins them itself;
    // writing the pid where systemd already put it is harmless.
    this.fsm.create();
    this.fsm.addProcess(pid);
    const pending = this.pending;
    this.pending = undefined;
    this.fsm.apply(pending);
  }

  private startUnit(bus: SystemdBus, pid: number): void {
    const parsed = this.unitInfo.parsed!;
    const unit = this.unit;
    subscribeJobs(bus);
    let job: string;
    try {
      [job] = bus.call({
        destination: SYSTEMD_DEST,
        path: SYSTEMD_PATH,
        interface: SYSTEMD_MANAGER,
        member: "StartTransientUnit",
        signature: "ssa(sv)a(sa(sv))",
        body: [unit, "replace", transientUnitProperties(parsed, pid, this.mode, this.pending), []],
      }) as [string];
    } catch (e) {
      // runc: a unit that exists already is fine (the pid is added through cgroupfs).
      if (e instanceof DBusError && e.dbusName === "org.freedesktop.systemd1.UnitExists") {
        this.started = true;
        return;
      }
      throw new RuntsError(
        `cgroup: systemd could not start unit ${unit}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    // The unit may exist from here on, even if its job fails: destroy() must stop it.
    this.started = true;
    const result = waitForJob(bus, job, unit, "start", this.jobTimeoutMs);
    if (result !== "done") {
      throw new RuntsError(`cgroup: systemd failed to start unit ${unit}: job result ${result}`);
    }
  }

  processes(): number[] {
    return this.fsm.processes();
  }

  freeze(): void {
    this.fsm.freeze();
  }

  thaw(): void {
    this.fsm.thaw();
  }

  state(): FreezerState {
    return this.fsm.state();
  }

  killAll(signal: number): void {
    this.fsm.killAll(signal);
  }

  stats(): CgroupStats {
    return this.fsm.stats();
  }

  oomKillCount(): number {
    return this.fsm.oomKillCount();
  }

  destroy(): void {
    if (this.started) {
      const bus = this.takeBus();
      try {
        stopUnit(bus, this.unit, this.jobTimeoutMs);
      } finally {
        bus.close();
      }
    } else {
      this.bus?.close();
      this.bus = undefined;
    }
    for (const dir of new Set(Object.values(this.paths))) {
      if (this.cgfs.exists(dir)) removeCgroupTree(this.cgfs, dir);
    }
  }

  toJSON(): SavedCgroup {
    return { ...this.fsm.toJSON(), systemdUnit: this.unit };
  }
}

/** AddMatch for JobRemoved, and Manager.Subscribe (systemd signals only subscribers). */
function subscribeJobs(bus: SystemdBus): void {
  bus.addMatch(
    `type='signal',sender='${SYSTEMD_DEST}',path='${SYSTEMD_PATH}',` +
      `interface='${SYSTEMD_MANAGER}',member='JobRemoved'`,
  );
  bus.call({
    destination: SYSTEMD_DEST,
    path: SYSTEMD_PATH,
    interface: SYSTEMD_MANAGER,
    member: "Subscribe",
  });
}

/** Wait for JobRemoved(id, job, unit, result) of `job`; returns the result ("done", ...). */
function waitForJob(
  bus: SystemdBus,
  job: string,
  unit: string,
  what: string,
  timeoutMs: number,
): string {
  const isOurs = (m: Message) =>
    m.interface === SYSTEMD_MANAGER && m.member === "JobRemoved" && m.body?.[1] === job;
  try {
    const m = bus.waitForSignal(isOurs, timeoutMs, `JobRemoved of ${job}`);
    return String(m.body?.[3]);
  } catch (e) {
    throw new RuntsError(
      `cgroup: systemd did not finish the ${what} job ${job} of unit ${unit} within ${timeoutMs} ms: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
}

/** StopUnit(unit, "replace") and wait for its job; a unit that does not exist is fine. */
function stopUnit(bus: SystemdBus, unit: string, timeoutMs: number): void {
  subscribeJobs(bus);
  let job: string;
  try {
    [job] = bus.call({
      destination: SYSTEMD_DEST,
      path: SYSTEMD_PATH,
      interface: SYSTEMD_MANAGER,
      member: "StopUnit",
      signature: "ss",
      body: [unit, "replace"],
    }) as [string];
  } catch (e) {
    if (e instanceof DBusError && e.dbusName === "org.freedesktop.systemd1.NoSuchUnit") return;
    throw new RuntsError(`cgroup: systemd could not stop unit ${unit}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const result = waitForJob(bus, job, unit, "stop", timeoutMs);
  if (result !== "done") {
    throw new RuntsError(`cgroup: systemd failed to stop unit ${unit}: job result ${result}`);
  }
}
