import { assert, assertEquals, assertThrows } from "./assert.ts";
import { describeCgroupHost } from "../../src/cgroups/detect.ts";
import { createCgroupManager, openCgroupManager } from "../../src/cgroups/manager.ts";
import { MemCgroupFs } from "../../src/cgroups/memfs.ts";
import { RuntsError } from "../../src/errors.ts";

const MOUNTINFO = `31 30 0:28 / /cg/cpu rw - cgroup cgroup rw,cpu
33 30 0:30 / /cg/cpuset rw - cgroup cgroup rw,cpuset
34 30 0:31 / /cg/memory rw - cgroup cgroup rw,memory
36 30 0:33 / /cg/freezer rw - cgroup cgroup rw,freezer
38 30 0:35 / /cg/pids rw - cgroup cgroup rw,pids
40 30 0:37 / /cg/unified rw - cgroup2 cgroup2 rw
`;

function hybridFs(): MemCgroupFs {
  const fs = new MemCgroupFs({
    "/cg/cpuset/cpuset.cpus": "0-1\n",
    "/cg/cpuset/cpuset.mems": "0\n",
    "/cg/unified/cgroup.controllers": "hugetlb\n",
  });
  for (const c of ["cpu", "memory", "freezer", "pids", "unified"]) fs.mkdirAll(`/cg/${c}`);
  fs.templates.set("/cg/cpuset", { "cpuset.cpus": "\n", "cpuset.mems": "\n", "cgroup.procs": "" });
  fs.templates.set("/cg/freezer", { "freezer.state": "THAWED\n", "cgroup.procs": "" });
  fs.templates.set("/cg/pids", { "pids.max": "max\n", "pids.current": "0\n", "cgroup.procs": "" });
  fs.templates.set("/cg/memory", { "memory.oom_control": "oom_kill 0\n", "cgroup.procs": "" });
  fs.templates.set("/cg/cpu", { "cgroup.procs": "" });
  fs.templates.set("/cg/unified", {
    "cgroup.procs": "",
    "cgroup.freeze": "0\n",
    "cgroup.kill": "",
    "cgroup.events": "populated 0\nfrozen 0\n",
  });
  return fs;
}

const host = () => describeCgroupHost(MOUNTINFO, "0::/\n", () => "hugetlb");
const cfg = { id: "c1", systemd: false, rootless: false, defaultParent: "runts-t" };

Deno.test("create: mkdir every hierarchy, copy parent cpus/mems into each new cpuset level", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  assertEquals(m.paths.unified, "/cg/unified/runts-t/c1");
  for (const dir of Object.values(m.paths)) assert(fs.dirs.has(dir), dir);
  assertEquals(fs.read("/cg/cpuset/runts-t/cpuset.cpus"), "0-1");
  assertEquals(fs.read("/cg/cpuset/runts-t/c1/cpuset.cpus"), "0-1");
  assertEquals(fs.read("/cg/cpuset/runts-t/c1/cpuset.mems"), "0");
  // Hybrid: no controllers enabled in the unified tree.
  assert(!fs.writes.some(([p]) => p.endsWith("cgroup.subtree_control")));
});

Deno.test("create on v2 enables the parent's controllers at each level", () => {
  const fs = new MemCgroupFs({
    "/cg2/cgroup.controllers": "cpu memory pids\n",
    "/cg2/cgroup.subtree_control": "",
  });
  fs.templates.set("/cg2", { "cgroup.controllers": "memory pids\n", "cgroup.subtree_control": "" });
  fs.failures.set("/cg2/runts-t/cgroup.subtree_control", "EBUSY");
  const v2host = describeCgroupHost("1 0 0:1 / /cg2 rw - cgroup2 cgroup2 rw\n", "0::/\n", () => "");
  const m = createCgroupManager(cfg, { host: v2host, fs });
  m.create();
  assertEquals(fs.writes, [["/cg2/cgroup.subtree_control", "+cpu +memory +pids"]]);
  assert(fs.dirs.has("/cg2/runts-t/c1"));
});

Deno.test("addProcess, processes (recursive), freeze/thaw/state through the v1 freezer", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  m.addProcess(42);
  const procsWritten = fs.writes.filter(([p]) => p.endsWith("cgroup.procs")).map(([p]) => p);
  assertEquals(procsWritten.length, 6); // cpu, cpuset, memory, freezer, pids, unified
  fs.mkdirAll("/cg/pids/runts-t/c1/sub");
  fs.files.set("/cg/pids/runts-t/c1/sub/cgroup.procs", "43\n");
  assertEquals(m.processes().sort(), [42, 43]);
  assertEquals(m.state(), "thawed");
  m.freeze();
  assertEquals(fs.read("/cg/freezer/runts-t/c1/freezer.state"), "FROZEN");
  assertEquals(m.state(), "frozen");
  m.thaw();
  assertEquals(m.state(), "thawed");
});

Deno.test("killAll(SIGKILL) on hybrid uses cgroup.kill without freezing", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  m.killAll(9);
  assertEquals(
    fs.writes.some(([p, d]) => p === "/cg/unified/runts-t/c1/cgroup.kill" && d === "1"),
    true,
  );
  // v1-frozen tasks cannot die: no freeze around a SIGKILL.
  assertEquals(fs.writes.filter(([p]) => p.endsWith("freezer.state")), []);
});

Deno.test("killAll(other signals) freezes, signals, thaws", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  m.killAll(15);
  assert(!fs.writes.some(([p]) => p.endsWith("cgroup.kill")));
  const states = fs.writes.filter(([p]) => p.endsWith("freezer.state")).map(([, d]) => d);
  assertEquals(states, ["FROZEN", "THAWED"]);
});

Deno.test("oomKillCount reads memory.oom_control on v1", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  fs.files.set(
    "/cg/memory/runts-t/c1/memory.oom_control",
    "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
  );
  assertEquals(m.oomKillCount(), 3);
});

Deno.test("toJSON / openCgroupManager round trip; destroy removes sub-cgroups and is idempotent", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  fs.mkdirAll("/cg/memory/runts-t/c1/nested");
  const saved = JSON.parse(JSON.stringify(m.toJSON()));
  assertEquals(saved.mode, "hybrid");
  const reopened = openCgroupManager(saved, { fs });
  assertEquals(reopened.paths, m.paths);
  reopened.destroy();
  for (const dir of Object.values(m.paths)) assert(!fs.dirs.has(dir), dir);
  assert(fs.dirs.has("/cg/memory/runts-t"), "the parent stays");
  reopened.destroy();
});

Deno.test("destroy retries EBUSY and then reports it", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  fs.failures.set("/cg/pids/runts-t/c1", "EBUSY");
  assertThrows(() => m.destroy(), RuntsError, "EBUSY");
});

Deno.test("apply refuses before writing anything", () => {
  const fs = hybridFs();
  const m = createCgroupManager(cfg, { host: host(), fs });
  m.create();
  const before = fs.writes.length;
  assertThrows(
    () => m.apply({ pids: { limit: 3 }, unified: { "hugetlb.2MB.max": "0" } }),
    RuntsError,
    "/linux/resources/unified: not supported on cgroup v1",
  );
  assertEquals(fs.writes.length, before);
  fs.setFile("/cg/pids/runts-t/c1/pids.max", "max");
  m.apply({ pids: { limit: 3 } });
  assertEquals(fs.read("/cg/pids/runts-t/c1/pids.max"), "3");
});

Deno.test("systemd driver: refused with a clear error when systemd is not running", () => {
  const fs = hybridFs();
  assertThrows(
    () =>
      createCgroupManager({ ...cfg, systemd: true, cgroupsPath: "system.slice:runts:c1" }, {
        host: host(),
        fs,
      }),
    RuntsError,
    "systemd is not running on this host",
  );
  assertThrows(
    () => createCgroupManager({ ...cfg, systemd: true, cgroupsPath: "/bad" }, { host: host(), fs }),
    RuntsError,
    "slice:prefix:name",
  );
});

Deno.test("rootless on v1: hierarchies we may not write to are dropped", () => {
  const fs = hybridFs();
  fs.failures.set("/cg/memory/runts-t/c1", "EACCES");
  const origMkdir = fs.mkdirAll.bind(fs);
  fs.mkdirAll = (path: string) => {
    if (path.startsWith("/cg/memory/")) {
      throw new RuntsError("mkdir", { cause: { code: "EACCES" } });
    }
    origMkdir(path);
  };
  const m = createCgroupManager({ ...cfg, rootless: true }, { host: host(), fs });
  m.create();
  assertEquals(m.paths.memory, undefined);
  assertThrows(
    () => m.apply({ memory: { limit: 100 } }),
    RuntsError,
    "memory cgroup controller is not mounted",
  );
});
