/**
 * `linux.seccomp` -> the classic BPF program and flags for
 * `seccomp(SECCOMP_SET_MODE_FILTER, flags, &sock_fprog)`, behaving like the filter runc
 * builds with libseccomp (plus runc's -ENOSYS fallback). No libseccomp needed.
 *
 * Semantics, as runc + libseccomp:
 * - the native arch is always in the filter; other AUDIT arches get KILL_THREAD;
 *   x32 numbers (bit 30) on an x86_64 filter without SCMP_ARCH_X32 too;
 * - SCMP_ACT_KILL is KILL_THREAD; ERRNO and TRACE carry errnoRet / defaultErrnoRet
 *   (default EPERM); errnoRet on other actions is refused; SCMP_ACT_NOTIFY is refused;
 * - args of an entry are AND-ed (OR-ed if an index repeats); entries are OR-ed; an
 *   unconditional rule wins; a rule with the default action is dropped;
 * - argument values are u64, compared on both halves on 64-bit ABIs and on the low
 *   half only on 32-bit ABIs (x86, x32, arm); MASKED_EQ: (arg & value) == valueTwo;
 * - names unknown to an ABI are skipped there; unknown to all, reported in `warnings`;
 * - unless the default action lets syscalls through, syscalls numbered above the
 *   profile's last one get ERRNO(ENOSYS) on the listed arches (runc's patchbpf ENOSYS fallback).
 */
import { RuntsError } from "../errors.ts";
import type { LinuxSeccomp } from "../spec/types.ts";
import { ARCHES, type NativeArch } from "./arch.ts";
import { BPF_MAXINSNS, SOCK_FILTER_SIZE } from "./bpf.ts";
import { type ArchSection, emitFilter } from "./codegen.ts";
import { parseProfile } from "./profile.ts";
import { resolveAbi, unknownNames } from "./resolve.ts";

export interface CompiledSeccomp {
  /** `struct sock_filter[]`, little-endian, 8 bytes per instruction. */
  program: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2). */
  flags: number;
  /** Things skipped (unknown syscall names, unreachable architectures). */
  warnings: string[];
}

export function compileSeccomp(profile: LinuxSeccomp, nativeArch: NativeArch): CompiledSeccomp {
  const parsed = parseProfile(profile, nativeArch);
  const sections: ArchSection[] = [];
  for (const name of parsed.arches) {
    const abi = resolveAbi(parsed, name);
    const audit = ARCHES[name].audit;
    const section = sections.find((s) => s.audit === audit);
    if (section) section.abis.push(abi);
    else sections.push({ audit, abis: [abi] });
  }
  const program = emitFilter(sections, parsed.defaultAction);
  const count = program.byteLength / SOCK_FILTER_SIZE;
  if (count > BPF_MAXINSNS) {
    throw new RuntsError(
      `linux.seccomp: the filter needs ${count} BPF instructions, more than the kernel limit of ${BPF_MAXINSNS}`,
    );
  }
  const warnings = [
    ...parsed.warnings,
    ...unknownNames(parsed).map((n) =>
      `linux.seccomp: syscall ${JSON.stringify(n)} is unknown on ${
        parsed.arches.join(", ")
      }; rule skipped`
    ),
  ];
  return { program, flags: parsed.flags, warnings };
}
