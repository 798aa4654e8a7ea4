/** Loading the container's seccomp filter: the last thing before execve. */
import type { ChildProgram } from "../linux/child.ts";
import type { LinuxSeccomp } from "../spec/types.ts";

const SECCOMP_SET_MODE_FILTER = 1;

/** A compiled filter: classic BPF instructions and seccomp(2) flags. */
export interface SeccompFilter {
  program: Uint8Array;
  flags: number;
  warnings: string[];
}

/**
 * Compile linux.seccomp, loading the compiler only when a config has one: its syscall
 * tables are a noticeable part of start-up otherwise.
 */
export async function compileSeccompFilter(
  profile: LinuxSeccomp | undefined,
): Promise<SeccompFilter | undefined> {
  if (!profile) return undefined;
  const { compileSeccomp } = await import("../seccomp/compile.ts");
  return compileSeccomp(profile, Deno.build.arch === "aarch64" ? "aarch64" : "x86_64");
}

/** Emit the seccomp(2) op that loads `filter`. */
export function emitSeccomp(p: ChildProgram, filter: SeccompFilter): void {
  const code = p.bytes(filter.program);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = p.u64s([filter.program.length / 8, 0]);
  p.pointerAt(fprog, 8, code);
  p.op("seccomp", [SECCOMP_SET_MODE_FILTER, filter.flags, fprog], "load the seccomp filter");
}
