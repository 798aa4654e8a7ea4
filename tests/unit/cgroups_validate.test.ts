import { assertEquals } from "./assert.ts";
import { validateResources } from "../../src/cgroups/validate.ts";

Deno.test("validateResources: runc's default resources are valid on v1 and hybrid", () => {
  const r = { devices: [{ allow: false, access: "rwm" }] };
  assertEquals(validateResources(r, "v1"), []);
  assertEquals(validateResources(r, "hybrid"), []);
});

Deno.test("validateResources: value problems name their JSON path", () => {
  assertEquals(
    validateResources({
      devices: [{ allow: true, type: "x", access: "rwz" }, {
        allow: false,
        type: "a",
        access: "r",
      }],
      memory: { swappiness: 200, limit: 100, swap: 50 },
      cpu: { quota: 1000, burst: 2000, cpus: "0-a" },
      blockIO: { weight: 5, weightDevice: [{ major: 8, minor: 0 }] },
      hugepageLimits: [{ pageSize: "2M", limit: 1 }],
      rdma: { mlx: {} },
      unified: { "memory.high": "1G" },
    }, "hybrid"),
    [
      '/linux/resources/devices/0/type: must be "a", "b" or "c", got "x"',
      '/linux/resources/devices/0/access: must be made of "r", "w", "m", got "rwz"',
      '/linux/resources/devices/1/access: a rule for all devices must have access "rwm" on cgroup v1',
      "/linux/resources/memory/swappiness: must be 0-100, got 200",
      "/linux/resources/memory/swap: memory+swap limit should be >= memory limit",
      "/linux/resources/cpu/burst: must not be larger than quota (1000), got 2000",
      '/linux/resources/cpu/cpus: must be a list like "0-3,7", got "0-a"',
      "/linux/resources/blockIO/weight: must be 10-1000, got 5",
      "/linux/resources/blockIO/weightDevice/0: needs weight or leafWeight",
      '/linux/resources/hugepageLimits/0/pageSize: must look like "2MB" or "1GB" (<size><K|M|G|T>B), got "2M"',
      "/linux/resources/rdma/mlx: needs hcaHandles or hcaObjects",
      "/linux/resources/unified: not supported on cgroup v1 (hybrid host)",
    ],
  );
});

Deno.test("validateResources: v2 refuses v1-only fields; device rules need 32-bit numbers", () => {
  assertEquals(
    validateResources({
      devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 2 ** 32 }],
      memory: { swappiness: 10, kernel: 1, swap: 10 },
      cpu: { realtimeRuntime: 1 },
      network: { classID: 1 },
      unified: { "memory.high": "1G", "bad": "x" },
    }, "v2"),
    [
      "/linux/resources/devices/1/major: must be below 2^31 on cgroup v2, got 4294967296",
      "/linux/resources/memory/swappiness: not supported on cgroup v2",
      "/linux/resources/memory/kernel: not supported on cgroup v2",
      "/linux/resources/memory/swap: unable to set swap limit without memory limit",
      "/linux/resources/cpu/realtimeRuntime: not supported on cgroup v2",
      "/linux/resources/network/classID: net_cls is not supported on cgroup v2",
      "/linux/resources/unified/bad: must be in the form CONTROLLER.PARAMETER",
    ],
  );
  assertEquals(
    validateResources({ unified: { "memory.high": "1G" }, pids: { limit: 0 } }, "v2"),
    [],
  );
});
