/**
 * A resource update as data: the list of cgroup file writes, in order. Planning
 * collects every unsupported field first, so nothing is written when any is refused.
 */
import { RuntsError } from "../errors.ts";
import { type CgroupFs, errorCode } from "./fs.ts";

export interface CgroupWrite {
  /** Absolute cgroup directory. */
  dir: string;
  file: string;
  value: string;
  /** JSON path of the config field this write comes from, for error messages. */
  field: string;
  /** Errno names that are not an error for this write (a later write retries it). */
  tolerate?: string[];
  /** Checks the value read back after writing; returns a problem or undefined. */
  verify?: (readBack: string) => string | undefined;
  /** A clearer message for a failed write, given its errno name (or undefined to keep the default). */
  explain?: (code: string | undefined) => string | undefined;
}

/** Refusal of fields this host cannot apply: all problems at once, naming each field. */
export class UnsupportedResourcesError extends RuntsError {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "UnsupportedResourcesError";
  }
}

/** Collects writes and problems while a plan is built. */
export class PlanBuilder {
  readonly writes: CgroupWrite[] = [];
  readonly problems: string[] = [];

  add(write: CgroupWrite): void {
    this.writes.push(write);
  }

  refuse(field: string, why: string): void {
    this.problems.push(`${field}: ${why}`);
  }

  /** The writes, or an UnsupportedResourcesError listing every problem. */
  finish(): CgroupWrite[] {
    if (this.problems.length > 0) throw new UnsupportedResourcesError(this.problems);
    return this.writes;
  }
}

/** Perform the writes in order; a failure names the config field and the file. */
export function executeWrites(fs: CgroupFs, writes: CgroupWrite[]): void {
  for (const w of writes) {
    const path = `${w.dir}/${w.file}`;
    try {
      fs.write(path, w.value);
    } catch (e) {
      const code = errorCode((e as Error).cause) ?? errorCode(e);
      if (code !== undefined && w.tolerate?.includes(code)) continue;
      const explained = w.explain?.(code);
      if (explained !== undefined) throw new RuntsError(`${w.field}: ${explained}`, { cause: e });
      throw new RuntsError(`${w.field}: ${(e as Error).message}`, { cause: e });
    }
    if (w.verify) {
      const problem = w.verify(fs.read(path).trim());
      if (problem !== undefined) throw new RuntsError(`${w.field}: ${problem}`);
    }
  }
}

/** Integer as the kernel wants it; JSON numbers past 2^53 are clamped to int64. */
export function intString(value: number | bigint): string {
  if (typeof value === "bigint") return value.toString();
  if (Number.isSafeInteger(value)) return String(value);
  if (value >= 2 ** 63) return "9223372036854775807";
  if (value <= -(2 ** 63)) return "-9223372036854775808";
  return BigInt(Math.trunc(value)).toString();
}
