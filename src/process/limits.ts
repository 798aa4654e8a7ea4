/** rlimits and oom_score_adj of the container process. */
import { RuntsError } from "../errors.ts";
import type { ChildProgram } from "../linux/child.ts";
import type { POSIXRlimit } from "../spec/types.ts";
import { RLIMIT_RESOURCES } from "../spec/config.ts";

export function emitRlimits(p: ChildProgram, rlimits: POSIXRlimit[] = []): void {
  for (const r of rlimits) {
    const resource = RLIMIT_RESOURCES[r.type];
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
