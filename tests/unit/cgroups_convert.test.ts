import { assertEquals, assertThrows } from "./assert.ts";
import {
  blkioWeightToIOWeight,
  cpuMax,
  cpuSharesToWeight,
  limitToV2,
  memorySwapToV2,
} from "../../src/cgroups/convert.ts";

Deno.test("cpuSharesToWeight: runc's linear formula, 0 stays unset", () => {
  assertEquals(cpuSharesToWeight(0), 0);
  assertEquals(cpuSharesToWeight(2), 1);
  assertEquals(cpuSharesToWeight(1024), 39);
  assertEquals(cpuSharesToWeight(512), 20);
  assertEquals(cpuSharesToWeight(262144), 10000);
});

Deno.test("blkioWeightToIOWeight: [10,1000] -> [1,10000]", () => {
  assertEquals(blkioWeightToIOWeight(0), 0);
  assertEquals(blkioWeightToIOWeight(10), 1);
  assertEquals(blkioWeightToIOWeight(500), 4950);
  assertEquals(blkioWeightToIOWeight(1000), 10000);
});

Deno.test("memorySwapToV2: memory+swap -> swap alone", () => {
  assertEquals(memorySwapToV2(0, -1), -1); // unlimited memory, swap unset: unlimited swap
  assertEquals(memorySwapToV2(-1, 1000), -1);
  assertEquals(memorySwapToV2(0, 1000), 0);
  assertEquals(memorySwapToV2(3000, 1000), 2000);
  assertEquals(memorySwapToV2(1000, 1000), 0);
  assertThrows(() => memorySwapToV2(500, 1000), Error, "should be >= memory limit");
  assertThrows(() => memorySwapToV2(500, 0), Error, "without memory limit");
  assertThrows(() => memorySwapToV2(500, -1), Error, "without memory limit");
});

Deno.test("limitToV2 and cpuMax", () => {
  assertEquals(limitToV2(0), "");
  assertEquals(limitToV2(-1), "max");
  assertEquals(limitToV2(42), "42");
  assertEquals(cpuMax(0, 0), undefined);
  assertEquals(cpuMax(50000, 100000), "50000 100000");
  assertEquals(cpuMax(-1, 100000), "max 100000");
  assertEquals(cpuMax(20000, 0), "20000");
  assertEquals(cpuMax(0, 250000), "max 250000");
});
