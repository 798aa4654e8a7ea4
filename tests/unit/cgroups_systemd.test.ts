/** The systemd driver's pure parts and its manager flow over a fake bus and an in-memory fs. */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { describeCgroupHost } from "../../src/cgroups/detect.ts";
import { createCgroupManager, openCgroupManager } from "../../src/cgroups/manager.ts";
import { MemCgroupFs } from "../../src/cgroups/memfs.ts";
import { DBusError, type Message, Variant } from "../../src/cgroups/dbus.ts";
import {
  cpuQuotaPerSecUSec,
  expandSlice,
  type SystemdBus,
  systemdCgroupPath,
  systemdUnitName,
  transientUnitProperties,
} from "../../src/cgroups/systemd.ts";
import { RuntsError } from "../../src/errors.ts";

const MAX = 0xffff_ffff_ffff_ffffn;

Deno.test("systemd: unit names as runc's getUnitName", () => {
  assertEquals(
    systemdUnitName({ slice: "system.slice", prefix: "runts", name: "c1" }),
    "runts-c1.scope",
  );
  assertEquals(
    systemdUnitName({ slice: "system.slice", prefix: "x", name: "box.slice" }),
    "box.slice",
  );
});

Deno.test("systemd: ExpandSlice", () => {
  assertEquals(expandSlice("-.slice"), "/");
  assertEquals(expandSlice("system.slice"), "/system.slice");
  assertEquals(expandSlice("a-b.slice"), "/a.slice/a-b.slice");
  assertEquals(expandSlice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
  for (const bad of ["a", ".slice", "a/b.slice", "a--b.slice", "-a.slice", "a-.slice", "a.scope"]) {
    assertThrows(() => expandSlice(bad), RuntsError, "invalid systemd slice name");
  }
});

Deno.test("systemd: the unit's cgroup path in every hierarchy", () => {
  assertEquals(
    systemdCgroupPath({ slice: "system.slice", prefix: "runts", name: "c1" }),
    "/system.slice/runts-c1.scope",
  );
  assertEquals(systemdCgroupPath({ slice: "-.slice", prefix: "p", name: "n" }), "/p-n.scope");
  assertEquals(
    systemdCgroupPath({ slice: "a-b.slice", prefix: "p", name: "n" }),
    "/a.slice/a-b.slice/p-n.scope",
  );
  assertEquals(
    systemdCgroupPath({ slice: "system.slice", prefix: "p", name: "x-y.slice" }),
    "/x.slice/x-y.slice",
  );
});

Deno.test("systemd: CPUQuotaPerSecUSec as runc (rounded up to 10 ms; no quota → infinity)", () => {
  assertEquals(cpuQuotaPerSecUSec(50_000, 100_000), 500_000n);
  assertEquals(cpuQuotaPerSecUSec(12_345, 100_000), 130_000n);
  assertEquals(cpuQuotaPerSecUSec(20_000, 0), 200_000n); // default period 100 ms
  assertEquals(cpuQuotaPerSecUSec(-1, 100_000), MAX);
  assertEquals(cpuQuotaPerSecUSec(0, 50_000), MAX);
});

Deno.test("systemd: StartTransientUnit properties (v1 and v2 names)", () => {
  const p = { slice: "system.slice", prefix: "runts", name: "c1" };
  const r = {
    memory: { limit: 1 << 20 },
    cpu: { shares: 512, quota: 50_000, period: 100_000 },
    blockIO: { weight: 500 },
    pids: { limit: -1 },
  };
  assertEquals(transientUnitProperties(p, 42, "hybrid", r), [
    ["Description", new Variant("s", "runts container c1")],
    ["Slice", new Variant("s", "system.slice")],
    ["Delegate", new Variant("b", true)],
    ["PIDs", new Variant("au", [42])],
    ["DefaultDependencies", new Variant("b", false)],
    ["MemoryAccounting", new Variant("b", true)],
    ["CPUAccounting", new Variant("b", true)],
    ["BlockIOAccounting", new Variant("b", true)],
    ["TasksAccounting", new Variant("b", true)],
    ["MemoryLimit", new Variant("t", 1048576n)],
    ["CPUShares", new Variant("t", 512n)],
    ["CPUQuotaPerSecUSec", new Variant("t", 500_000n)],
    ["BlockIOWeight", new Variant("t", 500n)],
    ["TasksMax", new Variant("t", MAX)],
  ]);
  const v2 = new Map(transientUnitProperties(p, 42, "v2", { ...r, pids: { limit: 10 } }));
  assertEquals(v2.get("MemoryMax"), new Variant("t", 1048576n));
  assertEquals(v2.get("CPUWeight"), new Variant("t", 20n)); // 1 + (510*9999)/262142
  assertEquals(v2.get("IOWeight"), new Variant("t", 4950n)); // 1 + (490*9999)/990
  assertEquals(v2.get("IOAccounting"), new Variant("b", true));
  assertEquals(v2.get("TasksMax"), new Variant("t", 10n));
  // Unset values and pids 0 send nothing (runc); a slice unit Wants= its parent.
  const none = new Map(
    transientUnitProperties({ ...p, name: "x.slice" }, 1, "v1", { pids: { limit: 0 } }),
  );
  assertEquals(none.get("Wants"), new Variant("s", "system.slice"));
  for (const k of ["Slice", "MemoryLimit", "CPUShares", "CPUQuotaPerSecUSec", "TasksMax"]) {
    assert(!none.has(k), k);
  }
});

// --- the manager over a fake bus ----------------------------------------------------------

const MOUNTINFO = `31 30 0:28 / /cg/cpu rw - cgroup cgroup rw,cpu
33 30 0:30 / /cg/cpuset rw - cgroup cgroup rw,cpuset
36 30 0:33 / /cg/freezer rw - cgroup cgroup rw,freezer
38 30 0:35 / /cg/pids rw - cgroup cgroup rw,pids
39 30 0:36 / /cg/systemd rw - cgroup cgroup rw,name=systemd
40 30 0:37 / /cg/unified rw - cgroup2 cgroup2 rw
`;
const host = () => describeCgroupHost(MOUNTINFO, "0::/\n", () => "");
const RUNTIME_DIR = "/fake-run/systemd/system";

function fakeFs(): MemCgroupFs {
  const fs = new MemCgroupFs({
    "/cg/cpuset/cpuset.cpus": "0-1\n",
    "/cg/cpuset/cpuset.mems": "0\n",
  });
  for (const c of ["cpu", "freezer", "pids", "systemd", "unified"]) fs.mkdirAll(`/cg/${c}`);
  fs.mkdirAll(RUNTIME_DIR);
  fs.templates.set("/cg/cpuset", { "cpuset.cpus": "\n", "cpuset.mems": "\n", "cgroup.procs": "" });
  fs.templates.set("/cg/pids", { "pids.max": "max\n", "cgroup.procs": "" });
  for (const c of ["cpu", "freezer", "systemd", "unified"]) {
    fs.templates.set(`/cg/${c}`, { "cgroup.procs": "" });
  }
  return fs;
}

/** A fake systemd: records calls; StartTransientUnit makes the managed hierarchies' dirs. */
class FakeBus implements SystemdBus {
  calls: { member?: string; body?: unknown[] }[] = [];
  closed = 0;
  jobResult = "done";
  signalTimeout = false;
  startError?: string;
  stopError?: string;
  private signals: Message[] = [];
  constructor(private readonly fs: MemCgroupFs) {}

  call(m: Omit<Message, "type" | "serial">): unknown[] {
    this.calls.push({ member: m.member, body: m.body });
    const job = `/org/freedesktop/systemd1/job/${this.calls.length}`;
    if (m.member === "StartTransientUnit") {
      if (this.startError) throw new DBusError(this.startError, "no", "Manager.StartTransientUnit");
      const unit = m.body![0] as string;
      for (const c of ["cpu", "pids", "systemd", "unified"]) {
        this.fs.mkdirAll(`/cg/${c}/system.slice/${unit}`);
      }
      this.signals.push(jobRemoved(job, unit, this.jobResult));
      return [job];
    }
    if (m.member === "StopUnit") {
      if (this.stopError) throw new DBusError(this.stopError, "not loaded", "Manager.StopUnit");
      this.signals.push(jobRemoved(job, m.body![0] as string, "done"));
      return [job];
    }
    return [];
  }
  addMatch(rule: string): void {
    this.calls.push({ member: "AddMatch", body: [rule] });
  }
  waitForSignal(match: (m: Message) => boolean, _timeoutMs: number, what: string): Message {
    const m = this.signals.find(match);
    if (!m || this.signalTimeout) throw new RuntsError(`dbus: timed out waiting for ${what}`);
    return m;
  }
  close(): void {
    this.closed++;
  }
}

function jobRemoved(job: string, unit: string, result: string): Message {
  return {
    type: "signal",
    serial: 1,
    path: "/org/freedesktop/systemd1",
    interface: "org.freedesktop.systemd1.Manager",
    member: "JobRemoved",
    signature: "uoss",
    body: [1, job, unit, result],
  };
}

function withRuntimeDir<T>(fn: () => T): T {
  const old = Deno.env.get("RUNTS_SYSTEMD_RUNTIME_DIR");
  Deno.env.set("RUNTS_SYSTEMD_RUNTIME_DIR", RUNTIME_DIR);
  try {
    return fn();
  } finally {
    if (old === undefined) Deno.env.delete("RUNTS_SYSTEMD_RUNTIME_DIR");
    else Deno.env.set("RUNTS_SYSTEMD_RUNTIME_DIR", old);
  }
}

const cfg = { id: "c1", systemd: true, rootless: false, cgroupsPath: "system.slice:runts:c1" };

Deno.test("systemd manager: unit started at addProcess, then cgroupfs joins and writes", () => {
  withRuntimeDir(() => {
    const fs = fakeFs();
    const bus = new FakeBus(fs);
    const m = createCgroupManager(cfg, { host: host(), fs, connectBus: () => bus });
    assertEquals(m.paths.pids, "/cg/pids/system.slice/runts-c1.scope");
    assertEquals(m.paths.unified, "/cg/unified/system.slice/runts-c1.scope");
    m.create();
    m.apply({ pids: { limit: 5 } });
    assertEquals(bus.calls.length, 0); // nothing before the pid exists
    assert(!fs.exists(m.paths.pids));
    m.addProcess(4242);
    assertEquals(bus.calls.map((c) => c.member), ["AddMatch", "Subscribe", "StartTransientUnit"]);
    assert(String(bus.calls[0].body![0]).includes("member='JobRemoved'"));
    const start = bus.calls[2].body!;
    assertEquals(start[0], "runts-c1.scope");
    assertEquals(start[1], "replace");
    const props = new Map(start[2] as [string, Variant][]);
    assertEquals(props.get("PIDs"), new Variant("au", [4242]));
    assertEquals(props.get("TasksMax"), new Variant("t", 5n));
    assertEquals(bus.closed, 1);
    // cpuset and freezer (not systemd's) were made by runts, the pid written everywhere.
    assertEquals(fs.read("/cg/cpuset/system.slice/runts-c1.scope/cpuset.cpus"), "0-1");
    for (const dir of Object.values(m.paths)) assertEquals(fs.read(`${dir}/cgroup.procs`), "4242");
    assertEquals(fs.read("/cg/pids/system.slice/runts-c1.scope/pids.max"), "5");
    // Round trip through the state dir: same paths, same unit.
    const saved = JSON.parse(JSON.stringify(m.toJSON()));
    assertEquals(saved.systemdUnit, "runts-c1.scope");
    const bus2 = new FakeBus(fs);
    const again = openCgroupManager(saved, { fs, connectBus: () => bus2 });
    assertEquals(again.paths, m.paths);
    assertEquals(again.toJSON(), saved);
    again.apply({ pids: { limit: 7 } }); // started already: straight to cgroupfs
    assertEquals(fs.read("/cg/pids/system.slice/runts-c1.scope/pids.max"), "7");
    for (const dir of Object.values(m.paths)) fs.setFile(`${dir}/cgroup.procs`, "");
    again.destroy();
    assertEquals(bus2.calls.map((c) => c.member), ["AddMatch", "Subscribe", "StopUnit"]);
    assertEquals(bus2.calls[2].body, ["runts-c1.scope", "replace"]);
    for (const dir of Object.values(m.paths)) assert(!fs.exists(dir), dir);
  });
});

Deno.test("systemd manager: failures name systemd's job or error", () => {
  withRuntimeDir(() => {
    const fs = fakeFs();
    const bus = new FakeBus(fs);
    bus.jobResult = "failed";
    const m = createCgroupManager(cfg, { host: host(), fs, connectBus: () => bus });
    assertThrows(
      () => m.addProcess(1),
      RuntsError,
      "failed to start unit runts-c1.scope: job result failed",
    );
    const slow = new FakeBus(fs);
    slow.signalTimeout = true;
    const m2 = createCgroupManager(cfg, {
      host: host(),
      fs,
      connectBus: () => slow,
      jobTimeoutMs: 5,
    });
    assertThrows(() => m2.addProcess(1), RuntsError, "did not finish the start job");
    const refused = new FakeBus(fs);
    refused.startError = "org.freedesktop.DBus.Error.AccessDenied";
    const m3 = createCgroupManager(cfg, { host: host(), fs, connectBus: () => refused });
    assertThrows(() => m3.addProcess(1), RuntsError, "org.freedesktop.DBus.Error.AccessDenied");
  });
});

Deno.test("systemd manager: a unit already gone is fine for destroy; never-started closes the bus", () => {
  withRuntimeDir(() => {
    const fs = fakeFs();
    const bus = new FakeBus(fs);
    bus.stopError = "org.freedesktop.systemd1.NoSuchUnit";
    const saved = {
      mode: "hybrid" as const,
      paths: { pids: "/cg/pids/x" },
      systemdUnit: "p-x.scope",
    };
    openCgroupManager(saved, { fs, connectBus: () => bus }).destroy();
    assertEquals(bus.closed, 1);
    const unused = new FakeBus(fs);
    createCgroupManager(cfg, { host: host(), fs, connectBus: () => unused }).destroy();
    assertEquals(unused.calls, []);
    assertEquals(unused.closed, 1);
  });
});

Deno.test("systemd manager: refused naming the missing piece", () => {
  const fs = fakeFs();
  withRuntimeDir(() => {
    assertThrows(
      () =>
        createCgroupManager(cfg, {
          host: host(),
          fs,
          connectBus: () => {
            throw new RuntsError(
              "dbus: cannot connect to the system bus at /nope: connect: ENOENT",
            );
          },
        }),
      RuntsError,
      "needs systemd's D-Bus API (unit runts-c1.scope): dbus: cannot connect to the system bus at /nope",
    );
    assertThrows(
      () =>
        createCgroupManager({ ...cfg, rootless: true }, {
          host: host(),
          fs,
          connectBus: () => new FakeBus(fs),
        }),
      RuntsError,
      "rootless",
    );
  });
  const old = Deno.env.get("RUNTS_SYSTEMD_RUNTIME_DIR");
  Deno.env.set("RUNTS_SYSTEMD_RUNTIME_DIR", "/fake-run/none");
  try {
    assertThrows(
      () => createCgroupManager(cfg, { host: host(), fs, connectBus: () => new FakeBus(fs) }),
      RuntsError,
      "systemd is not running on this host (/fake-run/none is missing)",
    );
  } finally {
    if (old === undefined) Deno.env.delete("RUNTS_SYSTEMD_RUNTIME_DIR");
    else Deno.env.set("RUNTS_SYSTEMD_RUNTIME_DIR", old);
  }
});
