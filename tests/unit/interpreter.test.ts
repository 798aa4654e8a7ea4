/**
 * The native interpreter (src/linux/interpreter/x86_64.S), for real: small syscall programs
 * are cloned with spawnProgram (no root needed) and each ctl feature is observed from
 * outside — messages on a SOCK_SEQPACKET socketpair, failure records on the report fd,
 * the exit status and files written. Also checks the committed machine code still
 * matches the assembly source when GNU binutils are installed.
 */
import { assert, assertEquals } from "./assert.ts";
import {
  type Arg,
  decodeFailure,
  type Op,
  type OpOptions,
  Program,
} from "../../src/linux/program.ts";
import { ChildProgram } from "../../src/linux/child.ts";
import { spawnProgram } from "../../src/linux/spawn.ts";
import { emitExec } from "../../src/process/exec.ts";
import {
  close,
  kill,
  pollIn,
  recvWithFds,
  socketpair,
  waitpid,
  type WaitResult,
} from "../../src/linux/syscalls.ts";
import { AT, CLONE, O, SIGCHLD, SOCK_SEQPACKET } from "../../src/linux/constants.ts";
import { ERRNO } from "../../src/linux/errno.ts";
import { INTERPRETER_X86_64_HEX } from "../../src/linux/interpreter/x86_64.ts";

const onX86_64 = Deno.build.os === "linux" && Deno.build.arch === "x86_64";
const repo = new URL("../../", import.meta.url).pathname;

/** x86_64 numbers of syscalls the interpreter can run but sysno.ts doesn't name. */
const NR_PWRITEV2 = 328;

interface Run {
  /** Messages on the output socket, in order. */
  messages: Uint8Array[];
  /** Messages on the report socket (when separate from the output one). */
  reports: Uint8Array[];
  exit: WaitResult;
  pid: number;
}

/** Receive every message on `fd` until EOF (all copies of the peer closed). */
function drain(fd: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    if (!pollIn(fd, 10_000)) throw new Error("timed out waiting for the program");
    const { data } = recvWithFds(fd, 512);
    if (data.length === 0) return out;
    out.push(data.slice());
  }
}

/**
 * Build a program with `build(p, out, report)` and run it: `out` is the child's end of
 * a socketpair the test reads, `report` the fd the interpreter reports failures to
 * (the same socket unless `separateReport`).
 */
function run(
  build: (p: Program, out: number, report: number) => void,
  opts: { separateReport?: boolean; program?: Program } = {},
): Run {
  const [parentOut, childOut] = socketpair(SOCK_SEQPACKET);
  const [parentRep, childRep] = opts.separateReport
    ? socketpair(SOCK_SEQPACKET)
    : [parentOut, childOut];
  const p = opts.program ?? new Program();
  build(p, childOut, childRep);
  let spawned;
  try {
    spawned = spawnProgram(p, childRep);
  } finally {
    close(childOut);
    if (opts.separateReport) close(childRep);
  }
  let messages: Uint8Array[] = [];
  let reports: Uint8Array[] = [];
  let failure: unknown;
  try {
    messages = drain(parentOut);
    if (opts.separateReport) reports = drain(parentRep);
  } catch (e) {
    kill(spawned.pid, 9);
    failure = e;
  }
  const exit = waitpid(spawned.pid)!;
  // Only now (the child exited, every copy of the socket is closed) may the program's
  // memory go away.
  spawned.release();
  close(parentOut);
  if (opts.separateReport) close(parentRep);
  if (failure) throw failure;
  return { messages, reports, exit, pid: spawned.pid };
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const u64le = (b: Uint8Array, off = 0) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);

/** write(fd, text) expecting every byte written. */
function say(p: Program, fd: number, text: string, what = `say ${text}`): number {
  const data = enc(text);
  return p.op("write", [fd, p.bytes(data), data.length], what, { expect: data.length });
}

/** An op with a raw syscall number (the interpreter doesn't know names). */
function rawOp(p: Program, nr: number, args: Arg[], what: string, options: OpOptions = {}): number {
  const i = p.op("getpid", args, what, options);
  p.ops[i] = { ...p.ops[i], nr } as Op;
  return i;
}

function tempFile(content: string): string {
  const path = Deno.makeTempFileSync({ prefix: "runts-interp-" });
  Deno.writeTextFileSync(path, content);
  return path;
}

const test = (name: string, fn: () => void) =>
  Deno.test({ name: `interpreter: ${name}`, ignore: !onX86_64, fn });

test("write to the socket, then exit_group with a code", () => {
  const r = run((p, out) => {
    say(p, out, "hello");
    say(p, out, "world");
    p.op("exit_group", [7], "exit 7");
    say(p, out, "never");
  });
  assertEquals(r.messages.map(dec), ["hello", "world"]);
  assertEquals(r.exit, { pid: r.pid, exitCode: 7 });
});

test("running past the last op exits 0", () => {
  const r = run((p, out) => {
    say(p, out, "only");
  });
  assertEquals(r.messages.map(dec), ["only"]);
  assertEquals(r.exit.exitCode, 0);
});

test("an empty program exits 0", () => {
  const r = run(() => {});
  assertEquals(r.messages, []);
  assertEquals(r.exit, { pid: r.pid, exitCode: 0 });
});

test("store + indirect arg: openat's fd is stored and written through", () => {
  const path = tempFile("");
  try {
    const r = run((p, out) => {
      const fd = p.cell();
      p.op("openat", [AT.FDCWD, p.str(path), O.WRONLY | O.CLOEXEC], "open", { store: fd });
      p.op("write", [{ load: fd }, p.str("data"), 4], "write the file", { expect: 4 });
      p.op("write", [out, fd, 8], "report the stored fd", { expect: 8 });
      p.op("close", [{ load: fd }], "close", { expect: 0 });
      p.op("exit_group", [0], "exit");
    });
    assertEquals(r.exit.exitCode, 0);
    assertEquals(Deno.readTextFileSync(path), "data");
    assertEquals(r.messages.length, 1);
    const fd = u64le(r.messages[0]);
    assert(fd >= 3n && fd < 1_000_000n, `a plausible fd: ${fd}`);
  } finally {
    Deno.removeSync(path);
  }
});

test("store32 writes only the low 32 bits, store all 64", () => {
  const r = run((p, out) => {
    const c32 = p.cell(0xffffffffffffffffn);
    const c64 = p.cell(0xffffffffffffffffn);
    p.op("openat", [AT.FDCWD, p.str("/dev/null"), O.RDONLY | O.CLOEXEC], "open", { store32: c32 });
    p.op("openat", [AT.FDCWD, p.str("/dev/null"), O.RDONLY | O.CLOEXEC], "open", { store: c64 });
    p.op("write", [out, c32, 8], "report 32", { expect: 8 });
    p.op("write", [out, c64, 8], "report 64", { expect: 8 });
  });
  assertEquals(r.exit.exitCode, 0);
  const v32 = u64le(r.messages[0]);
  const v64 = u64le(r.messages[1]);
  assertEquals(v32 >> 32n, 0xffffffffn, "high half untouched");
  assert((v32 & 0xffffffffn) >= 3n, "low half is the fd");
  assertEquals(v64 >> 32n, 0n, "store clears the high half");
  assertEquals(v64, (v32 & 0xffffffffn) + 1n, "the next fd");
});

test("indirect args in slots 0, 1 and 2 (write through cells, pointer relocated)", () => {
  const r = run((p, out) => {
    const fd = p.cell(BigInt(out));
    const data = p.str("xyz!");
    const ptr = p.cell();
    p.pointerAt(ptr, 0, data);
    const len = p.cell(3n);
    p.op("write", [{ load: fd }, { load: ptr }, { load: len }], "write xyz", { expect: 3 });
  });
  assertEquals(r.messages.map(dec), ["xyz"]);
  assertEquals(r.exit.exitCode, 0);
});

test("indirect args in all six slots (pwritev2 at an offset, flags 0)", () => {
  const path = tempFile(".......");
  try {
    const r = run((p, out) => {
      const fd = p.cell();
      p.op("openat", [AT.FDCWD, p.str(path), O.RDWR | O.CLOEXEC], "open", { store: fd });
      const data = p.str("XY");
      const iov = p.u64s([0, 2]);
      p.pointerAt(iov, 0, data);
      const iovPtr = p.cell();
      p.pointerAt(iovPtr, 0, iov);
      const one = p.cell(1n), pos = p.cell(3n), zero = p.cell(0n);
      rawOp(
        p,
        NR_PWRITEV2,
        [
          { load: fd },
          { load: iovPtr },
          { load: one },
          { load: pos },
          { load: zero },
          { load: zero },
        ],
        "pwritev2",
        { expect: 2 },
      );
      say(p, out, "done");
    });
    assertEquals(r.messages.map(dec), ["done"]);
    assertEquals(r.exit.exitCode, 0);
    assertEquals(Deno.readTextFileSync(path), "...XY..");
  } finally {
    Deno.removeSync(path);
  }
});

test("indirect arg in slot 4 (ppoll sigsetsize), and a Ref without load is an address", () => {
  const build = (indirect: boolean) => (p: Program, out: number) => {
    const ts = p.u64s([0, 0]);
    const mask = p.cell(0n);
    const size = p.cell(8n);
    p.op("ppoll", [0, 0, ts, mask, indirect ? { load: size } : size], "ppoll", { expect: 0 });
    say(p, out, "polled");
  };
  const ok = run(build(true));
  assertEquals(ok.messages.map(dec), ["polled"]);
  assertEquals(ok.exit.exitCode, 0);
  // The address of the cell is not 8: EINVAL.
  const bad = run(build(false));
  assertEquals(bad.messages.length, 1);
  assertEquals(decodeFailure(bad.messages[0]), { op: 0, errno: ERRNO.EINVAL, result: -22n });
  assertEquals(bad.exit.exitCode, 1);
});

test("expect match continues; mismatch reports {op, errno 0, result} and exits 1", () => {
  const r = run((p, out) => {
    say(p, out, "a");
    p.op("getpid", [], "getpid is not 1", { expect: 1 });
    say(p, out, "never");
  });
  assertEquals(r.messages.length, 2);
  assertEquals(dec(r.messages[0]), "a");
  assertEquals(r.messages[1].length, 16);
  assertEquals(decodeFailure(r.messages[1]), { op: 1, errno: 0, result: BigInt(r.pid) });
  assertEquals(r.exit, { pid: r.pid, exitCode: 1 });
});

test("a failing syscall reports {op, errno, -errno} on the report fd and exits 1", () => {
  const r = run((p, out) => {
    say(p, out, "first");
    p.op("getpid", [], "fine");
    p.op("openat", [AT.FDCWD, p.str("/nonexistent/runts/file"), O.RDONLY], "open missing");
    say(p, out, "never");
  }, { separateReport: true });
  assertEquals(r.messages.map(dec), ["first"]);
  assertEquals(r.reports.length, 1);
  assertEquals(decodeFailure(r.reports[0]), { op: 2, errno: ERRNO.ENOENT, result: -2n });
  assertEquals(r.exit.exitCode, 1);
});

test("an ignored errno continues with the next op; another errno still fails", () => {
  const ok = run((p, out) => {
    p.op("close", [-1], "close -1", { ignore: ERRNO.EBADF });
    say(p, out, "after");
    p.op("exit_group", [5], "exit");
  });
  assertEquals(ok.messages.map(dec), ["after"]);
  assertEquals(ok.exit.exitCode, 5);
  const bad = run((p, out) => {
    p.op("close", [-1], "close -1", { ignore: ERRNO.ENOENT });
    say(p, out, "never");
  });
  assertEquals(bad.messages.map(decodeFailure), [{ op: 0, errno: ERRNO.EBADF, result: -9n }]);
  assertEquals(bad.exit.exitCode, 1);
});

test("two ignored errnos: either continues, a third still fails", () => {
  const ok = run((p, out) => {
    const both: [number, number] = [ERRNO.ENOENT, ERRNO.ENOTDIR];
    p.op("openat", [AT.FDCWD, p.str("/nonexistent/x"), 0], "ENOENT", { ignore: both });
    p.op("openat", [AT.FDCWD, p.str("/etc/passwd/x"), 0], "ENOTDIR", { ignore: both });
    say(p, out, "after");
    p.op("exit_group", [6], "exit");
  });
  assertEquals(ok.messages.map(dec), ["after"]);
  assertEquals(ok.exit.exitCode, 6);
  const bad = run((p, out) => {
    p.op("close", [-1], "EBADF", { ignore: [ERRNO.ENOENT, ERRNO.ENOTDIR] });
    say(p, out, "never");
  });
  assertEquals(bad.messages.map(decodeFailure), [{ op: 0, errno: ERRNO.EBADF, result: -9n }]);
});

test("ignore any: every errno continues", () => {
  const r = run((p, out) => {
    p.op("close", [-1], "EBADF", { ignore: "any" });
    p.op("openat", [AT.FDCWD, p.str("/nonexistent/x"), 0], "ENOENT", { ignore: "any" });
    p.op("openat", [AT.FDCWD, p.str("/etc/passwd/x"), 0], "ENOTDIR", { ignore: "any" });
    say(p, out, "ok");
  });
  assertEquals(r.messages.map(dec), ["ok"]);
  assertEquals(r.exit.exitCode, 0);
});

test("jump on errno: the named errno jumps, success falls through, others fail", () => {
  const jumped = run((p, out) => {
    const to = p.label();
    p.op("close", [-1], "close -1", { onErrno: { errno: ERRNO.EBADF, to } });
    say(p, out, "not jumped");
    p.op("exit_group", [9], "exit 9");
    p.bind(to);
    say(p, out, "jumped");
    p.op("exit_group", [4], "exit 4");
  });
  assertEquals(jumped.messages.map(dec), ["jumped"]);
  assertEquals(jumped.exit.exitCode, 4);

  const fell = run((p, out) => {
    const to = p.label();
    p.op("getpid", [], "getpid", { onErrno: { errno: ERRNO.EBADF, to } });
    say(p, out, "fell through");
    p.bind(to);
    say(p, out, "target");
  });
  assertEquals(fell.messages.map(dec), ["fell through", "target"]);

  const other = run((p, out) => {
    const to = p.label();
    p.op("close", [-1], "close -1", { onErrno: { errno: ERRNO.ENOENT, to } });
    p.bind(to);
    say(p, out, "never");
  });
  assertEquals(other.messages.map(decodeFailure), [{ op: 0, errno: ERRNO.EBADF, result: -9n }]);
  assertEquals(other.exit.exitCode, 1);
});

test("ignore + onErrno together (the masked-path pattern)", () => {
  const r = run((p, out) => {
    for (const path of ["/nonexistent/x", "/etc/passwd/x"]) {
      const isDir = p.label();
      const done = p.label();
      p.op("openat", [AT.FDCWD, p.str(path), O.RDONLY | O.CLOEXEC], `open ${path}`, {
        ignore: ERRNO.ENOENT,
        onErrno: { errno: ERRNO.ENOTDIR, to: isDir },
      });
      say(p, out, `${path}: continued`);
      p.op("getpid", [], "skip", { jumpIfNonzero: done });
      p.bind(isDir);
      say(p, out, `${path}: jumped`);
      p.bind(done);
    }
  });
  assertEquals(r.messages.map(dec), ["/nonexistent/x: continued", "/etc/passwd/x: jumped"]);
  assertEquals(r.exit.exitCode, 0);
});

test("jumpIfNonzero: a non-zero result jumps, zero falls through", () => {
  const r = run((p, out) => {
    const a = p.label();
    p.op("getpid", [], "pid is non-zero", { jumpIfNonzero: a });
    say(p, out, "skipped");
    p.bind(a);
    say(p, out, "taken");
    const b = p.label();
    // rt_sigprocmask(SIG_BLOCK, NULL, NULL, 8) returns 0.
    p.op("rt_sigprocmask", [0, 0, 0, 8], "zero", { jumpIfNonzero: b });
    say(p, out, "fell through");
    p.bind(b);
    say(p, out, "end");
  });
  assertEquals(r.messages.map(dec), ["taken", "fell through", "end"]);
  assertEquals(r.exit.exitCode, 0);
});

test("jumpIfNonzero backwards: a loop until read() returns 0", () => {
  const path = tempFile("1234567");
  try {
    const r = run((p, out) => {
      const fd = p.cell();
      p.op("openat", [AT.FDCWD, p.str(path), O.RDONLY | O.CLOEXEC], "open", { store: fd });
      const buf = p.alloc(8);
      const loop = p.label();
      p.bind(loop);
      say(p, out, "x");
      const got = p.cell(99n);
      // 3 + 3 + 1 bytes, then 0: four iterations.
      p.op("read", [{ load: fd }, buf, 3], "read 3", { store: got, jumpIfNonzero: loop });
      p.op("write", [out, got, 8], "report the last read", { expect: 8 });
    });
    assertEquals(r.messages.slice(0, 4).map(dec), ["x", "x", "x", "x"]);
    assertEquals(r.messages.length, 5);
    assertEquals(u64le(r.messages[4]), 0n, "the loop ended on a 0 result");
    assertEquals(r.exit.exitCode, 0);
  } finally {
    Deno.removeSync(path);
  }
});

test("execve with relocated argv and envp (strArray)", () => {
  const r = run((p, out) => {
    // The socket is close-on-exec: give the shell a copy on fd 9.
    p.op("dup3", [out, 9, 0], "dup to fd 9", { expect: 9 });
    p.op("execve", [
      p.str("/bin/sh"),
      p.strArray(["sh", "-c", 'printf "%s|%s|%s" "$0" "$1" "$GREETING" >&9', "zero", "one"]),
      p.strArray(["GREETING=hi there", "OTHER=1"]),
    ], "exec sh");
  });
  assertEquals(r.messages.map(dec).join(""), "zero|one|hi there");
  assertEquals(r.exit.exitCode, 0);
});

test("execve failure is reported like any other op", () => {
  const r = run((p) => {
    p.op("getpid", [], "pad");
    p.op("execve", [p.str("/nonexistent/prog"), p.strArray(["prog"]), p.strArray([])], "exec");
  });
  assertEquals(r.messages.map(decodeFailure), [{ op: 1, errno: ERRNO.ENOENT, result: -2n }]);
  assertEquals(r.exit.exitCode, 1);
});

test("emitExec: PATH candidates skip ENOENT, a missing program fails on the last op", () => {
  const found = run((p) => {
    emitExec(p as ChildProgram, ["sh", "-c", "exit 6"], [
      "PATH=/nonexistent/a:/nonexistent/b:/bin",
    ]);
  }, { program: new ChildProgram() });
  assertEquals(found.messages, []);
  assertEquals(found.exit.exitCode, 6);

  const program = new ChildProgram();
  const missing = run((p) => {
    emitExec(p as ChildProgram, ["no-such-program-runts"], ["PATH=/nonexistent/a:/bin"]);
  }, { program });
  const last = program.ops.length - 1;
  assertEquals(missing.messages.map(decodeFailure), [
    { op: last, errno: ERRNO.ENOENT, result: -2n },
  ]);
  assertEquals(
    program.ops[last].what,
    'exec "no-such-program-runts": executable file not found in $PATH',
  );
  assertEquals(missing.exit.exitCode, 1);
});

test("clone(CLONE_VM) inside a program: both branches run, PARENT_SETTID fills the record", () => {
  const r = run((p, out) => {
    const record = p.u64s([0x10002, 0]);
    const parent = p.label();
    p.op(
      "clone",
      [CLONE.VM | CLONE.PARENT_SETTID | SIGCHLD, 0, { ref: record.ref + 8 }, 0, 0],
      "fork",
      {
        jumpIfNonzero: parent,
      },
    );
    // The child: report its own pid.
    const me = p.cell();
    p.op("getpid", [], "getpid", { store: me });
    p.op("write", [out, me, 8], "child pid", { expect: 8 });
    p.op("exit_group", [0], "child exit");
    p.bind(parent);
    p.op("write", [out, record, 16], "report", { expect: 16 });
    p.op("exit_group", [3], "intermediate exit");
  });
  assertEquals(r.exit.exitCode, 3);
  assertEquals(r.messages.length, 2);
  const rec = r.messages.find((m) => m.length === 16)!;
  const child = r.messages.find((m) => m.length === 8)!;
  assert(rec && child, "one message from each process");
  const d = decodeFailure(rec);
  assertEquals(d.op, 0x10002);
  assertEquals(d.result, u64le(child), "PARENT_SETTID wrote the child's pid");
  assert(d.result !== BigInt(r.pid), "a new process");
});

test("ChildProgram helpers end to end: mkdirAll, touchInRoot, writeFile, symlinks stay inside", () => {
  const root = Deno.makeTempDirSync({ prefix: "runts-interp-root-" });
  try {
    Deno.mkdirSync(`${root}/escape`);
    Deno.symlinkSync("/escape", `${root}/link`);
    const program = new ChildProgram();
    const r = run((p) => {
      const c = p as ChildProgram;
      c.openRootfs(root);
      c.mkdirAll("a/b/c");
      c.mkdirAll("a/b/c"); // EEXIST is fine
      c.touchInRoot("a/b/c/file");
      c.mkdirAll("link/inside");
      c.writeFile(`${root}/a/b/c/file`, "content", "write the file");
    }, { program });
    assertEquals(r.messages, []);
    assertEquals(r.exit.exitCode, 0);
    assert(Deno.statSync(`${root}/a/b/c`).isDirectory);
    assertEquals(Deno.readTextFileSync(`${root}/a/b/c/file`), "content");
    assert(Deno.statSync(`${root}/escape/inside`).isDirectory, "/escape resolved in the rootfs");
    let outside = true;
    try {
      Deno.statSync("/escape/inside");
    } catch {
      outside = false;
    }
    assertEquals(outside, false);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

function commandExists(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch { /* next */ }
  }
  return false;
}

Deno.test({
  name:
    "interpreter: scripts/gen-interpreter.sh re-assembles x86_64.S into exactly the committed x86_64.ts",
  ignore: !onX86_64 || !commandExists("as") || !commandExists("objcopy"),
  fn: async () => {
    const out = Deno.makeTempFileSync({ prefix: "runts-interp-", suffix: ".ts" });
    try {
      const { code, stderr } = await new Deno.Command("bash", {
        args: [`${repo}scripts/gen-interpreter.sh`],
        env: { OUT: out },
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(code, 0, new TextDecoder().decode(stderr));
      const generated = Deno.readTextFileSync(out);
      const committed = Deno.readTextFileSync(`${repo}src/linux/interpreter/x86_64.ts`);
      const hex = (ts: string) => [...ts.matchAll(/"([0-9a-f]+)"/g)].map((m) => m[1]).join("");
      assertEquals(hex(generated), INTERPRETER_X86_64_HEX, "the bytes");
      assertEquals(hex(committed), INTERPRETER_X86_64_HEX);
      // The script writes no final newline; the committed file went through `deno fmt`.
      assertEquals(generated + "\n", committed, "the whole file");
    } finally {
      Deno.removeSync(out);
    }
  },
});

Deno.test("interpreter: the committed machine code is whole bytes and ends in hlt", () => {
  assert(/^[0-9a-f]+$/.test(INTERPRETER_X86_64_HEX), "lowercase hex only");
  assertEquals(INTERPRETER_X86_64_HEX.length % 2, 0);
  assertEquals(INTERPRETER_X86_64_HEX.slice(-2), "f4");
  assertEquals(INTERPRETER_X86_64_HEX.slice(0, 6), "4989fc", "mov r12, rdi");
});
