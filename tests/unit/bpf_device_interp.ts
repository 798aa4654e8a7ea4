/**
 * A small eBPF interpreter for tests: runs a BPF_PROG_TYPE_CGROUP_DEVICE program over
 * a `struct bpf_cgroup_dev_ctx` { u32 access_type; u32 major; u32 minor } and returns
 * r0. Written from the eBPF instruction set document, independently of
 * src/cgroups/devices_bpf.ts: it decodes the raw bytes, so the tests check the encoding
 * too. Supports the ALU/ALU64 (K and X), JMP/JMP32, LDX and EXIT classes, with the
 * verifier rules that matter here: forward jumps only, ctx reads inside the 12 bytes,
 * registers read only after being written.
 */

export interface DeviceRequest {
  /** 1 = block, 2 = char (BPF_DEVCG_DEV_*). */
  type: number;
  /** BPF_DEVCG_ACC_* bits: 1 = mknod, 2 = read, 4 = write. */
  access: number;
  major: number;
  minor: number;
}

const MASK64 = (1n << 64n) - 1n;
const MASK32 = (1n << 32n) - 1n;

function signed(v: bigint, bits: bigint): bigint {
  return BigInt.asIntN(Number(bits), v);
}

/** Runs the program; throws on anything the kernel's verifier or CPU would reject. */
export function runDeviceProgram(program: Uint8Array, req: DeviceRequest): number {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error("bad program length");
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const ctx = new DataView(new ArrayBuffer(12));
  ctx.setUint32(0, ((req.access & 0xffff) << 16 | (req.type & 0xffff)) >>> 0, true);
  ctx.setUint32(4, req.major >>> 0, true);
  ctx.setUint32(8, req.minor >>> 0, true);
  const regs: (bigint | undefined)[] = new Array(11).fill(undefined);
  regs[1] = 0n; // the ctx pointer: only used as the base of LDX
  const n = program.length / 8;
  const read = (r: number): bigint => {
    const v = regs[r];
    if (v === undefined) throw new Error(`read of uninitialized r${r}`);
    return v;
  };
  for (let pc = 0, steps = 0; pc < n; steps++) {
    if (steps > 100_000) throw new Error("too many steps");
    const code = view.getUint8(pc * 8);
    const dst = view.getUint8(pc * 8 + 1) & 0xf;
    const src = view.getUint8(pc * 8 + 1) >> 4;
    const off = view.getInt16(pc * 8 + 2, true);
    const imm = BigInt(view.getInt32(pc * 8 + 4, true));
    const cls = code & 0x07;
    const op = code & 0xf0;
    const useX = (code & 0x08) !== 0;
    if (dst > 10 || src > 10) throw new Error(`bad register at ${pc}`);
    if (cls === 0x04 || cls === 0x07) { // ALU (32) / ALU64
      const is64 = cls === 0x07;
      const mask = is64 ? MASK64 : MASK32;
      const b = (useX ? read(src) : (imm & MASK64)) & mask;
      const a = op === 0xb0 ? 0n : read(dst) & mask;
      let r: bigint;
      switch (op) {
        case 0x00:
          r = a + b;
          break;
        case 0x10:
          r = a - b;
          break;
        case 0x40:
          r = a | b;
          break;
        case 0x50:
          r = a & b;
          break;
        case 0x60:
          r = a << (b & (is64 ? 63n : 31n));
          break;
        case 0x70:
          r = a >> (b & (is64 ? 63n : 31n));
          break;
        case 0xa0:
          r = a ^ b;
          break;
        case 0xb0:
          r = b;
          break;
        default:
          throw new Error(`unsupported ALU op 0x${code.toString(16)} at ${pc}`);
      }
      if (dst === 10) throw new Error("write to r10");
      regs[dst] = r & mask; // 32-bit ops zero the upper half
      pc++;
      continue;
    }
    if (cls === 0x01) { // LDX
      if ((code & 0xe0) !== 0x60) throw new Error(`unsupported load mode at ${pc}`);
      if (src !== 1 || regs[1] !== 0n) throw new Error(`LDX not from the ctx at ${pc}`);
      const size = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 }[code & 0x18]!;
      if (off < 0 || off + size > 12 || off % size !== 0) throw new Error(`bad ctx read at ${pc}`);
      regs[dst] = size === 4
        ? BigInt(ctx.getUint32(off, true))
        : size === 2
        ? BigInt(ctx.getUint16(off, true))
        : size === 1
        ? BigInt(ctx.getUint8(off))
        : ctx.getBigUint64(off, true);
      pc++;
      continue;
    }
    if (cls === 0x05 || cls === 0x06) { // JMP / JMP32
      if (op === 0x90) { // EXIT
        return Number(read(0) & MASK32);
      }
      if (op === 0x00) { // JA
        if (off < 0) throw new Error("backward jump");
        pc += 1 + off;
        continue;
      }
      const is32 = cls === 0x06;
      const mask = is32 ? MASK32 : MASK64;
      const bits = is32 ? 32n : 64n;
      const a = read(dst) & mask;
      const b = (useX ? read(src) : imm & MASK64) & mask;
      let taken: boolean;
      switch (op) {
        case 0x10:
          taken = a === b;
          break;
        case 0x20:
          taken = a > b;
          break;
        case 0x30:
          taken = a >= b;
          break;
        case 0x40:
          taken = (a & b) !== 0n;
          break;
        case 0x50:
          taken = a !== b;
          break;
        case 0x60:
          taken = signed(a, bits) > signed(b, bits);
          break;
        case 0x70:
          taken = signed(a, bits) >= signed(b, bits);
          break;
        case 0xa0:
          taken = a < b;
          break;
        case 0xb0:
          taken = a <= b;
          break;
        case 0xc0:
          taken = signed(a, bits) < signed(b, bits);
          break;
        case 0xd0:
          taken = signed(a, bits) <= signed(b, bits);
          break;
        default:
          throw new Error(`unsupported JMP op 0x${code.toString(16)} at ${pc}`);
      }
      if (off < 0) throw new Error("backward jump");
      pc += taken ? 1 + off : 1;
      continue;
    }
    throw new Error(`unsupported instruction class ${cls} at ${pc}`);
  }
  throw new Error("fell off the end of the program");
}
