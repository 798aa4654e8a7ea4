/** runc's v1 -> v2 value conversions (libcontainer/cgroups/utils.go). */
import { RuntsError } from "../errors.ts";

/** cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 stays "unset". */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays "unset". */
export function blkioWeightToIOWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * v1 memory+swap limit -> v2 memory.swap.max (swap alone). 0 = unset, -1 = max.
 * Unlimited memory with swap unset means unlimited swap, as on v1.
 */
export function memorySwapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === 0 || memory === -1) {
    throw new RuntsError("unable to set swap limit without memory limit");
  }
  if (memory < 0) throw new RuntsError(`invalid memory value: ${memory}`);
  if (swap < memory) throw new RuntsError("memory+swap limit should be >= memory limit");
  return swap - memory;
}

/** runc's numToStr: 0 -> "" (don't write), -1 -> "max". */
export function limitToV2(value: number): string {
  if (value === 0) return "";
  if (value === -1) return "max";
  return String(value);
}

/** cpu.max: "<quota|max> [period]"; undefined when neither is set. */
export function cpuMax(quota: number, period: number): string | undefined {
  if (quota === 0 && period === 0) return undefined;
  let value = quota > 0 ? String(quota) : "max";
  if (period !== 0) value += ` ${period}`;
  return value;
}
