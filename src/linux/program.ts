/**
 * A syscall program: what a container process does between clone() and execve(),
 * as data. TypeScript builds it; the native interpreter in stub/ runs it in the
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
  /** An errno that is not a failure: continue with the next op. */
  ignore?: number | "any";
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

const CTL_STORE = 1n << 8n;
const CTL_STORE32 = 1n << 9n;
const CTL_EXPECT = 1n << 10n;
const CTL_JUMP_NONZERO = 1n << 11n;
const CTL_IGNORE_ANY = 1n << 12n;

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

  /** A NUL-terminated string. */
  str(s: string): Ref {
    return this.bytes(new TextEncoder().encode(s + "\0"));
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
   * Returns the bytes to copy to `base`.
   */
  assemble(base: bigint, reportFd: number): Uint8Array {
    const out = new Uint8Array(this.size);
    const view = new DataView(out.buffer);
    const dataStart = HEADER_SIZE + this.ops.length * OP_SIZE;
    const addr = (r: Ref) => base + BigInt(dataStart + r.ref);
    view.setBigUint64(0, BigInt(this.ops.length), true);
    view.setBigUint64(8, base + BigInt(HEADER_SIZE), true);
    view.setBigUint64(16, BigInt(reportFd), true);
    this.ops.forEach((op, i) => {
      const at = HEADER_SIZE + i * OP_SIZE;
      let ctl = 0n;
      op.args.forEach((a, j) => {
        let value: bigint;
        if (typeof a === "number" || typeof a === "bigint") value = BigInt(a);
        else if ("load" in a) {
          value = addr(a.load);
          ctl |= 1n << BigInt(j);
        } else value = addr(a);
        view.setBigUint64(at + 16 + j * 8, BigInt.asUintN(64, value), true);
      });
      const o = op.options;
      let aux = 0n;
      if (o.store) {
        ctl |= CTL_STORE;
        view.setBigUint64(at + 64, addr(o.store), true);
      } else if (o.store32) {
        ctl |= CTL_STORE | CTL_STORE32;
        view.setBigUint64(at + 64, addr(o.store32), true);
      }
      if (o.expect !== undefined) {
        ctl |= CTL_EXPECT;
        aux = BigInt(o.expect);
      }
      if (o.jumpIfNonzero) {
        ctl |= CTL_JUMP_NONZERO;
        aux = BigInt(boundIndex(o.jumpIfNonzero, op));
      }
      if (o.ignore === "any") ctl |= CTL_IGNORE_ANY;
      else if (o.ignore !== undefined) ctl |= BigInt(o.ignore) << 16n;
      if (o.onErrno) {
        ctl |= BigInt(o.onErrno.errno) << 32n;
        aux = BigInt(boundIndex(o.onErrno.to, op));
      }
      const exclusive = [o.expect !== undefined, !!o.jumpIfNonzero, !!o.onErrno];
      if (exclusive.filter(Boolean).length > 1) {
        throw new Error(`${op.what}: expect, jumpIfNonzero and onErrno are exclusive`);
      }
      view.setBigUint64(at, ctl, true);
      view.setBigUint64(at + 8, BigInt(op.nr), true);
      view.setBigUint64(at + 72, BigInt.asUintN(64, aux), true);
    });
    for (const c of this.chunks) out.set(c.bytes, dataStart + c.offset);
    for (const r of this.relocations) view.setBigUint64(dataStart + r.at, addr(r.target), true);
    return out;
  }
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
