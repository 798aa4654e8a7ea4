import { assertEquals } from "./assert.ts";
import { MemCgroupFs } from "../../src/cgroups/memfs.ts";
import {
  parseBlkioEntries,
  parseCounter,
  parseCpuList,
  readStatsV1,
  readStatsV2,
  statsToJSON,
} from "../../src/cgroups/stats.ts";

Deno.test("parse helpers: counters stay exact past 2^53, cpu lists, blkio lines", () => {
  assertEquals(parseCounter("42\n"), 42);
  assertEquals(parseCounter("9223372036854771712"), 9223372036854771712n);
  assertEquals(parseCounter("max"), 18446744073709551615n);
  assertEquals(parseCpuList("0-2,5\n"), [0, 1, 2, 5]);
  assertEquals(parseCpuList(""), []);
  assertEquals(parseBlkioEntries("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n"), [
    { major: 8, op: "Read", value: 4096 },
    { major: 8, op: "Write" },
  ]);
  assertEquals(
    statsToJSON({ a: 9223372036854771712n, b: [1n, 2] }),
    '{"a":9223372036854771712,"b":[1,2]}',
  );
});

Deno.test("readStatsV1: runc's field mapping and omitempty", () => {
  const fs = new MemCgroupFs({
    "/c/cpuacct.usage": "3000\n",
    "/c/cpuacct.usage_percpu": "1000 2000 \n",
    "/c/cpuacct.stat": "user 2\nsystem 1\n",
    "/c/cpuacct.usage_all": "cpu user system\n0 600 400\n1 1500 500\n",
    "/c/cpu.stat": "nr_periods 5\nnr_throttled 0\nthrottled_time 0\n",
    "/m/memory.stat": "cache 4096\nrss 8192\n",
    "/m/memory.usage_in_bytes": "12288\n",
    "/m/memory.max_usage_in_bytes": "20000\n",
    "/m/memory.failcnt": "0\n",
    "/m/memory.limit_in_bytes": "9223372036854771712\n",
    "/m/memory.kmem.tcp.limit_in_bytes": "9223372036854771712\n",
    "/m/memory.kmem.tcp.usage_in_bytes": "0\n",
    "/p/pids.current": "3\n",
    "/p/pids.max": "max\n",
  });
  const s = readStatsV1({ cpu: "/c", cpuacct: "/c", memory: "/m", pids: "/p" }, fs);
  assertEquals(s.cpu, {
    usage: {
      total: 3000,
      percpu: [1000, 2000],
      percpu_kernel: [400, 500],
      percpu_user: [600, 1500],
      kernel: 10_000_000,
      user: 20_000_000,
    },
    throttling: { periods: 5 },
  });
  assertEquals(s.memory.cache, 4096);
  assertEquals(s.memory.usage, {
    limit: 9223372036854771712n,
    usage: 12288,
    max: 20000,
    failcnt: 0,
  });
  assertEquals(s.memory.swap, { limit: 0, failcnt: 0 });
  assertEquals(s.memory.kernelTCP, { limit: 9223372036854771712n, failcnt: 0 });
  assertEquals(s.memory.raw, { cache: 4096, rss: 8192 });
  assertEquals(s.pids, { current: 3 });
  assertEquals(s.blkio, {});
  assertEquals(s.cpuset, undefined);
});

Deno.test("readStatsV2: cpu.stat in µs -> ns, memory+swap, io.stat", () => {
  const fs = new MemCgroupFs({
    "/u/cpu.stat":
      "usage_usec 30\nuser_usec 20\nsystem_usec 10\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
    "/u/memory.current": "1000\n",
    "/u/memory.max": "max\n",
    "/u/memory.stat": "file 300\nanon 700\n",
    "/u/memory.events": "low 0\nhigh 0\nmax 2\noom 0\noom_kill 1\n",
    "/u/memory.swap.current": "50\n",
    "/u/memory.swap.max": "100\n",
    "/u/pids.current": "2\n",
    "/u/pids.max": "10\n",
    "/u/io.stat": "8:0 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
  });
  const s = readStatsV2("/u", fs);
  assertEquals(s.cpu.usage, { total: 30000, kernel: 10000, user: 20000 });
  assertEquals(s.cpu.throttling, {});
  assertEquals(s.memory.cache, 300);
  assertEquals(s.memory.usage, { limit: 18446744073709551615n, usage: 1000, failcnt: 2 });
  assertEquals(s.memory.swap, { limit: 18446744073709551615n, usage: 1050, failcnt: 0 });
  assertEquals(s.pids, { current: 2, limit: 10 });
  assertEquals(s.blkio, {
    ioServiceBytesRecursive: [
      { major: 8, op: "Read", value: 100 },
      { major: 8, op: "Write" },
    ],
    ioServicedRecursive: [
      { major: 8, op: "Read", value: 1 },
      { major: 8, op: "Write" },
    ],
  });
});
