/**
 * Reading a syscall Program's data back, for tests: the program is assembled at a
 * fixed base and strings, byte blocks and pointer arrays are read at the addresses
 * the ops carry.
 */
import { type Arg, HEADER_SIZE, OP_SIZE, type Program, type Ref } from "../../src/linux/program.ts";

export const IMAGE_BASE = 0x5500_0000_0000n;

export class ProgramImage {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly dataStart: number;

  constructor(readonly program: Program, reportFd = 3) {
    this.bytes = program.assemble(IMAGE_BASE, reportFd);
    this.view = new DataView(this.bytes.buffer);
    this.dataStart = HEADER_SIZE + program.ops.length * OP_SIZE;
  }

  private offsetOf(r: Ref | bigint): number {
    if (typeof r === "bigint") return Number(r - IMAGE_BASE);
    return this.dataStart + r.ref;
  }

  /** `n` bytes at a data ref or absolute address. */
  read(r: Ref | bigint, n: number): Uint8Array {
    const off = this.offsetOf(r);
    return this.bytes.slice(off, off + n);
  }

  u64(r: Ref | bigint, index = 0): bigint {
    return this.view.getBigUint64(this.offsetOf(r) + index * 8, true);
  }

  /** The NUL-terminated string at a data ref or absolute address. */
  cstr(r: Ref | bigint): string {
    const off = this.offsetOf(r);
    return new TextDecoder().decode(this.bytes.slice(off, this.bytes.indexOf(0, off)));
  }

  /** A NULL-terminated array of string pointers (argv, envp). */
  strArray(r: Ref): string[] {
    const out: string[] = [];
    for (let i = 0;; i++) {
      const p = this.u64(r, i);
      if (p === 0n) return out;
      out.push(this.cstr(p));
    }
  }

  /** An op argument that is a data ref, as a string. */
  argStr(arg: Arg): string {
    return this.cstr(asRef(arg));
  }
}

export function asRef(arg: Arg): Ref {
  if (typeof arg !== "object" || !("ref" in arg)) {
    throw new Error(`not a data reference: ${Deno.inspect(arg)}`);
  }
  return arg;
}
