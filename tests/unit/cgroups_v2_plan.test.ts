import { assertEquals, assertThrows } from "./assert.ts";
import { MemCgroupFs } from "../../src/cgroups/memfs.ts";
import { UnsupportedResourcesError } from "../../src/cgroups/plan.ts";
import { planV2Writes } from "../../src/cgroups/v2.ts";

const D = "/sys/fs/cgroup/runts/c1";

function v2Fs(controllers = "cpuset cpu io memory hugetlb pids rdma"): MemCgroupFs {
  const files: Record<string, string> = { [`${D}/cgroup.controllers`]: controllers + "\n" };
  for (
    const f of [
      "memory.max",
      "memory.swap.max",
      "memory.low",
      "memory.current",
      "memory.high",
      "cpu.weight",
      "cpu.max",
      "cpu.max.burst",
      "cpu.idle",
      "cpuset.cpus",
      "cpuset.mems",
      "pids.max",
      "io.max",
      "io.weight",
      "hugetlb.2MB.max",
      "rdma.max",
      "cgroup.freeze",
    ]
  ) files[`${D}/${f}`] = "0\n";
  return new MemCgroupFs(files);
}

const show = (w: ReturnType<typeof planV2Writes>) => w.map((x) => `${x.file}=${x.value}`);

Deno.test("v2: memory, cpu, pids, io, hugetlb conversions as runc", () => {
  const fs = v2Fs();
  const w = planV2Writes({
    memory: { limit: 1000, swap: 3000, reservation: 500 },
    cpu: { shares: 1024, quota: 50000, period: 100000, burst: 10, idle: 1, cpus: "0-1", mems: "0" },
    pids: { limit: 0 },
    blockIO: {
      weight: 500,
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
    },
    hugepageLimits: [{ pageSize: "2MB", limit: 2097152 }],
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10 } },
  }, { dir: D, fs });
  assertEquals(show(w), [
    "memory.swap.max=2000",
    "memory.max=1000",
    "memory.low=500",
    "cpu.idle=1",
    "cpu.weight=39",
    "cpu.max=50000 100000",
    "cpu.max.burst=10",
    "cpuset.cpus=0-1",
    "cpuset.mems=0",
    "pids.max=0",
    "io.weight=4950",
    "io.max=8:0 rbps=600",
    "io.max=8:16 wiops=300",
    "hugetlb.2MB.max=2097152",
    "rdma.max=mlx5_1 hca_handle=3 hca_object=10",
  ]);
});

Deno.test("v2: swap equal to memory disables swap; unlimited memory means unlimited swap", () => {
  const fs = v2Fs();
  assertEquals(show(planV2Writes({ memory: { limit: 1000, swap: 1000 } }, { dir: D, fs })), [
    "memory.swap.max=0",
    "memory.max=1000",
  ]);
  assertEquals(show(planV2Writes({ memory: { limit: -1 } }, { dir: D, fs })), [
    "memory.swap.max=max",
    "memory.max=max",
  ]);
});

Deno.test("v2: unified keys are written verbatim after checks", () => {
  const fs = v2Fs();
  assertEquals(
    show(planV2Writes({ unified: { "memory.high": "1G", "cgroup.freeze": "0" } }, { dir: D, fs })),
    ["memory.high=1G", "cgroup.freeze=0"],
  );
  const err = assertThrows(
    () =>
      planV2Writes({
        unified: { "a/b": "1", "nodot": "1", "misc.max": "1", "memory.nonexistent": "1" },
      }, { dir: D, fs }),
    UnsupportedResourcesError,
  );
  assertEquals(err.problems, [
    "/linux/resources/unified/a~1b: must be a file name (no slashes)",
    "/linux/resources/unified/nodot: must be in the form CONTROLLER.PARAMETER",
    `/linux/resources/unified/misc.max: controller "misc" is not available for ${D}`,
    `/linux/resources/unified/memory.nonexistent: ${D}/memory.nonexistent does not exist`,
  ]);
});

Deno.test("v2: v1-only fields and missing controllers are refused by name", () => {
  const fs = v2Fs("memory");
  const err = assertThrows(
    () =>
      planV2Writes({
        devices: [{ allow: false, access: "rwm" }],
        memory: { limit: 100, swappiness: 10, kernel: 5, disableOOMKiller: true },
        cpu: { shares: 1024, realtimeRuntime: 5 },
        pids: { limit: 10 },
        blockIO: { leafWeight: 10 },
        network: { classID: 1 },
      }, { dir: D, fs }),
    UnsupportedResourcesError,
  );
  assertEquals(err.problems, [
    "/linux/resources/memory/kernel: not supported on cgroup v2",
    "/linux/resources/memory/swappiness: not supported on cgroup v2",
    "/linux/resources/memory/disableOOMKiller: not supported on cgroup v2",
    `/linux/resources/cpu/shares: the cpu controller is not enabled for ${D}`,
    "/linux/resources/cpu/realtimeRuntime: not supported on cgroup v2",
    `/linux/resources/pids: the pids controller is not enabled for ${D}`,
    "/linux/resources/blockIO/leafWeight: not supported on cgroup v2",
    "/linux/resources/network/classID: net_cls is not supported on cgroup v2",
  ]);
  // Device rules are no file write (an eBPF program, see cgroups_devices_bpf.test.ts).
  assertEquals(planV2Writes({ devices: [{ allow: true, access: "rwm" }] }, { dir: D, fs }), []);
});

Deno.test("v2: checkBeforeUpdate refuses a limit below current usage", () => {
  const fs = v2Fs();
  fs.files.set(`${D}/memory.current`, "5000\n");
  assertThrows(
    () => planV2Writes({ memory: { limit: 1000, checkBeforeUpdate: true } }, { dir: D, fs }),
    UnsupportedResourcesError,
    "below the current usage 5000",
  );
  assertEquals(show(planV2Writes({ memory: { limit: 1000 } }, { dir: D, fs })), [
    "memory.max=1000",
  ]);
});
