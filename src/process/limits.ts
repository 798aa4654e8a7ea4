/** rlimits and oom_score_adj of the container process. */
import { RuntsError } from "../errors.ts";
import type { ChildProgram } from "../linux/child.ts";
import type { POSIXRlimit } from "../spec/types.ts";

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export function emitRlimits(p: ChildProgram, rlimits: POSIXRlimit[] = []): void {
  for (const r of rlimits) {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new RuntsError(`process.rlimits: unknown type "${r.type}"`);
    const value = p.u64s([jsonU64(r.soft), jsonU64(r.hard)]);
    p.op("prlimit64", [0, resource, value, 0], `set ${r.type} to soft ${r.soft}, hard ${r.hard}`);
  }
}

export function emitOomScoreAdj(p: ChildProgram, value: number | undefined): void {
  if (value === undefined) return;
  p.writeFile("/proc/self/oom_score_adj", String(value), `set oom_score_adj to ${value}`);
}

/**
 * A uint64 from JSON: JSON numbers are doubles, so 18446744073709551615 (RLIM_INFINITY)
 * arrives as 2^64; anything that large means "unlimited".
 */
export function jsonU64(n: number): bigint {
  if (n >= 2 ** 64 - 4096) return 0xffffffffffffffffn;
  return BigInt(Math.trunc(n));
}
