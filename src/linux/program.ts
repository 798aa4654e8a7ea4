/**
 * A syscall program: what a container process does between clone() and execve(),
 * as data. TypeScript builds it; the native interpreter in interpreter/ runs it in the
 * child (JavaScript cannot run there). Keeping it data makes the whole setup
 * sequence unit-testable without root: tests read `ops` and their descriptions.
 *
 * Memory layout (one mmap'd region, copied into the child by clone):
 *   header (48 bytes) | ops (80 bytes each) | data (strings, structs, cells)
 */
import { SYS, type SyscallName } from "./sysno.ts";

export const HEADER_SIZE = 48;
export const OP_SIZE = 80;

/** An address inside the program's data area. */
export interface Ref {
  readonly ref: number;
}

/** A jump target: an op index, bound later. */
export interface Label {
  index: number;
}

/** A syscall argument: an immediate, the address of data, or the value stored at an address. */
export type Arg = number | bigint | Ref | { load: Ref };

export interface OpOptions {
  /** Store the result (64-bit) at this address. */
  store?: Ref;
  /** Store only the low 32 bits (e.g. an fd into a struct's int field). */
  store32?: Ref;
  /** Fail unless the result equals this value. */
  expect?: number | bigint;
  /** If the result is non-zero, continue at this label (fork: parent branch). */
  jumpIfNonzero?: Label;
  /** Errnos (at most two) that are not a failure: continue with the next op. */
  ignore?: number | [number, number] | "any";
  /** The description already states the failure: report it without the errno. */
  complete?: boolean;
  /** An errno that is not a failure: continue at `onErrno.to`. */
  onErrno?: { errno: number; to: Label };
}

export interface Op {
  readonly name: SyscallName;
  readonly nr: number;
  readonly args: Arg[];
  readonly options: OpOptions;
  /** What this step does, for error messages: "mount proc on /proc". */
  readonly what: string;
}

const CTL_STORE = 1 << 8;
const CTL_STORE32 = 1 << 9;
const CTL_EXPECT = 1 << 10;
const CTL_JUMP_NONZERO = 1 << 11;
const CTL_IGNORE_ANY = 1 << 12;

export class Program {
  readonly ops: Op[] = [];
  private readonly chunks: { offset: number; bytes: Uint8Array }[] = [];
  private readonly relocations: { at: number; target: Ref }[] = [];
  private dataSize = 0;

  /** Allocate `size` zeroed bytes (8-aligned) in the data area. */
  alloc(size: number): Ref {
    const offset = this.dataSize;
    this.dataSize += Math.ceil(Math.max(size, 1) / 8) * 8;
    return { ref: offset };
  }

  /** Copy bytes into the data area. */
  bytes(bytes: Uint8Array): Ref {
    const r = this.alloc(bytes.length);
    this.chunks.push({ offset: r.ref, bytes: bytes.slice() });
    return r;
  }

  /** A NUL-terminated string (UTF-8). */
  str(s: string): Ref {
    const bytes = cString(s);
    const r = this.alloc(bytes.length);
    this.chunks.push({ offset: r.ref, bytes });
    return r;
  }

  /** An 8-byte cell (e.g. to receive an fd), optionally initialised. */
  cell(initial: bigint = 0n): Ref {
    return this.u64s([initial]);
  }

  /** An array of little-endian u64 values. */
  u64s(values: (number | bigint)[]): Ref {
    const b = new Uint8Array(values.length * 8);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(x)), true));
    return this.bytes(b);
  }

  /** A NULL-terminated array of pointers to NUL-terminated strings (argv, envp). */
  strArray(items: string[]): Ref {
    const arr = this.alloc((items.length + 1) * 8);
    items.forEach((s, i) => this.relocations.push({ at: arr.ref + i * 8, target: this.str(s) }));
    return arr;
  }

  /** Write the absolute address of `target` at `at` (+offset) when assembled. */
  pointerAt(at: Ref, offset: number, target: Ref): void {
    this.relocations.push({ at: at.ref + offset, target });
  }

  label(): Label {
    return { index: -1 };
  }

  /** Bind a label to the next op to be emitted. */
  bind(label: Label): void {
    label.index = this.ops.length;
  }

  /** Append one syscall. Returns its index. */
  op(name: SyscallName, args: Arg[], what: string, options: OpOptions = {}): number {
    if (args.length > 6) throw new Error(`${name}: too many arguments`);
    this.ops.push({ name, nr: SYS[name], args, options, what });
    return this.ops.length - 1;
  }

  get size(): number {
    return HEADER_SIZE + this.ops.length * OP_SIZE + this.dataSize;
  }

  /**
   * Lay the program out for address `base`; `reportFd` receives the failure record.
   * Returns the bytes to copy to `base`. (Written as 32-bit halves: BigInt arithmetic
   * per field was a noticeable part of `run`'s start-up.)
   */
  assemble(base: bigint, reportFd: number): Uint8Array {
    const out = new Uint8Array(this.size);
    const w = new Uint32Array(out.buffer);
    const dataStart = HEADER_SIZE + this.ops.length * OP_SIZE;
    const baseLo = Number(base & 0xffffffffn);
    const baseHi = Number(base >> 32n);
    /** Store the 64-bit address base + offset at byte `at`. */
    const putAddr = (at: number, offset: number) => {
      const lo = baseLo + offset;
      w[at >> 2] = lo >>> 0;
      w[(at >> 2) + 1] = baseHi + Math.floor(lo / 0x100000000);
    };
    const putNum = (at: number, x: number | bigint) => {
      if (typeof x === "bigint") {
        const u = BigInt.asUintN(64, x);
        w[at >> 2] = Number(u & 0xffffffffn);
        w[(at >> 2) + 1] = Number(u >> 32n);
      } else {
        w[at >> 2] = x >>> 0;
        w[(at >> 2) + 1] = Math.floor(x / 0x100000000) >>> 0;
      }
    };
    putNum(0, this.ops.length);
    putAddr(8, HEADER_SIZE);
    putNum(16, reportFd);
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i];
      const at = HEADER_SIZE + i * OP_SIZE;
      let ctlLo = 0;
      let ctlHi = 0;
      for (let j = 0; j < op.args.length; j++) {
        const a = op.args[j];
        if (typeof a === "number" || typeof a === "bigint") putNum(at + 16 + j * 8, a);
        else if ("load" in a) {
          putAddr(at + 16 + j * 8, dataStart + a.load.ref);
          ctlLo |= 1 << j;
        } else putAddr(at + 16 + j * 8, dataStart + a.ref);
      }
      const o = op.options;
      let aux: number | bigint = 0;
      if (o.store) {
        ctlLo |= CTL_STORE;
        putAddr(at + 64, dataStart + o.store.ref);
      } else if (o.store32) {
        ctlLo |= CTL_STORE | CTL_STORE32;
        putAddr(at + 64, dataStart + o.store32.ref);
      }
      if (o.expect !== undefined) {
        ctlLo |= CTL_EXPECT;
        aux = o.expect;
      }
      if (o.jumpIfNonzero) {
        ctlLo |= CTL_JUMP_NONZERO;
        aux = boundIndex(o.jumpIfNonzero, op);
      }
      if (o.ignore === "any") ctlLo |= CTL_IGNORE_ANY;
      else if (typeof o.ignore === "number") ctlLo |= (o.ignore & 0xffff) << 16;
      else if (o.ignore) {
        ctlLo |= (o.ignore[0] & 0xffff) << 16;
        ctlHi |= (o.ignore[1] & 0xffff) << 16;
      }
      if (o.onErrno) {
        ctlHi |= o.onErrno.errno & 0xffff;
        aux = boundIndex(o.onErrno.to, op);
      }
      const exclusive = (o.expect !== undefined ? 1 : 0) + (o.jumpIfNonzero ? 1 : 0) +
        (o.onErrno ? 1 : 0);
      if (exclusive > 1) {
        throw new Error(`${op.what}: expect, jumpIfNonzero and onErrno are exclusive`);
      }
      w[at >> 2] = ctlLo >>> 0;
      w[(at >> 2) + 1] = ctlHi;
      putNum(at + 8, op.nr);
      putNum(at + 72, aux);
    }
    for (const c of this.chunks) out.set(c.bytes, dataStart + c.offset);
    for (const r of this.relocations) putAddr(dataStart + r.at, dataStart + r.target.ref);
    return out;
  }
}

const encoder = new TextEncoder();

/** UTF-8 + NUL; ASCII (every path and name in practice) without a TextEncoder call. */
function cString(s: string): Uint8Array {
  const out = new Uint8Array(s.length + 1);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(s + "\0");
    out[i] = c;
  }
  return out;
}

function boundIndex(label: Label, op: Op): number {
  if (label.index < 0) throw new Error(`${op.what}: jump to an unbound label`);
  return label.index;
}

/** The failure record the interpreter writes: which op failed, and how. */
export interface FailureRecord {
  op: number;
  errno: number;
  result: bigint;
}

export function decodeFailure(bytes: Uint8Array): FailureRecord {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { op: v.getUint32(0, true), errno: v.getUint32(4, true), result: v.getBigInt64(8, true) };
}
