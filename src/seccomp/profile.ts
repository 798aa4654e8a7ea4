/**
 * Validation of `linux.seccomp` into numeric form: actions as SECCOMP_RET_* values,
 * argument values as u64 bigints, flags as a bit set. Problems are collected and thrown
 * together as a ConfigError, each prefixed by the JSON pointer of the field.
 */
import { ConfigError } from "../errors.ts";
import type { LinuxSeccomp } from "../spec/types.ts";
import { actionValue } from "./actions.ts";
import { ARCHES, NATIVE_SCMP_ARCH, type NativeArch, UNREACHABLE_ARCHES } from "./arch.ts";

export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
};

export type CompareOp = "NE" | "LT" | "LE" | "EQ" | "GE" | "GT" | "MASKED_EQ";
const OPS = new Set<string>(["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"]);

/**
 * One argument comparison. For MASKED_EQ, as in libseccomp, `value` is the mask and
 * `valueTwo` the datum: it matches when (arg & value) == (valueTwo & value).
 */
export interface Condition {
  index: number;
  op: CompareOp;
  value: bigint;
  valueTwo: bigint;
}

/** A rule: all conditions must hold (none: the syscall always matches). */
export interface Rule {
  action: number;
  conditions: Condition[];
}

export interface SyscallEntry {
  names: string[];
  /** Alternatives: the entry matches when any of them matches (see splitConditions). */
  rules: Rule[];
}

export interface Profile {
  defaultAction: number;
  flags: number;
  /** Arches in the filter, native first; only those runts has syscall tables for. */
  arches: string[];
  /** Arches the config listed (runc's -ENOSYS fallback covers only these). */
  listedArches: string[];
  entries: SyscallEntry[];
  warnings: string[];
}

const BASE = "/linux/seccomp";
const U64_MAX = (1n << 64n) - 1n;

export function parseProfile(seccomp: LinuxSeccomp, native: NativeArch): Profile {
  const problems: string[] = [];
  const warnings: string[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      problems.push((e as Error).message);
      return undefined;
    }
  };

  const defaultAction =
    attempt(() =>
      actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet, `${BASE}/defaultAction`)
    ) ?? 0;

  if (seccomp.listenerMetadata !== undefined && seccomp.listenerPath === undefined) {
    problems.push(`${BASE}/listenerMetadata: must not be set without listenerPath`);
  }

  let flags = 0;
  (seccomp.flags ?? []).forEach((flag: unknown, i) => {
    if (flag === "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
      problems.push(
        `${BASE}/flags/${i}: ${flag} only applies to a SCMP_ACT_NOTIFY listener, which runts does not support`,
      );
    } else if (typeof flag === "string" && Object.hasOwn(FLAGS, flag)) {
      flags |= FLAGS[flag];
    } else problems.push(`${BASE}/flags/${i}: unknown seccomp flag ${JSON.stringify(flag)}`);
  });

  const arches = [NATIVE_SCMP_ARCH[native]];
  const listedArches: string[] = [];
  (seccomp.architectures ?? []).forEach((arch: unknown, i) => {
    if (typeof arch === "string" && Object.hasOwn(ARCHES, arch)) {
      if (!listedArches.includes(arch)) listedArches.push(arch);
      if (!arches.includes(arch)) arches.push(arch);
    } else if (typeof arch === "string" && UNREACHABLE_ARCHES.has(arch)) {
      warnings.push(`${BASE}/architectures/${i}: ${arch} left out: not reachable from ${native}`);
    } else {
      problems.push(`${BASE}/architectures/${i}: unknown architecture ${JSON.stringify(arch)}`);
    }
  });

  const entries: SyscallEntry[] = [];
  (seccomp.syscalls ?? []).forEach((call, i) => {
    const where = `${BASE}/syscalls/${i}`;
    if (!Array.isArray(call.names) || call.names.length === 0) {
      problems.push(`${where}/names: must list at least one syscall`);
      return;
    }
    const names: string[] = [];
    call.names.forEach((n: unknown, j) => {
      if (typeof n === "string" && n !== "") names.push(n);
      else problems.push(`${where}/names/${j}: ${JSON.stringify(n)} is not a syscall name`);
    });
    const action = attempt(() => actionValue(call.action, call.errnoRet, `${where}/action`));
    const conditions = (call.args ?? []).map((a, j) =>
      attempt(() => parseCondition(a, `${where}/args/${j}`))
    );
    if (action === undefined || conditions.some((c) => c === undefined)) return;
    const rules = splitConditions(conditions as Condition[]).map((c) => ({
      action,
      conditions: c,
    }));
    entries.push({ names, rules });
  });

  if (problems.length > 0) throw new ConfigError(problems);
  return { defaultAction, flags, arches, listedArches, entries, warnings };
}

/**
 * runc's rule: the args of one entry are AND-ed, unless an argument index appears more
 * than once; then each comparison becomes a rule of its own (OR-ed).
 */
function splitConditions(conditions: Condition[]): Condition[][] {
  const seen = new Set<number>();
  const repeated = conditions.some((c) => seen.size === seen.add(c.index).size);
  return repeated ? conditions.map((c) => [c]) : [conditions];
}

function parseCondition(arg: unknown, where: string): Condition {
  const a = arg as Record<string, unknown>;
  if (typeof a !== "object" || a === null) throw new Error(`${where}: must be an object`);
  const index = a.index;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 5) {
    throw new Error(`${where}/index: ${JSON.stringify(index)} is not a syscall argument (0-5)`);
  }
  const opName = a.op;
  const op = typeof opName === "string" && opName.startsWith("SCMP_CMP_")
    ? opName.slice("SCMP_CMP_".length)
    : "";
  if (!OPS.has(op)) {
    throw new Error(`${where}/op: unknown comparison ${JSON.stringify(opName)}`);
  }
  const value = u64(a.value, `${where}/value`);
  const valueTwo = a.valueTwo === undefined ? 0n : u64(a.valueTwo, `${where}/valueTwo`);
  return { index, op: op as CompareOp, value, valueTwo };
}

function u64(v: unknown, where: string): bigint {
  if (typeof v === "bigint" && v >= 0n && v <= U64_MAX) return v;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) {
    if (!Number.isSafeInteger(v)) {
      throw new Error(
        `${where}: ${v} is above 2^53 and was rounded when config.json was parsed; the exact value is lost`,
      );
    }
    return BigInt(v);
  }
  const shown = typeof v === "bigint" || typeof v === "number" ? String(v) : JSON.stringify(v);
  throw new Error(`${where}: ${shown} is not an unsigned 64-bit integer`);
}
