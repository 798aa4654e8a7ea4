/**
 * The one place runts opens libc. Every syscall goes through `sys()` or a typed
 * wrapper here, so errno handling is uniform: failures throw SyscallError.
 *
 * None of these are `nonblocking`, except the ones named `*Async`: namespaces,
 * credentials and signal masks are per thread, and a nonblocking call runs on
 * another thread.
 */
import { RuntsError } from "../errors.ts";
import { errnoName } from "./errno.ts";

const symbols = {
  __errno_location: { parameters: [], result: "pointer" },
  syscall: {
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  clone: {
    parameters: ["pointer", "pointer", "i32", "pointer"],
    result: "i32",
  },
  readAsync: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  writeAsync: {
    name: "write",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  wait4Async: {
    name: "wait4",
    parameters: ["i32", "buffer", "i32", "pointer"],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Deno.DynamicLibrary<typeof symbols> | undefined;

/** libc, opened on first use (so commands that need no syscall pay nothing). */
export function libc(): Deno.DynamicLibrary<typeof symbols>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", symbols);
  return lib.symbols;
}

/** errno of the calling thread, read right after a failed call. */
export function errno(): number {
  const p = libc().__errno_location();
  return new Deno.UnsafePointerView(p!).getInt32();
}

/** A failed syscall: names the operation, its argument (e.g. a path) and errno. */
export class SyscallError extends RuntsError {
  constructor(readonly op: string, errnoValue: number, detail?: string) {
    super(
      `${op}${detail ? ` ${detail}` : ""}: ${errnoName(errnoValue)}`,
      { errno: errnoValue },
    );
    this.name = "SyscallError";
  }
}

export type Arg = number | bigint | Deno.PointerValue | Uint8Array | null;

function toBig(a: Arg): bigint {
  if (a === null || a === undefined) return 0n;
  if (typeof a === "bigint") return a;
  if (typeof a === "number") return BigInt(a);
  if (a instanceof Uint8Array) return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a)));
  return BigInt(Deno.UnsafePointer.value(a));
}

/**
 * Raw syscall by number. Returns the result; throws SyscallError on -1.
 * `op`/`detail` only label the error message.
 */
export function sys(nr: number, args: Arg[], op: string, detail?: string): bigint {
  const r = sysRaw(nr, args);
  if (r < 0n) throw new SyscallError(op, Number(-r), detail);
  return r;
}

/** Like sys(), but returns -errno instead of throwing. */
export function sysRaw(nr: number, args: Arg[]): bigint {
  const a = [0, 1, 2, 3, 4, 5].map((i) => toBig(args[i] ?? 0n));
  const r = libc().syscall(BigInt(nr), a[0], a[1], a[2], a[3], a[4], a[5]);
  return r === -1n ? -BigInt(errno()) : r;
}

/** NUL-terminated C string bytes. */
export function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(s + "\0");
}
