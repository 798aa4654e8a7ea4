/**
 * Classic BPF for seccomp: the opcodes runts emits and an assembler with symbolic labels.
 * Conditional jumps only have 8-bit forward offsets, so a jump whose target is further
 * than 255 instructions away is routed through an unconditional `JA` (32-bit offset)
 * placed right after it.
 */
import { RuntsError } from "../errors.ts";

export const BPF_LD_W_ABS = 0x20;
export const BPF_ALU_AND_K = 0x54;
export const BPF_JMP_JA = 0x05;
export const BPF_JMP_JEQ_K = 0x15;
export const BPF_JMP_JGT_K = 0x25;
export const BPF_JMP_JGE_K = 0x35;
export const BPF_JMP_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

/** Kernel limit on filter length (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;
/** Size of `struct sock_filter`. */
export const SOCK_FILTER_SIZE = 8;

/** `struct seccomp_data` offsets. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_ARGS = 16;

export type CondOp = typeof BPF_JMP_JEQ_K | typeof BPF_JMP_JGT_K | typeof BPF_JMP_JGE_K;

/** A position in the program, bound once with `Assembler.bind`. */
export type Label = number & { readonly __label: unique symbol };

type Item =
  | { kind: "plain"; code: number; k: number }
  | { kind: "ja"; target: Label }
  | { kind: "cond"; code: number; k: number; jt: Label; jf: Label; farT: boolean; farF: boolean }
  | { kind: "bind"; label: Label };

export class Assembler {
  #items: Item[] = [];
  #labels = 0;

  label(): Label {
    return this.#labels++ as Label;
  }

  /** Places `label` at the next instruction emitted. */
  bind(label: Label): void {
    this.#items.push({ kind: "bind", label });
  }

  loadWord(offset: number): void {
    this.#items.push({ kind: "plain", code: BPF_LD_W_ABS, k: offset });
  }

  and(k: number): void {
    this.#items.push({ kind: "plain", code: BPF_ALU_AND_K, k: k >>> 0 });
  }

  ret(k: number): void {
    this.#items.push({ kind: "plain", code: BPF_RET_K, k: k >>> 0 });
  }

  jump(target: Label): void {
    this.#items.push({ kind: "ja", target });
  }

  /** `if (A <op> k) goto jt else goto jf`, unsigned. */
  branch(code: CondOp, k: number, jt: Label, jf: Label): void {
    if (jt === jf) {
      this.jump(jt);
      return;
    }
    this.#items.push({ kind: "cond", code, k: k >>> 0, jt, jf, farT: false, farF: false });
  }

  /** Resolves labels (adding JA trampolines for long jumps) and encodes the program. */
  assemble(): Uint8Array {
    const at = this.#layout();
    const count = at.get(-1 as Label)!;
    const out = new Uint8Array(count * SOCK_FILTER_SIZE);
    const view = new DataView(out.buffer);
    let pc = 0;
    const put = (code: number, jt: number, jf: number, k: number) => {
      const o = pc * SOCK_FILTER_SIZE;
      view.setUint16(o, code, true);
      view.setUint8(o + 2, jt);
      view.setUint8(o + 3, jf);
      view.setUint32(o + 4, k >>> 0, true);
      pc++;
    };
    const target = (label: Label) => {
      const t = at.get(label);
      if (t === undefined) throw new RuntsError(`seccomp: internal error: label ${label} unbound`);
      if (t >= count) throw new RuntsError(`seccomp: internal error: label ${label} past end`);
      return t;
    };
    for (const item of this.#items) {
      if (item.kind === "bind") continue;
      if (item.kind === "plain") put(item.code, 0, 0, item.k);
      else if (item.kind === "ja") put(BPF_JMP_JA, 0, 0, target(item.target) - (pc + 1));
      else {
        const self = pc;
        const jt = item.farT ? 0 : target(item.jt) - (self + 1);
        const jf = item.farF ? (item.farT ? 1 : 0) : target(item.jf) - (self + 1);
        put(item.code, jt, jf, item.k);
        if (item.farT) put(BPF_JMP_JA, 0, 0, target(item.jt) - (pc + 1));
        if (item.farF) put(BPF_JMP_JA, 0, 0, target(item.jf) - (pc + 1));
      }
    }
    return out;
  }

  /**
   * Label positions (key -1: program length). Marks conditional jumps as far until
   * every near offset fits in 8 bits; adding trampolines only lengthens jumps, so this
   * converges.
   */
  #layout(): Map<Label, number> {
    for (;;) {
      const at = new Map<Label, number>();
      const pcOf: number[] = [];
      let pc = 0;
      for (const item of this.#items) {
        pcOf.push(pc);
        if (item.kind === "bind") at.set(item.label, pc);
        else if (item.kind === "cond") pc += 1 + Number(item.farT) + Number(item.farF);
        else pc++;
      }
      at.set(-1 as Label, pc);
      const where = (label: Label) => {
        const t = at.get(label);
        if (t === undefined) {
          throw new RuntsError(`seccomp: internal error: label ${label} unbound`);
        }
        return t;
      };
      let changed = false;
      this.#items.forEach((item, i) => {
        const next = pcOf[i] + 1;
        if (item.kind === "ja" && where(item.target) < next) {
          throw new RuntsError("seccomp: internal error: backward jump");
        }
        if (item.kind !== "cond") return;
        const t = where(item.jt);
        const f = where(item.jf);
        if (t < next || f < next) throw new RuntsError("seccomp: internal error: backward jump");
        if (!item.farT && t - next > 255) item.farT = changed = true;
        if (!item.farF && f - next > 255) item.farF = changed = true;
      });
      if (!changed) return at;
    }
  }
}

/** One decoded `struct sock_filter`. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function decode(program: Uint8Array): SockFilter[] {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const out: SockFilter[] = [];
  for (let o = 0; o + SOCK_FILTER_SIZE <= program.byteLength; o += SOCK_FILTER_SIZE) {
    out.push({
      code: view.getUint16(o, true),
      jt: view.getUint8(o + 2),
      jf: view.getUint8(o + 3),
      k: view.getUint32(o + 4, true),
    });
  }
  return out;
}
