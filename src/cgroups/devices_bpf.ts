/**
 * The cgroup v2 device filter: an eBPF `BPF_PROG_TYPE_CGROUP_DEVICE` program built
 * from the container's device rules (the same list the v1 devices controller gets).
 *
 * Semantics (v1's, as runc's device emulator gives them): the default is deny; rules
 * apply in order and, for each access bit (r, w, m) the request asks for, the LAST
 * rule that matches the device (type, major, minor; "a" and -1/absent are wildcards)
 * and names that bit decides it. A request is allowed only when every bit it asks for
 * is allowed. The program walks the rules from the last to the first and keeps the
 * undecided bits in r6:
 *
 *   r2 = type, r3 = access, r4 = major, r5 = minor   (struct bpf_cgroup_dev_ctx)
 *   r6 = r3
 *   per rule, last first:  if the device does not match goto next
 *     allow:  r6 &= ~access; if r6 == 0 goto allow
 *     deny:   if r6 & access goto deny
 *   deny: r0 = 0; exit        allow: r0 = 1; exit
 *
 * Difference from runc's emulator: a deny rule after a wildcard allow punches a hole
 * in it here (runc's emulator, like the v1 kernel, only removes exact matches), which
 * is the stricter reading of "last match wins".
 */
import { RuntsError } from "../errors.ts";
import type { LinuxDeviceCgroup } from "../spec/types.ts";

/** License string of the program (runc uses the same). */
export const DEVICE_FILTER_LICENSE = "Apache";

/** include/uapi/linux/bpf.h: bpf_cgroup_dev_ctx values. */
export const BPF_DEVCG = {
  DEV_BLOCK: 1,
  DEV_CHAR: 2,
  ACC_MKNOD: 1,
  ACC_READ: 2,
  ACC_WRITE: 4,
} as const;

/** One eBPF instruction (struct bpf_insn). */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Opcodes used by the device filter (class | op | source). */
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W:  dst = *(u32 *)(src + off)
  AND32_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  MOV32_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JA: 0x05, // BPF_JMP | BPF_JA
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JNE_K: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JSET_K: 0x45, // BPF_JMP | BPF_JSET | BPF_K
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

const JUMPS = new Set<number>([OP.JA, OP.JEQ_K, OP.JNE_K, OP.JSET_K]);

/** 8 bytes per instruction, little-endian, as bpf(BPF_PROG_LOAD) takes them. */
export function encodeProgram(insns: BpfInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const v = new DataView(out.buffer);
  insns.forEach((insn, i) => {
    v.setUint8(i * 8, insn.code);
    v.setUint8(i * 8 + 1, ((insn.src & 0xf) << 4) | (insn.dst & 0xf));
    v.setInt16(i * 8 + 2, insn.off, true);
    v.setInt32(i * 8 + 4, insn.imm, true);
  });
  return out;
}

/** Inverse of encodeProgram (for tests and debugging). */
export function decodeProgram(bytes: Uint8Array): BpfInsn[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const regs = v.getUint8(i + 1);
    out.push({
      code: v.getUint8(i),
      dst: regs & 0xf,
      src: regs >> 4,
      off: v.getInt16(i + 2, true),
      imm: v.getInt32(i + 4, true),
    });
  }
  return out;
}

/** Access string ("rwm", "" = all) as BPF_DEVCG_ACC_* bits. */
export function accessBits(access: string | undefined, where = "access"): number {
  let bits = 0;
  for (const ch of access || "rwm") {
    if (ch === "r") bits |= BPF_DEVCG.ACC_READ;
    else if (ch === "w") bits |= BPF_DEVCG.ACC_WRITE;
    else if (ch === "m") bits |= BPF_DEVCG.ACC_MKNOD;
    else throw new RuntsError(`${where}: unknown device access ${JSON.stringify(ch)}`);
  }
  return bits;
}

type Label = "next" | "allow" | "deny";
interface Pending {
  insn: BpfInsn;
  label?: Label;
}

function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): BpfInsn {
  return { code, dst, src, off, imm };
}

/** A device number as a 32-bit jump immediate; undefined for a wildcard. */
function deviceNumber(n: number | undefined, where: string): number | undefined {
  if (n === undefined || n === -1) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new RuntsError(`${where}: must be -1 or an integer in [0, 2^31), got ${n}`);
  }
  return n;
}

/**
 * The filter program for `rules` (in config order; see the file comment for the
 * semantics). `where` prefixes error messages (a JSON path).
 */
export function deviceFilterProgram(
  rules: LinuxDeviceCgroup[],
  where = "/linux/resources/devices",
): BpfInsn[] {
  const head: BpfInsn[] = [
    insn(OP.LDXW, 2, 1, 0), // r2 = access_type
    insn(OP.AND32_K, 2, 0, 0, 0xffff), // r2 = type
    insn(OP.LDXW, 3, 1, 0), // r3 = access_type
    insn(OP.RSH32_K, 3, 0, 0, 16), // r3 = access
    insn(OP.LDXW, 4, 1, 4), // r4 = major
    insn(OP.LDXW, 5, 1, 8), // r5 = minor
    insn(OP.MOV32_X, 6, 3), // r6 = undecided access bits
  ];
  const blocks: Pending[][] = [];
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i];
    const at = `${where}/${i}`;
    const block: Pending[] = [];
    const type = rule.type ?? "a";
    if (type === "b" || type === "c") {
      const t = type === "b" ? BPF_DEVCG.DEV_BLOCK : BPF_DEVCG.DEV_CHAR;
      block.push({ insn: insn(OP.JNE_K, 2, 0, 0, t), label: "next" });
    } else if (type !== "a") {
      throw new RuntsError(`${at}/type: must be "a", "b" or "c", got ${JSON.stringify(type)}`);
    }
    const major = deviceNumber(rule.major, `${at}/major`);
    const minor = deviceNumber(rule.minor, `${at}/minor`);
    if (major !== undefined) block.push({ insn: insn(OP.JNE_K, 4, 0, 0, major), label: "next" });
    if (minor !== undefined) block.push({ insn: insn(OP.JNE_K, 5, 0, 0, minor), label: "next" });
    const bits = accessBits(rule.access, `${at}/access`);
    const matchesEverything = block.length === 0 && bits === 7;
    if (rule.allow) {
      block.push({ insn: insn(OP.AND32_K, 6, 0, 0, ~bits) });
      block.push({ insn: insn(OP.JEQ_K, 6, 0, 0, 0), label: "allow" });
    } else {
      block.push({ insn: insn(OP.JSET_K, 6, 0, 0, bits), label: "deny" });
    }
    blocks.push(block);
    // Every request is decided here: earlier rules can never be reached.
    if (matchesEverything) break;
  }
  // Lay out the blocks, then resolve the labels to relative offsets.
  const out: BpfInsn[] = [...head];
  const fixups: { pc: number; label: Label; next: number }[] = [];
  for (const block of blocks) {
    const next = out.length + block.length;
    for (const p of block) {
      if (p.label) fixups.push({ pc: out.length, label: p.label, next });
      out.push(p.insn);
    }
  }
  const denyPc = out.length;
  out.push(insn(OP.MOV32_K, 0, 0, 0, 0), insn(OP.EXIT));
  const allowPc = out.length;
  out.push(insn(OP.MOV32_K, 0, 0, 0, 1), insn(OP.EXIT));
  for (const f of fixups) {
    const target = f.label === "next" ? f.next : f.label === "allow" ? allowPc : denyPc;
    const off = target - (f.pc + 1);
    if (off > 0x7fff) throw new RuntsError(`${where}: too many device rules for one program`);
    out[f.pc] = { ...out[f.pc], off };
  }
  for (const [pc, i] of out.entries()) {
    if (JUMPS.has(i.code) && pc + 1 + i.off > out.length) {
      throw new Error(`device filter: jump out of the program at ${pc}`);
    }
  }
  return out;
}
