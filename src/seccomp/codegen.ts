/**
 * Emits the seccomp BPF program:
 *
 *   ld arch; jeq AUDIT_ARCH_a -> section a; ...; ret KILL_THREAD   (libseccomp's bad-arch)
 *   section: ld nr; binary search over syscall-number intervals -> shared `ret`s or a
 *            per-syscall block of argument checks
 *
 * Every number in [0, 2^32) falls in one interval: a syscall with rules, the default
 * action, the -ENOSYS range above the profile's last syscall (runc's ENOSYS fallback), or bad-arch
 * for numbers of an ABI not in the filter (x32 numbers on an x86_64-only filter).
 */
import { ENOSYS, retErrno, SECCOMP_RET_KILL_THREAD } from "./actions.ts";
import type { SeccompArch } from "./arch.ts";
import {
  Assembler,
  BPF_JMP_JEQ_K,
  BPF_JMP_JGE_K,
  BPF_JMP_JGT_K,
  type Label,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_NR,
} from "./bpf.ts";
import type { Condition } from "./profile.ts";
import type { AbiRules, SyscallRules } from "./resolve.ts";

/** libseccomp's default action for an architecture missing from the filter. */
export const BAD_ARCH_ACTION = SECCOMP_RET_KILL_THREAD;

type Target = { ret: number } | { syscall: SyscallRules };

interface Interval {
  lo: number;
  hi: number;
  target: Target;
}

/** ABIs grouped by the AUDIT arch value the kernel reports. */
export interface ArchSection {
  audit: number;
  abis: AbiRules[];
}

export function emitFilter(sections: ArchSection[], defaultAction: number): Uint8Array {
  const asm = new Assembler();
  const starts = sections.map(() => asm.label());
  asm.loadWord(SECCOMP_DATA_ARCH);
  sections.forEach((s, i) => {
    const next = asm.label();
    asm.branch(BPF_JMP_JEQ_K, s.audit, starts[i], next);
    asm.bind(next);
  });
  asm.ret(BAD_ARCH_ACTION);
  sections.forEach((s, i) => {
    asm.bind(starts[i]);
    emitSection(asm, intervals(s, defaultAction), defaultAction);
  });
  return asm.assemble();
}

function intervals(section: ArchSection, defaultAction: number): Interval[] {
  const out: Interval[] = [];
  const abis = [...section.abis].sort((a, b) => a.arch.nrMin - b.arch.nrMin);
  let next = 0;
  for (const abi of abis) {
    if (abi.arch.nrMin > next) {
      out.push({ lo: next, hi: abi.arch.nrMin - 1, target: { ret: BAD_ARCH_ACTION } });
    }
    let from = abi.arch.nrMin;
    const last = abi.enosysAbove ?? abi.arch.nrMax;
    for (const nr of [...abi.syscalls.keys()].sort((a, b) => a - b)) {
      if (nr > from) out.push({ lo: from, hi: nr - 1, target: { ret: defaultAction } });
      const rules = abi.syscalls.get(nr)!;
      const only = rules.rules[0];
      const target = rules.rules.length === 1 && only.conditions.length === 0
        ? { ret: only.action }
        : { syscall: rules };
      out.push({ lo: nr, hi: nr, target });
      from = nr + 1;
    }
    if (from <= last) out.push({ lo: from, hi: last, target: { ret: defaultAction } });
    if (last < abi.arch.nrMax) {
      out.push({ lo: last + 1, hi: abi.arch.nrMax, target: { ret: retErrno(ENOSYS) } });
    }
    next = abi.arch.nrMax + 1;
  }
  if (next <= 0xffffffff) out.push({ lo: next, hi: 0xffffffff, target: { ret: BAD_ARCH_ACTION } });
  return coalesce(out);
}

/** Merges neighbouring intervals that return the same value. */
function coalesce(list: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const iv of list) {
    const prev = out[out.length - 1];
    if (prev && "ret" in prev.target && "ret" in iv.target && prev.target.ret === iv.target.ret) {
      prev.hi = iv.hi;
    } else out.push({ ...iv });
  }
  return out;
}

function emitSection(asm: Assembler, list: Interval[], defaultAction: number): void {
  const rets = new Map<number, Label>();
  const blocks = new Map<SyscallRules, Label>();
  const labelOf = (t: Target): Label => {
    if ("ret" in t) {
      if (!rets.has(t.ret)) rets.set(t.ret, asm.label());
      return rets.get(t.ret)!;
    }
    if (!blocks.has(t.syscall)) blocks.set(t.syscall, asm.label());
    return blocks.get(t.syscall)!;
  };
  asm.loadWord(SECCOMP_DATA_NR);
  // Binary search: each node is `jge lo(mid)`; a one-interval side jumps to its target.
  const search = (from: number, to: number, self: Label | undefined): void => {
    if (to - from === 1) {
      if (self !== undefined) throw new Error("unreachable: leaf with own label");
      return;
    }
    const mid = (from + to) >> 1;
    const left = mid - from === 1 ? labelOf(list[from].target) : asm.label();
    const right = to - mid === 1 ? labelOf(list[mid].target) : asm.label();
    if (self !== undefined) asm.bind(self);
    asm.branch(BPF_JMP_JGE_K, list[mid].lo, right, left);
    if (mid - from > 1) search(from, mid, left);
    if (to - mid > 1) search(mid, to, right);
  };
  if (list.length === 1) asm.jump(labelOf(list[0].target));
  else search(0, list.length, undefined);
  for (const [value, label] of rets) {
    asm.bind(label);
    asm.ret(value);
  }
  for (const [syscall, label] of blocks) {
    asm.bind(label);
    emitRules(asm, syscall, defaultAction);
  }
}

/** Conditional rules of one syscall: first rule whose conditions all hold decides. */
function emitRules(asm: Assembler, syscall: SyscallRules, defaultAction: number): void {
  for (const rule of syscall.rules) {
    const pass = asm.label();
    const fail = asm.label();
    rule.conditions.forEach((c, i) => {
      const ok = i === rule.conditions.length - 1 ? pass : asm.label();
      emitCondition(asm, syscall.arch, c, ok, fail);
      if (ok !== pass) asm.bind(ok);
    });
    if (rule.conditions.length === 0) asm.jump(pass);
    asm.bind(pass);
    asm.ret(rule.action);
    asm.bind(fail);
  }
  asm.ret(defaultAction);
}

const LOW = 0xffffffffn;

function emitCondition(
  asm: Assembler,
  arch: SeccompArch,
  c: Condition,
  pass: Label,
  fail: Label,
): void {
  const loOff = SECCOMP_DATA_ARGS + 8 * c.index;
  const hiOff = loOff + 4;
  const lo = Number(c.value & LOW);
  const hi = Number(c.value >> 32n);
  if (c.op === "MASKED_EQ") {
    // value is the mask, valueTwo the datum; a zero-mask half always matches.
    const mask = c.value;
    const datum = c.valueTwo & mask;
    const halves = [
      { off: hiOff, m: Number(mask >> 32n), d: Number(datum >> 32n) },
      { off: loOff, m: Number(mask & LOW), d: Number(datum & LOW) },
    ].filter((h) => h.m !== 0 && (arch.bits === 64 || h.off === loOff));
    if (halves.length === 0) return asm.jump(pass);
    halves.forEach((h, i) => {
      const ok = i === halves.length - 1 ? pass : asm.label();
      asm.loadWord(h.off);
      asm.and(h.m);
      asm.branch(BPF_JMP_JEQ_K, h.d, ok, fail);
      if (ok !== pass) asm.bind(ok);
    });
    return;
  }
  if (arch.bits === 32) {
    // libseccomp on 32-bit ABIs compares the low word with the value truncated to 32 bits.
    asm.loadWord(loOff);
    emitWordCompare(asm, c.op, lo, pass, fail);
    return;
  }
  const lowWord = asm.label();
  asm.loadWord(hiOff);
  switch (c.op) {
    case "EQ":
      asm.branch(BPF_JMP_JEQ_K, hi, lowWord, fail);
      break;
    case "NE":
      asm.branch(BPF_JMP_JEQ_K, hi, lowWord, pass);
      break;
    case "GT":
    case "GE": {
      const equalHigh = asm.label();
      asm.branch(BPF_JMP_JGT_K, hi, pass, equalHigh);
      asm.bind(equalHigh);
      asm.branch(BPF_JMP_JEQ_K, hi, lowWord, fail);
      break;
    }
    case "LT":
    case "LE": {
      const equalHigh = asm.label();
      asm.branch(BPF_JMP_JGT_K, hi, fail, equalHigh);
      asm.bind(equalHigh);
      asm.branch(BPF_JMP_JEQ_K, hi, lowWord, pass);
      break;
    }
  }
  asm.bind(lowWord);
  asm.loadWord(loOff);
  emitWordCompare(asm, c.op, lo, pass, fail);
}

/** Unsigned 32-bit compare of the accumulator with k. */
function emitWordCompare(
  asm: Assembler,
  op: Condition["op"],
  k: number,
  pass: Label,
  fail: Label,
): void {
  switch (op) {
    case "EQ":
      return asm.branch(BPF_JMP_JEQ_K, k, pass, fail);
    case "NE":
      return asm.branch(BPF_JMP_JEQ_K, k, fail, pass);
    case "GT":
      return asm.branch(BPF_JMP_JGT_K, k, pass, fail);
    case "GE":
      return asm.branch(BPF_JMP_JGE_K, k, pass, fail);
    case "LT":
      return asm.branch(BPF_JMP_JGE_K, k, fail, pass);
    case "LE":
      return asm.branch(BPF_JMP_JGT_K, k, fail, pass);
    case "MASKED_EQ":
      throw new Error("unreachable: MASKED_EQ handled by the caller");
  }
}
