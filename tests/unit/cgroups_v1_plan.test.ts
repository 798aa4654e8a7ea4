import { assertEquals, assertThrows } from "./assert.ts";
import { MemCgroupFs } from "../../src/cgroups/memfs.ts";
import { effectiveDeviceRules } from "../../src/cgroups/devices.ts";
import { executeWrites, UnsupportedResourcesError } from "../../src/cgroups/plan.ts";
import { planV1Writes } from "../../src/cgroups/v1.ts";
import { RuntsError } from "../../src/errors.ts";

const C = "/cg";
const PATHS = {
  cpu: `${C}/cpu/x`,
  cpuset: `${C}/cpuset/x`,
  memory: `${C}/memory/x`,
  devices: `${C}/devices/x`,
  pids: `${C}/pids/x`,
  blkio: `${C}/blkio/x`,
};

function hostFs(): MemCgroupFs {
  const files: Record<string, string> = {};
  const add = (c: keyof typeof PATHS, names: string[], value = "0\n") => {
    for (const n of names) files[`${PATHS[c]}/${n}`] = value;
  };
  add("memory", [
    "memory.limit_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.soft_limit_in_bytes",
    "memory.kmem.limit_in_bytes",
    "memory.kmem.tcp.limit_in_bytes",
    "memory.swappiness",
    "memory.oom_control",
  ]);
  files[`${PATHS.memory}/memory.limit_in_bytes`] = "9223372036854771712\n";
  add("cpu", [
    "cpu.shares",
    "cpu.cfs_quota_us",
    "cpu.cfs_period_us",
    "cpu.cfs_burst_us",
    "cpu.rt_runtime_us",
    "cpu.rt_period_us",
    "cpu.idle",
  ]);
  add("cpuset", ["cpuset.cpus", "cpuset.mems"]);
  add("devices", ["devices.allow", "devices.deny"]);
  add("pids", ["pids.max"]);
  add("blkio", ["blkio.throttle.read_bps_device", "blkio.throttle.write_iops_device"]);
  return new MemCgroupFs(files);
}

Deno.test("v1 devices: runc's default config gives deny-all, then the default allow list in order", () => {
  const fs = hostFs();
  const rules = effectiveDeviceRules([{ allow: false, access: "rwm" }], [
    { type: "c", path: "/dev/fuse", major: 10, minor: 229 },
  ]);
  const writes = planV1Writes({ devices: rules }, { paths: PATHS, fs });
  assertEquals(writes.map((w) => `${w.file} ${w.value}`), [
    "devices.deny a",
    "devices.allow c *:* m",
    "devices.allow b *:* m",
    "devices.allow c 1:3 rwm",
    "devices.allow c 1:8 rwm",
    "devices.allow c 1:7 rwm",
    "devices.allow c 5:0 rwm",
    "devices.allow c 1:5 rwm",
    "devices.allow c 1:9 rwm",
    "devices.allow c 136:* rwm",
    "devices.allow c 5:2 rwm",
    "devices.allow c 10:200 rwm",
    "devices.allow c 10:229 rwm",
  ]);
  assertEquals(writes[0].field, "/linux/resources/devices/0");
});

Deno.test("v1 memory: raising limits writes memsw first (kernel keeps limit <= memsw)", () => {
  const fs = hostFs();
  fs.files.set(`${PATHS.memory}/memory.limit_in_bytes`, "1000\n");
  const w = planV1Writes({ memory: { limit: 2000, swap: 4000 } }, { paths: PATHS, fs });
  assertEquals(w.map((x) => `${x.file}=${x.value}`), [
    "memory.memsw.limit_in_bytes=4000",
    "memory.limit_in_bytes=2000",
  ]);
});

Deno.test("v1 memory: lowering limits writes the memory limit first", () => {
  const fs = hostFs();
  fs.files.set(`${PATHS.memory}/memory.limit_in_bytes`, "100000\n");
  const w = planV1Writes({ memory: { limit: 2000, swap: 4000 } }, { paths: PATHS, fs });
  assertEquals(w.map((x) => `${x.file}=${x.value}`), [
    "memory.limit_in_bytes=2000",
    "memory.memsw.limit_in_bytes=4000",
  ]);
});

Deno.test("v1 memory: unlimited memory implies unlimited memsw; the other fields", () => {
  const fs = hostFs();
  const w = planV1Writes({
    memory: {
      limit: -1,
      reservation: 500,
      kernel: 0,
      kernelTCP: 7000,
      swappiness: 10,
      disableOOMKiller: true,
    },
  }, { paths: PATHS, fs });
  assertEquals(w.map((x) => `${x.file}=${x.value}`), [
    "memory.memsw.limit_in_bytes=-1",
    "memory.limit_in_bytes=-1",
    "memory.soft_limit_in_bytes=500",
    "memory.kmem.tcp.limit_in_bytes=7000",
    "memory.oom_control=1",
    "memory.swappiness=10",
  ]);
});

Deno.test("v1 memory: swap without swap accounting is refused by name", () => {
  const fs = hostFs();
  fs.files.delete(`${PATHS.memory}/memory.memsw.limit_in_bytes`);
  assertThrows(
    () => planV1Writes({ memory: { limit: 100, swap: 200 } }, { paths: PATHS, fs }),
    UnsupportedResourcesError,
    "/linux/resources/memory/swap: swap accounting is not enabled",
  );
});

Deno.test("v1 cpu: shares, period tolerated then retried after quota, burst, realtime, idle, cpuset", () => {
  const fs = hostFs();
  const w = planV1Writes({
    cpu: {
      shares: 512,
      quota: 20000,
      period: 50000,
      burst: 1000,
      realtimePeriod: 1000000,
      realtimeRuntime: 950000,
      idle: 0,
      cpus: "0",
      mems: "0",
    },
  }, { paths: PATHS, fs });
  assertEquals(w.map((x) => `${x.file}=${x.value}`), [
    "cpuset.cpus=0",
    "cpuset.mems=0",
    "cpu.shares=512",
    "cpu.cfs_period_us=50000",
    "cpu.cfs_quota_us=20000",
    "cpu.cfs_period_us=50000",
    "cpu.cfs_burst_us=1000",
    "cpu.rt_period_us=1000000",
    "cpu.rt_runtime_us=950000",
    "cpu.idle=0",
  ]);
  assertEquals(w[3].tolerate, ["EINVAL"]);
});

Deno.test("v1 cpu.shares: a clamped value read back is reported like runc", () => {
  const fs = hostFs();
  const w = planV1Writes({ cpu: { shares: 1 } }, { paths: PATHS, fs });
  // The fake kernel keeps what was written; emulate the clamp to 2.
  fs.write = (path: string, _data: string) => {
    fs.files.set(path, "2\n");
  };
  assertThrows(
    () => executeWrites(fs, w),
    RuntsError,
    "/linux/resources/cpu/shares: the minimum allowed cpu-shares is 2",
  );
});

Deno.test("v1 pids: 0 is a real limit (spec 1.3.0), negative is max", () => {
  const fs = hostFs();
  assertEquals(planV1Writes({ pids: { limit: 0 } }, { paths: PATHS, fs })[0].value, "0");
  assertEquals(planV1Writes({ pids: { limit: -1 } }, { paths: PATHS, fs })[0].value, "max");
  assertEquals(planV1Writes({ pids: { limit: 32 } }, { paths: PATHS, fs })[0].value, "32");
});

Deno.test("v1 blkio: throttles written per device; weights refused when no CFQ/BFQ files", () => {
  const fs = hostFs();
  const w = planV1Writes({
    blockIO: {
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
    },
  }, { paths: PATHS, fs });
  assertEquals(w.map((x) => `${x.file}=${x.value}`), [
    "blkio.throttle.read_bps_device=8:0 600",
    "blkio.throttle.write_iops_device=8:16 300",
  ]);
  assertThrows(
    () => planV1Writes({ blockIO: { weight: 500 } }, { paths: PATHS, fs }),
    UnsupportedResourcesError,
    "/linux/resources/blockIO/weight: not supported on this host",
  );
  fs.setFile(`${PATHS.blkio}/blkio.bfq.weight`, "100\n");
  fs.setFile(`${PATHS.blkio}/blkio.bfq.weight_device`, "");
  const bfq = planV1Writes({
    blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 300 }] },
  }, { paths: PATHS, fs });
  assertEquals(bfq.map((x) => `${x.file}=${x.value}`), [
    "blkio.bfq.weight=500",
    "blkio.bfq.weight_device=8:0 300",
  ]);
});

Deno.test("v1: every unsupported field is refused at once and nothing is planned", () => {
  const fs = hostFs();
  const err = assertThrows(() =>
    planV1Writes({
      pids: { limit: 5 },
      hugepageLimits: [{ pageSize: "2MB", limit: 1 }],
      network: { classID: 1, priorities: [{ name: "eth0", priority: 1 }] },
      rdma: { mlx5_1: { hcaHandles: 3 } },
      unified: { "memory.high": "1G" },
      memory: { useHierarchy: false, swappiness: 101 },
    }, { paths: PATHS, fs, hybrid: true }), UnsupportedResourcesError);
  assertEquals(err.problems, [
    "/linux/resources/memory/swappiness: must be 0-100, got 101",
    "/linux/resources/memory/useHierarchy: false is not supported: this kernel always accounts hierarchically",
    "/linux/resources/hugepageLimits: the hugetlb cgroup controller is not mounted on this host",
    "/linux/resources/network/classID: the net_cls cgroup controller is not mounted on this host",
    "/linux/resources/network/priorities: the net_prio cgroup controller is not mounted on this host",
    "/linux/resources/rdma: the rdma cgroup controller is not mounted on this host",
    "/linux/resources/unified: not supported on cgroup v1 (this hybrid host binds the controllers to v1 hierarchies)",
  ]);
  assertEquals(fs.writes, []);
});

Deno.test("v1 hugetlb, net_cls, net_prio, rdma when mounted", () => {
  const paths = { ...PATHS, hugetlb: "/h", net_cls: "/nc", net_prio: "/np", rdma: "/r" };
  const fs = new MemCgroupFs({
    "/h/hugetlb.2MB.limit_in_bytes": "0",
    "/h/hugetlb.2MB.rsvd.limit_in_bytes": "0",
    "/nc/net_cls.classid": "0",
    "/np/net_prio.ifpriomap": "",
    "/r/rdma.max": "",
  });
  const w = planV1Writes({
    hugepageLimits: [{ pageSize: "2MB", limit: 4194304 }],
    network: { classID: 1048577, priorities: [{ name: "eth0", priority: 5 }] },
    rdma: { mlx5_1: { hcaHandles: 3 } },
  }, { paths, fs });
  assertEquals(w.map((x) => `${x.dir}/${x.file}=${x.value}`), [
    "/h/hugetlb.2MB.limit_in_bytes=4194304",
    "/h/hugetlb.2MB.rsvd.limit_in_bytes=4194304",
    "/nc/net_cls.classid=1048577",
    "/np/net_prio.ifpriomap=eth0 5",
    "/r/rdma.max=mlx5_1 hca_handle=3 hca_object=max",
  ]);
  assertThrows(
    () => planV1Writes({ hugepageLimits: [{ pageSize: "1GB", limit: 1 }] }, { paths, fs }),
    UnsupportedResourcesError,
    "/linux/resources/hugepageLimits/0/pageSize: /h/hugetlb.1GB.limit_in_bytes does not exist",
  );
});

Deno.test("executeWrites: failures name the config field; huge numbers clamp to int64", () => {
  const fs = hostFs();
  fs.failures.set(`${PATHS.pids}/pids.max`, "EINVAL");
  const w = planV1Writes({ pids: { limit: 3 } }, { paths: PATHS, fs });
  assertThrows(
    () => executeWrites(fs, w),
    RuntsError,
    "/linux/resources/pids/limit: cgroup: write",
  );
  const big = planV1Writes({ memory: { limit: 9223372036854775807 } }, { paths: PATHS, fs });
  assertEquals(big[0].value, "9223372036854775807");
});

Deno.test("v1 memory: EBUSY on the limit is explained with current and peak usage (runc's message)", () => {
  const fs = hostFs();
  fs.setFile(`${PATHS.memory}/memory.usage_in_bytes`, "5000\n");
  fs.setFile(`${PATHS.memory}/memory.max_usage_in_bytes`, "7000\n");
  fs.failures.set(`${PATHS.memory}/memory.limit_in_bytes`, "EBUSY");
  const w = planV1Writes({ memory: { limit: 4096 } }, { paths: PATHS, fs });
  assertThrows(
    () => executeWrites(fs, w),
    RuntsError,
    "/linux/resources/memory/limit: unable to set memory limit to 4096 (current usage: 5000, peak usage: 7000)",
  );
});
