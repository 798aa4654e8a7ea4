/**
 * Start a process that runs a syscall Program: glibc clone() with the native
 * interpreter as its entry point. The child never returns to JavaScript.
 */
import { RuntsError } from "../errors.ts";
import { errno, libc, sys, SyscallError } from "./ffi.ts";
import { SYS } from "./sysno.ts";
import { type Program } from "./program.ts";
import { CLONE, SIGCHLD } from "./constants.ts";
import { INTERPRETER_X86_64_HEX } from "./interpreter/x86_64.ts";

const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
const MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
const PAGE = 4096;
const STACK_SIZE = 64 * 1024;

let interpreterEntry: Deno.PointerObject | undefined;

function mapAnonymous(size: number): Deno.PointerObject {
  const addr = sys(
    SYS.mmap,
    [0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0],
    "mmap",
  );
  return Deno.UnsafePointer.create(addr)!;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The interpreter's machine code, mapped read+execute once per process. */
function interpreter(): Deno.PointerObject {
  if (interpreterEntry) return interpreterEntry;
  if (Deno.build.arch !== "x86_64") {
    throw new RuntsError(`runts supports x86_64 hosts only (this is ${Deno.build.arch})`);
  }
  const code = hexBytes(INTERPRETER_X86_64_HEX);
  const page = mapAnonymous(PAGE);
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(page, code.length)).set(code);
  sys(SYS.mprotect, [page, PAGE, PROT_READ | PROT_EXEC], "mprotect");
  interpreterEntry = page;
  return page;
}

/** A started program; its memory is shared with the child until it execs or exits. */
export interface SpawnedProgram {
  pid: number;
  /** Unmap the program and stack: only once the child has exec'd or been reaped. */
  release(): void;
}

/**
 * clone() a child running `program`. The child shares our memory (CLONE_VM): no page
 * tables of the large Deno process are copied, which is what makes this fast. It runs
 * only the interpreter on its own stack, with every signal blocked (so no Deno signal
 * handler can run in it) until the program resets them before execve.
 * `cloneFlags` adds namespace flags; failures arrive as records on `reportFd`.
 */
export function spawnProgram(
  program: Program,
  reportFd: number,
  cloneFlags = 0,
  /** false only to measure the alternative (docs/design.md): fork-style copy of our memory. */
  shareMemory = true,
): SpawnedProgram {
  const entry = interpreter();
  const size = Math.ceil(program.size / PAGE) * PAGE;
  const mem = mapAnonymous(size);
  const stack = mapAnonymous(STACK_SIZE);
  const release = () => {
    sys(SYS.munmap, [mem, size], "munmap");
    sys(SYS.munmap, [stack, STACK_SIZE], "munmap");
  };
  try {
    const bytes = program.assemble(BigInt(Deno.UnsafePointer.value(mem)), reportFd);
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(mem, bytes.length)).set(bytes);
    const stackTop = Deno.UnsafePointer.create(
      BigInt(Deno.UnsafePointer.value(stack)) + BigInt(STACK_SIZE - 64),
    );
    const allSignals = new BigUint64Array([0xffffffffffffffffn]);
    const saved = new BigUint64Array(1);
    sys(SYS.rt_sigprocmask, [0, /* SIG_BLOCK */ u8(allSignals), u8(saved), 8], "rt_sigprocmask");
    let pid: number;
    try {
      pid = libc().clone(entry, stackTop, cloneFlags | (shareMemory ? CLONE.VM : 0) | SIGCHLD, mem);
      if (pid < 0) throw new SyscallError("clone", errno());
    } finally {
      sys(SYS.rt_sigprocmask, [2, /* SIG_SETMASK */ u8(saved), 0, 8], "rt_sigprocmask");
    }
    return { pid, release };
  } catch (e) {
    release();
    throw e;
  }
}

function u8(a: BigUint64Array): Uint8Array {
  return new Uint8Array(a.buffer);
}
