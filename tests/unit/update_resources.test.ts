import { assertEquals, assertThrows } from "./assert.ts";
import {
  completeCpuMax,
  mergeResources,
  parseRamInBytes,
  parseResourcesJSON,
  resourcesFromFlags,
} from "../../src/container/update_resources.ts";
import { parseGoDuration } from "../../src/container/duration.ts";
import { RuntsError } from "../../src/errors.ts";

Deno.test("update flags: runc's value syntax", () => {
  assertEquals(parseRamInBytes("1024", "memory"), 1024);
  assertEquals(parseRamInBytes("64m", "memory"), 64 * 1024 * 1024);
  assertEquals(parseRamInBytes("1.5GiB", "memory"), 1.5 * 1024 ** 3);
  assertEquals(parseRamInBytes("8 k", "memory"), 8192);
  assertThrows(() => parseRamInBytes("12x", "memory"), RuntsError, "invalid value for memory");
  assertEquals(
    resourcesFromFlags({
      memory: "8m",
      "memory-swap": "-1",
      "memory-reservation": "4m",
      "cpu-share": "512",
      "cpu-quota": "-1",
      "cpu-period": "100000",
      "cpu-rt-period": "1000",
      "cpu-rt-runtime": "500",
      "cpuset-cpus": "0",
      "cpuset-mems": "0",
      "pids-limit": "10",
      "blkio-weight": "300",
    }),
    {
      memory: { limit: 8388608, swap: -1, reservation: 4194304 },
      cpu: {
        shares: 512,
        quota: -1,
        period: 100000,
        realtimePeriod: 1000,
        realtimeRuntime: 500,
        cpus: "0",
        mems: "0",
      },
      pids: { limit: 10 },
      blockIO: { weight: 300 },
    },
  );
  assertEquals(resourcesFromFlags({ "cpu-shares": "100" }), { cpu: { shares: 100 } });
  assertEquals(resourcesFromFlags({}), {});
  assertThrows(() => resourcesFromFlags({ "cpu-period": "-5" }), RuntsError, "cpu-period");
  assertThrows(() => resourcesFromFlags({ "blkio-weight": "5" }), RuntsError, "10-1000");
});

Deno.test("update flags: kernel memory and RDT are refused by name", () => {
  assertThrows(() => resourcesFromFlags({ "kernel-memory": "1m" }), RuntsError, "--kernel-memory");
  assertThrows(() => resourcesFromFlags({ "l3-cache-schema": "L3:0=f" }), RuntsError, "RDT");
  assertThrows(() => resourcesFromFlags({ "mem-bw-schema": "MB:0=50" }), RuntsError, "RDT");
});

Deno.test("update --resources: a LinuxResources object", () => {
  assertEquals(parseResourcesJSON('{"memory":{"limit":1}}', "f"), { memory: { limit: 1 } });
  assertThrows(() => parseResourcesJSON("[]", "f"), RuntsError, "JSON object");
  assertThrows(() => parseResourcesJSON("{", "f"), RuntsError, "invalid JSON");
  assertThrows(() => parseResourcesJSON('{"memroy":{}}', "f"), RuntsError, "/memroy");
  assertThrows(
    () => parseResourcesJSON('{"memory":{"kernel":5}}', "f"),
    RuntsError,
    "/memory/kernel",
  );
});

Deno.test("update: merge into saved resources; quota/period completed from the saved ones", () => {
  const saved = {
    devices: [{ allow: false, access: "rwm" }],
    memory: { limit: 100, swap: 200 },
    cpu: { quota: 5000, period: 10000 },
  };
  assertEquals(mergeResources(saved, { memory: { limit: 150 }, pids: { limit: 3 } }), {
    devices: [{ allow: false, access: "rwm" }],
    memory: { limit: 150, swap: 200 },
    cpu: { quota: 5000, period: 10000 },
    pids: { limit: 3 },
  });
  assertEquals(completeCpuMax({ cpu: { quota: 2000 } }, saved), {
    cpu: { quota: 2000, period: 10000 },
  });
  assertEquals(completeCpuMax({ cpu: { period: 20000 } }, saved), {
    cpu: { period: 20000, quota: 5000 },
  });
  assertEquals(completeCpuMax({ cpu: { quota: 1 } }, undefined), { cpu: { quota: 1 } });
});

Deno.test("Go durations", () => {
  assertEquals(parseGoDuration("5s", "interval"), 5000);
  assertEquals(parseGoDuration("1m30s", "interval"), 90_000);
  assertEquals(parseGoDuration("250ms", "interval"), 250);
  assertEquals(parseGoDuration("1.5h", "interval"), 5_400_000);
  assertEquals(parseGoDuration("0", "interval"), 0);
  assertEquals(parseGoDuration("-2s", "interval"), -2000);
  assertThrows(() => parseGoDuration("5", "interval"), RuntsError, "--interval");
  assertThrows(() => parseGoDuration("", "interval"), RuntsError);
  assertThrows(() => parseGoDuration("5x", "interval"), RuntsError);
});
