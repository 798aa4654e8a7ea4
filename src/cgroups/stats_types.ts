/**
 * `runts events --stats` data, in the JSON shape of runc 1.1 (types/events.go):
 * fields runc tags omitempty are left out when zero. Counters past 2^53 (e.g. an
 * unlimited memory limit, 9223372036854771712) are bigints so they print exactly:
 * serialize with statsToJSON().
 */
export type Counter = number | bigint;

export interface CpuUsage {
  total?: Counter;
  percpu?: Counter[];
  percpu_kernel?: Counter[];
  percpu_user?: Counter[];
  kernel: Counter;
  user: Counter;
}

export interface CpuThrottling {
  periods?: Counter;
  throttledPeriods?: Counter;
  throttledTime?: Counter;
}

export interface CpuSetStats {
  cpus?: Counter[];
  cpu_exclusive: Counter;
  mems?: Counter[];
  mem_hardwall: Counter;
  mem_exclusive: Counter;
  memory_migrate: Counter;
  memory_spread_page: Counter;
  memory_spread_slab: Counter;
  memory_pressure: Counter;
  sched_load_balance: Counter;
  sched_relax_domain_level: number;
}

export interface MemoryEntry {
  limit: Counter;
  usage?: Counter;
  max?: Counter;
  failcnt: Counter;
}

export interface MemoryStats {
  cache?: Counter;
  usage: MemoryEntry;
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  raw?: Record<string, Counter>;
}

export interface BlkioEntry {
  major?: Counter;
  minor?: Counter;
  op?: string;
  value?: Counter;
}

export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
}

export interface HugetlbStats {
  usage?: Counter;
  max?: Counter;
  failcnt: Counter;
}

export interface CgroupStats {
  cpu: { usage: CpuUsage; throttling: CpuThrottling };
  cpuset?: CpuSetStats;
  memory: MemoryStats;
  pids: { current?: Counter; limit?: Counter };
  blkio: BlkioStats;
  hugetlb: Record<string, HugetlbStats>;
}
