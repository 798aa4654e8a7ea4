/**
 * Profile -> per-syscall-number rules of one architecture, with the semantics runc gets
 * from libseccomp:
 * - a rule whose action equals the default action is dropped (runc skips it);
 * - a name the ABI does not have is skipped for that ABI;
 * - an unconditional rule for a syscall wins over every conditional one, whatever the
 *   order; of two unconditional rules the first wins (libseccomp db_rule_add);
 * - on x86, socket and IPC calls are also matched through socketcall/ipc (multiplex.ts);
 * - conditional rules for one syscall are tried in profile order, first match wins.
 *   (libseccomp orders overlapping conditional rules by its own tree priority; profiles
 *   in the wild never give one syscall two overlapping rules with different actions.)
 */
import {
  ENOSYS,
  retErrno,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
} from "./actions.ts";
import { ARCHES, type SeccompArch, syscallNumber } from "./arch.ts";
import { multiplexedRule, x86Multiplexed } from "./multiplex.ts";
import type { Profile, Rule } from "./profile.ts";

export interface SyscallRules {
  nr: number;
  arch: SeccompArch;
  /** One unconditional rule, or conditional rules in order. */
  rules: Rule[];
}

/** Syscall rules of one ABI (x86_64 and x32 are separate ABIs of one AUDIT arch). */
export interface AbiRules {
  arch: SeccompArch;
  syscalls: Map<number, SyscallRules>;
  /**
   * Syscall numbers above this get ERRNO(ENOSYS) instead of the default action: runc
   * prepends this -ENOSYS fallback so that programs probing syscalls newer than the
   * profile fall back gracefully. Undefined: no fallback for this ABI.
   */
  enosysAbove?: number;
}

export function resolveAbi(profile: Profile, archName: string): AbiRules {
  const arch = ARCHES[archName];
  const syscalls = new Map<number, SyscallRules>();
  let largest = 0;
  const add = (nr: number, rule: Rule) => {
    if (rule.action === profile.defaultAction) return;
    const existing = syscalls.get(nr);
    if (existing === undefined) syscalls.set(nr, { nr, arch, rules: [rule] });
    else if (isUnconditional(existing.rules)) return;
    else if (rule.conditions.length === 0) existing.rules = [rule];
    else existing.rules.push(rule);
  };
  for (const entry of profile.entries) {
    for (const name of entry.names) {
      const nr = syscallNumber(arch, name);
      if (nr !== undefined) {
        largest = Math.max(largest, nr);
        for (const rule of entry.rules) add(nr, rule);
      }
      const mux = archName === "SCMP_ARCH_X86" ? x86Multiplexed(name) : undefined;
      if (mux) { for (const rule of entry.rules) add(mux.nr, multiplexedRule(rule, mux.call)); }
    }
  }
  const fallback = enosysFallbackApplies(profile) && profile.listedArches.includes(archName) &&
    largest !== 0;
  return { arch, syscalls, enosysAbove: fallback ? largest : undefined };
}

function isUnconditional(rules: Rule[]): boolean {
  return rules.length === 1 && rules[0].conditions.length === 0;
}

/**
 * runc adds its -ENOSYS fallback unless the default action already lets unknown syscalls
 * through (ALLOW, LOG, TRACE) or already is ERRNO(ENOSYS).
 */
function enosysFallbackApplies(profile: Profile): boolean {
  const d = profile.defaultAction;
  const kind = (d & 0xfff00000) >>> 0;
  return d !== SECCOMP_RET_ALLOW && d !== SECCOMP_RET_LOG && kind !== SECCOMP_RET_TRACE &&
    d !== retErrno(ENOSYS);
}

/** Names no ABI of the filter knows: runc/libseccomp skip them silently; we report them. */
export function unknownNames(profile: Profile): string[] {
  const unknown = new Set<string>();
  for (const entry of profile.entries) {
    for (const name of entry.names) {
      const known = profile.arches.some((a) =>
        syscallNumber(ARCHES[a], name) !== undefined ||
        (a === "SCMP_ARCH_X86" && x86Multiplexed(name) !== undefined)
      );
      if (!known) {
        unknown.add(name);
      }
    }
  }
  return [...unknown];
}
