/** Loading the container's seccomp filter: the last thing before execve. */
import type { ChildProgram } from "../linux/child.ts";
import { compileSeccomp } from "../seccomp/compile.ts";
import type { LinuxSeccomp } from "../spec/types.ts";

const SECCOMP_SET_MODE_FILTER = 1;

/** Compile `profile` and emit the seccomp(2) op; returns compiler warnings. */
export function emitSeccomp(p: ChildProgram, profile: LinuxSeccomp): string[] {
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  const { program, flags, warnings } = compileSeccomp(profile, arch);
  const code = p.bytes(program);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = p.u64s([program.length / 8, 0]);
  p.pointerAt(fprog, 8, code);
  p.op("seccomp", [SECCOMP_SET_MODE_FILTER, flags, fprog], "load the seccomp filter");
  return warnings;
}
