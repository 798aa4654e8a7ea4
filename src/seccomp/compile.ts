/**
 * `linux.seccomp` -> the classic BPF program and flags for
 * `seccomp(SECCOMP_SET_MODE_FILTER, flags, &sock_fprog)`, behaving like the filter runc
 * builds with libseccomp (plus runc's -ENOSYS stub). No libseccomp needed.
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
