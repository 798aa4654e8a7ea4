/** Reading a cgroup's usage counters into runc's `events --stats` shape. */
import type { CgroupFs } from "./fs.ts";
import { hostHugePageSizes } from "./hugetlb.ts";
import type {
  BlkioEntry,
  BlkioStats,
  CgroupStats,
  Counter,
  CpuSetStats,
  HugetlbStats,
  MemoryEntry,
  MemoryStats,
} from "./stats_types.ts";

/** USER_HZ: cpuacct.stat counts in these ticks (100 on every Linux ABI runts supports). */
const CLOCK_TICKS_PER_SECOND = 100;
const NS_PER_TICK = 1_000_000_000 / CLOCK_TICKS_PER_SECOND;
const UINT64_MAX = 18446744073709551615n;

/** Unsigned decimal, exact: a bigint when past 2^53. "max" -> UINT64_MAX. */
export function parseCounter(text: string): Counter {
  const t = text.trim();
  if (t === "max") return UINT64_MAX;
  if (!/^-?[0-9]+$/.test(t)) return 0;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

function toNumber(c: Counter): number {
  return typeof c === "bigint" ? Number(c) : c;
}

/** "key value" lines -> map (memory.stat, cpu.stat, ...). */
export function parseKeyValues(text: string): Record<string, Counter> {
  const out: Record<string, Counter> = {};
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = parseCounter(v);
  }
  return out;
}

/** "0-2,5" -> [0, 1, 2, 5]. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-").map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** blkio v1 "8:0 Read 4096" lines; the "Total" line is dropped. */
export function parseBlkioEntries(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2 || !fields[0].includes(":")) continue;
    const [major, minor] = fields[0].split(":").map(Number);
    const entry: BlkioEntry = {};
    if (major) entry.major = major;
    if (minor) entry.minor = minor;
    const value = fields.length === 3 ? fields[2] : fields[1];
    if (fields.length === 3 && fields[1]) entry.op = fields[1];
    const v = toNumber(parseCounter(value));
    if (v) entry.value = v;
    out.push(entry);
  }
  return out;
}

/** Omit zero-valued optional keys, as Go's omitempty does. */
function omitZero<T extends object>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === 0 || v === 0n || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}

class Reader {
  constructor(private readonly fs: CgroupFs, private readonly dir: string) {}
  has(file: string): boolean {
    return this.fs.exists(`${this.dir}/${file}`);
  }
  text(file: string): string | undefined {
    return this.has(file) ? this.fs.read(`${this.dir}/${file}`) : undefined;
  }
  counter(file: string): Counter {
    const t = this.text(file);
    return t === undefined ? 0 : parseCounter(t);
  }
}

function emptyStats(): CgroupStats {
  const entry = (): MemoryEntry => ({ limit: 0, failcnt: 0 });
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    memory: { usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry() },
    pids: {},
    blkio: {},
    hugetlb: {},
  };
}

/** Stats from the v1 hierarchies (controller -> dir). */
export function readStatsV1(paths: Record<string, string>, fs: CgroupFs): CgroupStats {
  const stats = emptyStats();
  const at = (
    c: string,
  ) => (paths[c] && fs.exists(paths[c]) ? new Reader(fs, paths[c]) : undefined);

  const cpuacct = at("cpuacct");
  if (cpuacct) {
    const usage = stats.cpu.usage;
    usage.total = cpuacct.counter("cpuacct.usage");
    usage.percpu = (cpuacct.text("cpuacct.usage_percpu") ?? "").trim().split(/\s+/).filter((s) => s)
      .map(parseCounter);
    const ticks = parseKeyValues(cpuacct.text("cpuacct.stat") ?? "");
    usage.user = toNumber(ticks.user ?? 0) * NS_PER_TICK;
    usage.kernel = toNumber(ticks.system ?? 0) * NS_PER_TICK;
    // cpuacct.usage_all: "cpu user system" rows, in ns.
    const rows = (cpuacct.text("cpuacct.usage_all") ?? "").split("\n").slice(1)
      .map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3);
    if (rows.length > 0) {
      usage.percpu_kernel = rows.map((f) => parseCounter(f[2]));
      usage.percpu_user = rows.map((f) => parseCounter(f[1]));
    }
    stats.cpu.usage = omitZero(usage);
    stats.cpu.usage.kernel = usage.kernel;
    stats.cpu.usage.user = usage.user;
  }
  const cpu = at("cpu");
  if (cpu) {
    const s = parseKeyValues(cpu.text("cpu.stat") ?? "");
    stats.cpu.throttling = omitZero({
      periods: s.nr_periods ?? 0,
      throttledPeriods: s.nr_throttled ?? 0,
      throttledTime: s.throttled_time ?? 0,
    });
  }
  const cpuset = at("cpuset");
  const cpusetStats = cpuset ? readCpuset(cpuset) : undefined;

  const memory = at("memory");
  if (memory) stats.memory = readMemoryV1(memory);

  const pids = at("pids");
  if (pids) {
    stats.pids = omitZero({ current: pids.counter("pids.current"), limit: pidsLimit(pids) });
  }
  const blkio = at("blkio");
  if (blkio) stats.blkio = readBlkioV1(blkio);

  const hugetlb = at("hugetlb");
  if (hugetlb) {
    for (const size of hostHugePageSizes()) {
      stats.hugetlb[size] = omitZero({
        usage: hugetlb.counter(`hugetlb.${size}.usage_in_bytes`),
        max: hugetlb.counter(`hugetlb.${size}.max_usage_in_bytes`),
        failcnt: hugetlb.counter(`hugetlb.${size}.failcnt`),
      }) as HugetlbStats;
      stats.hugetlb[size].failcnt ??= 0;
    }
  }
  // runc's key order: cpu, cpuset, memory, pids, blkio, hugetlb.
  const { cpu: cpuStats, ...rest } = stats;
  return cpusetStats ? { cpu: cpuStats, cpuset: cpusetStats, ...rest } : stats;
}

function pidsLimit(r: Reader): Counter {
  const max = (r.text("pids.max") ?? "").trim();
  return max === "max" || max === "" ? 0 : parseCounter(max);
}

function readCpuset(r: Reader): CpuSetStats {
  const n = (f: string) => toNumber(r.counter(`cpuset.${f}`));
  const out: CpuSetStats = {
    cpus: parseCpuList(r.text("cpuset.effective_cpus") ?? r.text("cpuset.cpus") ?? ""),
    cpu_exclusive: n("cpu_exclusive"),
    mems: parseCpuList(r.text("cpuset.effective_mems") ?? r.text("cpuset.mems") ?? ""),
    mem_hardwall: n("mem_hardwall"),
    mem_exclusive: n("mem_exclusive"),
    memory_migrate: n("memory_migrate"),
    memory_spread_page: n("memory_spread_page"),
    memory_spread_slab: n("memory_spread_slab"),
    memory_pressure: n("memory_pressure"),
    sched_load_balance: n("sched_load_balance"),
    sched_relax_domain_level: Number((r.text("cpuset.sched_relax_domain_level") ?? "0").trim()),
  };
  if (out.cpus?.length === 0) delete out.cpus;
  if (out.mems?.length === 0) delete out.mems;
  return out;
}

function memoryEntry(r: Reader, prefix: string): MemoryEntry {
  const optional = omitZero({
    usage: r.counter(`${prefix}.usage_in_bytes`),
    max: r.counter(`${prefix}.max_usage_in_bytes`),
  });
  return {
    limit: r.counter(`${prefix}.limit_in_bytes`),
    ...optional,
    failcnt: r.counter(`${prefix}.failcnt`),
  };
}

function readMemoryV1(r: Reader): MemoryStats {
  const raw = parseKeyValues(r.text("memory.stat") ?? "");
  const out: MemoryStats = {
    usage: memoryEntry(r, "memory"),
    swap: memoryEntry(r, "memory.memsw"),
    kernel: memoryEntry(r, "memory.kmem"),
    kernelTCP: memoryEntry(r, "memory.kmem.tcp"),
    raw: sortKeys(raw),
  };
  if (raw.cache) out.cache = raw.cache;
  return { ...(out.cache ? { cache: out.cache } : {}), ...out };
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k];
  return out;
}

/** runc: CFQ's files when the CFQ scheduler is active, else BFQ's, else the throttle counters. */
function readBlkioV1(r: Reader): BlkioStats {
  const read = (file: string) => parseBlkioEntries(r.text(file) ?? "");
  let sets: [keyof BlkioStats, string][];
  if (r.has("blkio.io_serviced_recursive")) {
    sets = [
      ["sectorsRecursive", "blkio.sectors_recursive"],
      ["ioServiceBytesRecursive", "blkio.io_service_bytes_recursive"],
      ["ioServicedRecursive", "blkio.io_serviced_recursive"],
      ["ioQueueRecursive", "blkio.io_queued_recursive"],
      ["ioServiceTimeRecursive", "blkio.io_service_time_recursive"],
      ["ioWaitTimeRecursive", "blkio.io_wait_time_recursive"],
      ["ioMergedRecursive", "blkio.io_merged_recursive"],
      ["ioTimeRecursive", "blkio.time_recursive"],
    ];
  } else if (r.has("blkio.bfq.io_serviced_recursive")) {
    sets = [
      ["sectorsRecursive", "blkio.bfq.sectors_recursive"],
      ["ioServiceBytesRecursive", "blkio.bfq.io_service_bytes_recursive"],
      ["ioServicedRecursive", "blkio.bfq.io_serviced_recursive"],
      ["ioQueueRecursive", "blkio.bfq.io_queued_recursive"],
      ["ioServiceTimeRecursive", "blkio.bfq.io_service_time_recursive"],
      ["ioWaitTimeRecursive", "blkio.bfq.io_wait_time_recursive"],
      ["ioMergedRecursive", "blkio.bfq.io_merged_recursive"],
      ["ioTimeRecursive", "blkio.bfq.time_recursive"],
    ];
  } else {
    sets = [
      ["ioServiceBytesRecursive", "blkio.throttle.io_service_bytes_recursive"],
      ["ioServicedRecursive", "blkio.throttle.io_serviced_recursive"],
    ];
  }
  const out: BlkioStats = {};
  for (const [key, file] of sets) {
    const entries = read(file);
    if (entries.length > 0) out[key] = entries;
  }
  return out;
}

/** Stats from one cgroup2 directory, with runc's v2 -> v1 mapping. */
export function readStatsV2(dir: string | undefined, fs: CgroupFs): CgroupStats {
  const stats = emptyStats();
  if (dir === undefined || !fs.exists(dir)) return stats;
  const r = new Reader(fs, dir);

  const cpu = parseKeyValues(r.text("cpu.stat") ?? "");
  const us = (k: string) => toNumber(cpu[k] ?? 0) * 1000;
  stats.cpu.usage = {
    ...omitZero({ total: us("usage_usec") }),
    kernel: us("system_usec"),
    user: us("user_usec"),
  };
  stats.cpu.throttling = omitZero({
    periods: cpu.nr_periods ?? 0,
    throttledPeriods: cpu.nr_throttled ?? 0,
    throttledTime: us("throttled_usec"),
  });

  if (r.has("memory.current")) {
    const raw = parseKeyValues(r.text("memory.stat") ?? "");
    const events = parseKeyValues(r.text("memory.events") ?? "");
    const usage = r.counter("memory.current");
    const limit = r.has("memory.max") ? r.counter("memory.max") : UINT64_MAX;
    const mem: MemoryStats = {
      usage: {
        limit,
        ...omitZero({ usage, max: r.counter("memory.peak") }),
        failcnt: events.max ?? 0,
      },
      // runc reports memory+swap, like v1's memsw.
      swap: r.has("memory.swap.current")
        ? {
          limit: addCounters(r.counter("memory.swap.max"), limit),
          ...omitZero({ usage: addCounters(r.counter("memory.swap.current"), usage) }),
          failcnt: events.swap_max ?? 0,
        }
        : { limit: 0, failcnt: 0 },
      kernel: { limit: 0, failcnt: 0 },
      kernelTCP: { limit: 0, failcnt: 0 },
      raw: sortKeys(raw),
    };
    if (raw.file) stats.memory = { cache: raw.file, ...mem };
    else stats.memory = mem;
  }

  if (r.has("pids.current")) {
    stats.pids = omitZero({ current: r.counter("pids.current"), limit: pidsLimit(r) });
  }

  const io = r.text("io.stat");
  if (io !== undefined) {
    const bytes: BlkioEntry[] = [];
    const ios: BlkioEntry[] = [];
    for (const line of io.split("\n")) {
      const [dev, ...kvs] = line.trim().split(/\s+/);
      if (!dev || !dev.includes(":")) continue;
      const [major, minor] = dev.split(":").map(Number);
      const values = Object.fromEntries(kvs.map((kv) => kv.split("=")));
      const entry = (op: string, v: string | undefined) =>
        omitZero({ major, minor, op, value: toNumber(parseCounter(v ?? "0")) });
      bytes.push(entry("Read", values.rbytes), entry("Write", values.wbytes));
      ios.push(entry("Read", values.rios), entry("Write", values.wios));
    }
    if (bytes.length > 0) {
      stats.blkio = { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
    }
  }

  for (const size of hostHugePageSizes()) {
    if (!r.has(`hugetlb.${size}.current`)) continue;
    const events = parseKeyValues(r.text(`hugetlb.${size}.events`) ?? "");
    stats.hugetlb[size] = {
      ...omitZero({
        usage: r.counter(`hugetlb.${size}.current`),
        max: r.counter(`hugetlb.${size}.max`),
      }),
      failcnt: events.max ?? 0,
    };
  }
  return stats;
}

function addCounters(a: Counter, b: Counter): Counter {
  const sum = BigInt(a) + BigInt(b);
  const capped = sum > UINT64_MAX ? UINT64_MAX : sum;
  return capped <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(capped) : capped;
}

/** JSON text with bigint counters written as exact integers. */
export function statsToJSON(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v !== "bigint") return v;
    marks.push(v.toString());
    return `\u0000${marks.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000(\d+)\\u0000"/g, (_, i: string) => marks[Number(i)]);
}
