/**
 * The byte layout Program.assemble() produces for the native interpreter
 * (src/linux/interpreter/x86_64.S): header, ops with their ctl bits, data and relocations.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { decodeFailure, HEADER_SIZE, OP_SIZE, Program, type Ref } from "../../src/linux/program.ts";
import { childFds, ChildProgram } from "../../src/linux/child.ts";
import { SYS } from "../../src/linux/sysno.ts";

const BASE = 0x7f00_1234_5000n;

/** Little-endian reader over an assembled program. */
class Image {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly nOps: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }
  op(i: number) {
    const at = HEADER_SIZE + i * OP_SIZE;
    return {
      ctl: this.u64(at),
      nr: this.u64(at + 8),
      args: [0, 1, 2, 3, 4, 5].map((j) => this.u64(at + 16 + j * 8)),
      store: this.u64(at + 64),
      aux: this.u64(at + 72),
    };
  }
  get dataStart(): number {
    return HEADER_SIZE + this.nOps * OP_SIZE;
  }
  /** Absolute address of a data ref for BASE. */
  addr(r: Ref): bigint {
    return BASE + BigInt(this.dataStart + r.ref);
  }
  /** Bytes at an absolute address. */
  at(address: bigint, length: number): Uint8Array {
    const off = Number(address - BASE);
    return this.bytes.slice(off, off + length);
  }
  cstr(address: bigint): string {
    const off = Number(address - BASE);
    const end = this.bytes.indexOf(0, off);
    return new TextDecoder().decode(this.bytes.slice(off, end));
  }
}

function assemble(p: Program, reportFd = 7): Image {
  return new Image(p.assemble(BASE, reportFd), p.ops.length);
}

Deno.test("program: sizes of the header and of one op match the interpreter", () => {
  assertEquals(HEADER_SIZE, 48);
  assertEquals(OP_SIZE, 80);
});

Deno.test("program: an empty program is a 48-byte header", () => {
  const p = new Program();
  assertEquals(p.size, 48);
  const img = assemble(p, 42);
  assertEquals(img.bytes.length, 48);
  assertEquals(img.u64(0), 0n, "nOps");
  assertEquals(img.u64(8), BASE + 48n, "ops address");
  assertEquals(img.u64(16), 42n, "report fd");
  // failed op, errno, result and reserved: zero until the interpreter reports.
  assertEquals(img.u64(24), 0n);
  assertEquals(img.u64(32), 0n);
  assertEquals(img.u64(40), 0n);
});

Deno.test("program: header counts ops, ops follow it, data follows the ops", () => {
  const p = new Program();
  const s = p.str("hello");
  p.op("getpid", [], "one");
  p.op("write", [1, s, 5], "two");
  p.op("exit_group", [3], "three");
  assertEquals(p.size, 48 + 3 * 80 + 8);
  const img = assemble(p, 5);
  assertEquals(img.bytes.length, p.size);
  assertEquals(img.u64(0), 3n);
  assertEquals(img.u64(8), BASE + 48n);
  assertEquals(img.u64(16), 5n);
  assertEquals(img.op(0).nr, BigInt(SYS.getpid));
  assertEquals(img.op(1).nr, BigInt(SYS.write));
  assertEquals(img.op(2).nr, BigInt(SYS.exit_group));
  assertEquals(img.op(1).args, [1n, BASE + BigInt(48 + 240), 5n, 0n, 0n, 0n]);
  assertEquals(img.cstr(img.op(1).args[1]), "hello");
  assertEquals(img.op(2).args, [3n, 0n, 0n, 0n, 0n, 0n]);
});

Deno.test("program: op() records name, syscall number, args and description", () => {
  const p = new Program();
  const i = p.op("openat", [-100, 1n], "open something", { ignore: 2 });
  assertEquals(i, 0);
  assertEquals(p.ops[0].name, "openat");
  assertEquals(p.ops[0].nr, 257);
  assertEquals(p.ops[0].what, "open something");
  assertEquals(p.ops[0].options, { ignore: 2 });
  assertEquals(p.op("close", [3], "close"), 1);
});

Deno.test("program: more than six arguments are refused", () => {
  const p = new Program();
  assertThrows(() => p.op("mount", [1, 2, 3, 4, 5, 6, 7], "x"), Error, "mount: too many arguments");
  assertEquals(p.ops.length, 0);
});

Deno.test("program: immediates are 64-bit two's complement, bigints kept whole", () => {
  const p = new Program();
  p.op("openat", [-100, 0xffffffffn, -1n, 0x7fffffffffffffffn, 2 ** 40, -1], "imm");
  const op = assemble(p).op(0);
  assertEquals(op.args, [
    0xffffffffffffff9cn,
    0xffffffffn,
    0xffffffffffffffffn,
    0x7fffffffffffffffn,
    0x10000000000n,
    0xffffffffffffffffn,
  ]);
  assertEquals(op.ctl, 0n, "immediates set no ctl bit");
  assertEquals(op.store, 0n);
  assertEquals(op.aux, 0n);
});

Deno.test("program: indirect args set ctl bits 0-5 and hold the cell's address", () => {
  for (let j = 0; j < 6; j++) {
    const p = new Program();
    const cell = p.cell(99n);
    const args = [0, 0, 0, 0, 0, 0].map((_, k) => (k === j ? { load: cell } : k + 1));
    p.op("mount", args, `arg ${j}`);
    const img = assemble(p);
    const op = img.op(0);
    assertEquals(op.ctl, 1n << BigInt(j), `ctl for arg ${j}`);
    assertEquals(op.args[j], img.addr(cell), `address for arg ${j}`);
    assertEquals(img.u64(Number(op.args[j] - BASE)), 99n, "cell initial value");
  }
  const p = new Program();
  const c = p.cell();
  p.op(
    "mount",
    [{ load: c }, { load: c }, { load: c }, { load: c }, { load: c }, { load: c }],
    "all",
  );
  assertEquals(assemble(p).op(0).ctl, 0x3fn);
});

Deno.test("program: a Ref argument is an absolute address, without a ctl bit", () => {
  const p = new Program();
  p.alloc(24);
  const r = p.str("/proc");
  p.op("chdir", [r], "chdir");
  const img = assemble(p);
  assertEquals(img.op(0).ctl, 0n);
  assertEquals(img.op(0).args[0], BASE + BigInt(48 + 80 + 24));
  assertEquals(img.cstr(img.op(0).args[0]), "/proc");
});

Deno.test("program: store sets bit 8 and the store address; store32 sets bits 8 and 9", () => {
  const p = new Program();
  const a = p.cell();
  const b = p.cell();
  p.op("openat", [-100, 0, 0], "store", { store: a });
  p.op("openat", [-100, 0, 0], "store32", { store32: b });
  const img = assemble(p);
  assertEquals(img.op(0).ctl, 0x100n);
  assertEquals(img.op(0).store, img.addr(a));
  assertEquals(img.op(1).ctl, 0x300n);
  assertEquals(img.op(1).store, img.addr(b));
  assertEquals(img.op(1).aux, 0n);
});

Deno.test("program: expect sets bit 10 and the value in aux (negative as u64)", () => {
  const p = new Program();
  p.op("write", [1, 0, 16], "w", { expect: 16 });
  p.op("getpid", [], "neg", { expect: -1 });
  p.op("getpid", [], "big", { expect: 0x123456789abcdefn });
  p.op("getpid", [], "zero", { expect: 0 });
  const img = assemble(p);
  assertEquals(img.op(0).ctl, 0x400n);
  assertEquals(img.op(0).aux, 16n);
  assertEquals(img.op(1).aux, 0xffffffffffffffffn);
  assertEquals(img.op(2).aux, 0x123456789abcdefn);
  assertEquals(img.op(3).ctl, 0x400n, "expect 0 still sets the bit");
  assertEquals(img.op(3).aux, 0n);
});

Deno.test("program: jumpIfNonzero sets bit 11 and the bound op index in aux", () => {
  const p = new Program();
  const back = p.label();
  p.bind(back); // index 0
  p.op("getpid", [], "first");
  const fwd = p.label();
  p.op("getpid", [], "jump forward", { jumpIfNonzero: fwd });
  p.op("getpid", [], "skipped");
  p.op("getpid", [], "skipped too");
  p.bind(fwd); // index 4
  p.op("getpid", [], "target", { jumpIfNonzero: back });
  assertEquals(fwd.index, 4);
  const img = assemble(p);
  assertEquals(img.op(1).ctl, 0x800n);
  assertEquals(img.op(1).aux, 4n);
  assertEquals(img.op(4).ctl, 0x800n);
  assertEquals(img.op(4).aux, 0n);
});

Deno.test("program: a label bound at the end points past the last op (the interpreter finishes)", () => {
  const p = new Program();
  const end = p.label();
  p.op("getpid", [], "jump to the end", { jumpIfNonzero: end });
  p.op("getpid", [], "skipped");
  p.bind(end);
  assertEquals(assemble(p).op(0).aux, 2n);
});

Deno.test("program: ignore any sets bit 12; one ignored errno goes to bits 16-31", () => {
  const p = new Program();
  p.op("close", [9], "any", { ignore: "any" });
  p.op("close", [9], "EBADF", { ignore: 9 });
  p.op("close", [9], "max", { ignore: 0xffff });
  const img = assemble(p);
  assertEquals(img.op(0).ctl, 0x1000n);
  assertEquals(img.op(1).ctl, 9n << 16n);
  assertEquals(img.op(2).ctl, 0xffff0000n);
  assertEquals(img.op(1).aux, 0n);
});

Deno.test("program: a second ignored errno goes to bits 48-63", () => {
  const p = new Program();
  p.op("execve", [0, 0, 0], "both", { ignore: [2, 20] });
  p.op("execve", [0, 0, 0], "with a jump", {
    ignore: [2, 20],
    onErrno: { errno: 13, to: p.label() },
  });
  p.bind(p.ops[1].options.onErrno!.to);
  p.op("getpid", [], "target");
  const img = assemble(p);
  assertEquals(img.op(0).ctl, (20n << 48n) | (2n << 16n));
  assertEquals(img.op(1).ctl, (20n << 48n) | (13n << 32n) | (2n << 16n));
  assertEquals(img.op(1).aux, 2n);
});

Deno.test("program: onErrno puts the errno in bits 32-47 and the target in aux", () => {
  const p = new Program();
  const to = p.label();
  p.op("mount", [0, 0, 0, 0, 0], "mask", { ignore: 2, onErrno: { errno: 20, to } });
  p.op("getpid", [], "x");
  p.bind(to);
  p.op("getpid", [], "y");
  const img = assemble(p);
  assertEquals(img.op(0).ctl, (20n << 32n) | (2n << 16n));
  assertEquals(img.op(0).aux, 2n);
});

Deno.test("program: all ctl fields together do not overlap", () => {
  const p = new Program();
  const c = p.cell();
  p.op("read", [{ load: c }, 0, { load: c }], "combo", {
    store32: c,
    ignore: 0xabcd,
    expect: 5,
  });
  const img = assemble(p);
  assertEquals(img.op(0).ctl, 0x5n | 0x300n | 0x400n | (0xabcdn << 16n));
  assertEquals(img.op(0).aux, 5n);
});

Deno.test("program: expect, jumpIfNonzero and onErrno are exclusive", () => {
  const combos: [string, (l: ReturnType<Program["label"]>) => object][] = [
    ["expect+jump", (l) => ({ expect: 1, jumpIfNonzero: l })],
    ["expect+onErrno", (l) => ({ expect: 1, onErrno: { errno: 2, to: l } })],
    ["jump+onErrno", (l) => ({ jumpIfNonzero: l, onErrno: { errno: 2, to: l } })],
  ];
  for (const [what, opts] of combos) {
    const p = new Program();
    const l = p.label();
    p.bind(l);
    p.op("getpid", [], what, opts(l));
    assertThrows(
      () => p.assemble(BASE, 3),
      Error,
      `${what}: expect, jumpIfNonzero and onErrno are exclusive`,
    );
  }
});

Deno.test("program: a jump to an unbound label is refused at assembly", () => {
  const p = new Program();
  p.op("getpid", [], "fork the init", { jumpIfNonzero: p.label() });
  assertThrows(() => p.assemble(BASE, 3), Error, "fork the init: jump to an unbound label");
  const q = new Program();
  q.op("close", [1], "mask x", { onErrno: { errno: 20, to: q.label() } });
  assertThrows(() => q.assemble(BASE, 3), Error, "mask x: jump to an unbound label");
});

Deno.test("program: alloc rounds up to 8 bytes, at least 8", () => {
  const p = new Program();
  assertEquals(p.alloc(0).ref, 0);
  assertEquals(p.alloc(1).ref, 8);
  assertEquals(p.alloc(8).ref, 16);
  assertEquals(p.alloc(9).ref, 24);
  assertEquals(p.alloc(3).ref, 40);
  assertEquals(p.size, 48 + 48);
});

Deno.test("program: str, bytes, cell and u64s are laid out little-endian in the data area", () => {
  const p = new Program();
  const s = p.str("abc");
  const b = p.bytes(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  const c = p.cell(0x0102030405060708n);
  const u = p.u64s([1, -1, 2n ** 63n]);
  assertEquals([s.ref, b.ref, c.ref, u.ref], [0, 8, 24, 32]);
  const img = assemble(p);
  assertEquals(img.at(img.addr(s), 8), new Uint8Array([97, 98, 99, 0, 0, 0, 0, 0]));
  assertEquals(
    img.at(img.addr(b), 16),
    new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0]),
  );
  assertEquals(img.at(img.addr(c), 8), new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]));
  assertEquals(img.u64(img.dataStart + u.ref), 1n);
  assertEquals(img.u64(img.dataStart + u.ref + 8), 0xffffffffffffffffn);
  assertEquals(img.u64(img.dataStart + u.ref + 16), 0x8000000000000000n);
});

Deno.test("program: bytes() copies its input (later changes don't leak into the program)", () => {
  const p = new Program();
  const src = new Uint8Array([1, 2, 3]);
  const r = p.bytes(src);
  src[0] = 9;
  const img = assemble(p);
  assertEquals(img.at(img.addr(r), 3), new Uint8Array([1, 2, 3]));
});

Deno.test("program: str encodes UTF-8 and terminates with NUL", () => {
  const p = new Program();
  const r = p.str("é/ü");
  const img = assemble(p);
  assertEquals(img.at(img.addr(r), 6), new Uint8Array([0xc3, 0xa9, 0x2f, 0xc3, 0xbc, 0]));
});

Deno.test("program: strArray is relocated to absolute string addresses, NULL-terminated", () => {
  const p = new Program();
  p.op("getpid", [], "pad"); // data addresses depend on the op count
  const argv = p.strArray(["sh", "-c", "echo hi"]);
  const empty = p.strArray([]);
  for (const base of [BASE, 0x10000n]) {
    const bytes = p.assemble(base, 3);
    const v = new DataView(bytes.buffer);
    const dataStart = 48 + 80;
    const ptrs = [0, 1, 2, 3].map((i) => v.getBigUint64(dataStart + argv.ref + i * 8, true));
    assertEquals(ptrs[3], 0n, "NULL terminator");
    const strs = ptrs.slice(0, 3).map((a) => {
      const off = Number(a - base);
      assert(off >= dataStart && off < bytes.length, `pointer ${a} inside the program`);
      return new TextDecoder().decode(bytes.slice(off, bytes.indexOf(0, off)));
    });
    assertEquals(strs, ["sh", "-c", "echo hi"]);
    assertEquals(v.getBigUint64(dataStart + empty.ref, true), 0n, "empty array is just NULL");
  }
});

Deno.test("program: pointerAt writes the target's absolute address at an offset", () => {
  const p = new Program();
  const target = p.str("x");
  const msg = p.u64s([11, 22, 33]);
  p.pointerAt(msg, 8, target);
  p.op("getpid", [], "a");
  p.op("getpid", [], "b");
  const img = assemble(p);
  assertEquals(img.u64(img.dataStart + msg.ref), 11n);
  assertEquals(img.u64(img.dataStart + msg.ref + 8), BASE + BigInt(48 + 160 + target.ref));
  assertEquals(img.u64(img.dataStart + msg.ref + 16), 33n);
});

Deno.test("program: assembling twice at different bases gives base-relative images", () => {
  const p = new Program();
  const c = p.cell();
  p.op("read", [0, { load: c }, 8], "r", { store: c });
  const a = p.assemble(0x1000n, 3);
  const b = p.assemble(0x2000n, 4);
  const va = new DataView(a.buffer), vb = new DataView(b.buffer);
  assertEquals(va.getBigUint64(8, true), 0x1030n);
  assertEquals(vb.getBigUint64(8, true), 0x2030n);
  assertEquals(vb.getBigUint64(16, true), 4n);
  assertEquals(vb.getBigUint64(48 + 24, true) - va.getBigUint64(48 + 24, true), 0x1000n);
  assertEquals(vb.getBigUint64(48 + 64, true), 0x2000n + 48n + 80n);
});

Deno.test("program: ChildProgram.s interns strings: same path, same address", () => {
  const p = new ChildProgram();
  const a = p.s("/proc");
  const b = p.s("/sys");
  const c = p.s("/proc");
  assertEquals(a, c);
  assert(a.ref !== b.ref);
  const sizeBefore = p.size;
  p.s("/sys");
  assertEquals(p.size, sizeBefore, "no new data for an interned string");
});

Deno.test("program: ChildProgram shares one open_how per flag set", () => {
  const p = new ChildProgram();
  p.openRootfs("/rootfs");
  const into = p.cell();
  p.openInRoot("a", into, "a");
  p.openInRoot("b", into, "b");
  p.openInRoot("c", into, "c", 0);
  const how = p.ops.slice(1).map((o) => o.args[2]);
  assertEquals(how[0], how[1]);
  assert((how[0] as Ref).ref !== (how[2] as Ref).ref);
  const img = assemble(p);
  const howAddr = img.op(1).args[2];
  // {flags O_PATH|O_CLOEXEC, mode 0, resolve IN_ROOT|NO_MAGICLINKS}
  assertEquals(img.u64(Number(howAddr - BASE)), BigInt(0o10000000 | 0o2000000));
  assertEquals(img.u64(Number(howAddr - BASE) + 8), 0n);
  assertEquals(img.u64(Number(howAddr - BASE) + 16), 0x12n);
  assertEquals(img.op(1).args[3], 24n);
  assertEquals(img.op(1).ctl, 0x101n, "rootfd loaded, result stored");
});

Deno.test("program: ChildProgram fd numbers start above the preserved fds", () => {
  assertEquals(childFds(0), { sync: 3, fifo: 4, target: 5, source: 6, pty: 7, firstTransient: 5 });
  assertEquals(childFds(4), {
    sync: 7,
    fifo: 8,
    target: 9,
    source: 10,
    pty: 11,
    firstTransient: 9,
  });
  assertEquals(new ChildProgram(2).fd.sync, 5);
});

Deno.test("program: openInRoot before openRootfs is a programming error", () => {
  const p = new ChildProgram();
  assertThrows(() => p.openInRoot("x", p.scratch, "x"), Error, "openRootfs must come first");
});

Deno.test("decodeFailure: op index, errno and signed result, from any byte offset", () => {
  const buf = new Uint8Array(32);
  const v = new DataView(buf.buffer);
  v.setUint32(8, 12, true);
  v.setUint32(12, 2, true);
  v.setBigInt64(16, -2n, true);
  assertEquals(decodeFailure(buf.subarray(8, 24)), { op: 12, errno: 2, result: -2n });
  const rec = new Uint8Array(16);
  const w = new DataView(rec.buffer);
  w.setUint32(0, 0x10005, true);
  w.setBigInt64(8, 123456789012n, true);
  assertEquals(decodeFailure(rec), { op: 0x10005, errno: 0, result: 123456789012n });
});
