/**
 * A classic-BPF interpreter with the kernel's seccomp checks, for tests: runs a filter
 * over a `struct seccomp_data` and returns the SECCOMP_RET_* value. Written from the BPF
 * spec, independently of src/seccomp, so tests check the emitted bytes, not the emitter.
 */

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to 6 arguments, as u64 (negative numbers are taken as two's complement). */
  args?: (bigint | number)[];
}

const MAXINSNS = 4096;
const DATA_SIZE = 64;

/** Encodes seccomp_data as the kernel lays it out (little-endian). */
export function encodeSeccompData(d: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(DATA_SIZE));
  view.setInt32(0, d.nr | 0, true);
  view.setUint32(4, d.arch >>> 0, true);
  view.setBigUint64(8, BigInt.asUintN(64, d.instructionPointer ?? 0n), true);
  for (let i = 0; i < 6; i++) {
    view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), true);
  }
  return view;
}

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(program: Uint8Array): Insn[] {
  if (program.byteLength % 8 !== 0) throw new Error("program length is not a multiple of 8");
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const insns: Insn[] = [];
  for (let o = 0; o < program.byteLength; o += 8) {
    insns.push({
      code: view.getUint16(o, true),
      jt: view.getUint8(o + 2),
      jf: view.getUint8(o + 3),
      k: view.getUint32(o + 4, true),
    });
  }
  return insns;
}

/** The static checks of the kernel (bpf_check_classic + seccomp_check_filter) we rely on. */
export function checkProgram(program: Uint8Array): void {
  const insns = decode(program);
  if (insns.length === 0 || insns.length > MAXINSNS) {
    throw new Error(`program length ${insns.length} outside 1..${MAXINSNS}`);
  }
  insns.forEach((ins, pc) => {
    const cls = ins.code & 0x07;
    if (cls === 0x05) {
      const op = ins.code & 0xf0;
      if (op === 0x00) {
        if (pc + 1 + ins.k >= insns.length) throw new Error(`pc ${pc}: JA out of range`);
      } else if (pc + 1 + Math.max(ins.jt, ins.jf) >= insns.length) {
        throw new Error(`pc ${pc}: conditional jump out of range`);
      }
    }
    if (ins.code === 0x20 && (ins.k % 4 !== 0 || ins.k >= DATA_SIZE)) {
      throw new Error(`pc ${pc}: bad seccomp_data offset ${ins.k}`);
    }
  });
  const last = insns[insns.length - 1].code;
  if (last !== 0x06 && last !== 0x16) throw new Error("last instruction is not RET");
}

export interface RunResult {
  ret: number;
  /** Instructions executed. */
  steps: number;
}

/** Runs the filter; throws on anything the interpreter does not implement. */
export function runFilter(program: Uint8Array, data: SeccompData): RunResult {
  checkProgram(program);
  const insns = decode(program);
  const mem = encodeSeccompData(data);
  const scratch = new Uint32Array(16);
  let a = 0;
  let x = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    if (pc >= insns.length) throw new Error("fell off the end of the program");
    const { code, jt, jf, k } = insns[pc++];
    steps++;
    const src = (code & 0x08) ? x : k;
    switch (code) {
      case 0x20: // LD W ABS
        a = mem.getUint32(k, true);
        continue;
      case 0x00: // LD IMM
        a = k;
        continue;
      case 0x01: // LDX IMM
        x = k;
        continue;
      case 0x60: // LD MEM
        a = scratch[k];
        continue;
      case 0x61: // LDX MEM
        x = scratch[k];
        continue;
      case 0x02: // ST
        scratch[k] = a;
        continue;
      case 0x03: // STX
        scratch[k] = x;
        continue;
      case 0x07: // TAX
        x = a;
        continue;
      case 0x87: // TXA
        a = x;
        continue;
      case 0x06: // RET K
        return { ret: k >>> 0, steps };
      case 0x16: // RET A
        return { ret: a >>> 0, steps };
      case 0x05: // JA
        pc += k;
        continue;
    }
    const cls = code & 0x07;
    const op = code & 0xf0;
    if (cls === 0x04) {
      a = alu(op, a, src >>> 0);
      continue;
    }
    if (cls === 0x05) {
      let cond: boolean;
      const v = src >>> 0;
      if (op === 0x10) cond = a === v;
      else if (op === 0x20) cond = a > v;
      else if (op === 0x30) cond = a >= v;
      else if (op === 0x40) cond = (a & v) !== 0;
      else throw new Error(`unknown jump 0x${code.toString(16)}`);
      pc += cond ? jt : jf;
      continue;
    }
    throw new Error(`unsupported opcode 0x${code.toString(16)} at ${pc - 1}`);
  }
}

function alu(op: number, a: number, v: number): number {
  switch (op) {
    case 0x00:
      return (a + v) >>> 0;
    case 0x10:
      return (a - v) >>> 0;
    case 0x20:
      return Math.imul(a, v) >>> 0;
    case 0x40:
      return (a | v) >>> 0;
    case 0x50:
      return (a & v) >>> 0;
    case 0x60:
      return v >= 32 ? 0 : (a << v) >>> 0;
    case 0x70:
      return v >= 32 ? 0 : a >>> v;
    case 0x80:
      return (-a) >>> 0;
    case 0xa0:
      return (a ^ v) >>> 0;
    default:
      throw new Error(`unsupported ALU op 0x${op.toString(16)}`);
  }
}
