/**
 * The architectures a seccomp filter can match, as the kernel reports them in
 * `seccomp_data.arch` (AUDIT_ARCH_*), with their syscall tables.
 */
import { SYSCALLS_AARCH64 } from "./syscalls_aarch64.ts";
import { SYSCALLS_ARM } from "./syscalls_arm.ts";
import { SYSCALLS_X32 } from "./syscalls_x32.ts";
import { SYSCALLS_X86 } from "./syscalls_x86.ts";
import { SYSCALLS_X86_64 } from "./syscalls_x86_64.ts";

const AUDIT_ARCH_64BIT = 0x80000000;
const AUDIT_ARCH_LE = 0x40000000;
const EM_386 = 3;
const EM_ARM = 40;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

export const AUDIT_ARCH_I386 = (EM_386 | AUDIT_ARCH_LE) >>> 0;
export const AUDIT_ARCH_X86_64 = (EM_X86_64 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0;
export const AUDIT_ARCH_ARM = (EM_ARM | AUDIT_ARCH_LE) >>> 0;
export const AUDIT_ARCH_AARCH64 = (EM_AARCH64 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0;

/** x32 shares AUDIT_ARCH_X86_64 with x86_64; its syscall numbers carry this bit. */
export const X32_SYSCALL_BIT = 0x40000000;

export interface SeccompArch {
  /** libseccomp / OCI name, e.g. "SCMP_ARCH_X86_64". */
  name: string;
  audit: number;
  /**
   * Argument width libseccomp compares: on 32-bit ABIs (x86, x32, arm) only the low 32
   * bits of an argument are checked, against the value truncated to 32 bits.
   */
  bits: 32 | 64;
  syscalls: Readonly<Record<string, number>>;
  /** Syscall numbers this ABI owns within its AUDIT arch (x86_64 and x32 split one). */
  nrMin: number;
  nrMax: number;
}

const U32_MAX = 0xffffffff;

export const ARCHES: Readonly<Record<string, SeccompArch>> = Object.freeze({
  SCMP_ARCH_X86_64: {
    name: "SCMP_ARCH_X86_64",
    audit: AUDIT_ARCH_X86_64,
    bits: 64,
    syscalls: SYSCALLS_X86_64,
    nrMin: 0,
    nrMax: X32_SYSCALL_BIT - 1,
  },
  SCMP_ARCH_X32: {
    name: "SCMP_ARCH_X32",
    audit: AUDIT_ARCH_X86_64,
    bits: 32,
    syscalls: SYSCALLS_X32,
    nrMin: X32_SYSCALL_BIT,
    nrMax: U32_MAX,
  },
  SCMP_ARCH_X86: {
    name: "SCMP_ARCH_X86",
    audit: AUDIT_ARCH_I386,
    bits: 32,
    syscalls: SYSCALLS_X86,
    nrMin: 0,
    nrMax: U32_MAX,
  },
  SCMP_ARCH_AARCH64: {
    name: "SCMP_ARCH_AARCH64",
    audit: AUDIT_ARCH_AARCH64,
    bits: 64,
    syscalls: SYSCALLS_AARCH64,
    nrMin: 0,
    nrMax: U32_MAX,
  },
  SCMP_ARCH_ARM: {
    name: "SCMP_ARCH_ARM",
    audit: AUDIT_ARCH_ARM,
    bits: 32,
    syscalls: SYSCALLS_ARM,
    nrMin: 0,
    nrMax: U32_MAX,
  },
});

/**
 * Architectures the runtime spec (libseccomp 2.6) names but runts has no table for. A
 * process on x86_64 or aarch64 cannot issue syscalls of these ABIs, so leaving them out
 * of the filter changes nothing a container can observe.
 */
export const UNREACHABLE_ARCHES: ReadonlySet<string> = new Set([
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
]);

export type NativeArch = "x86_64" | "aarch64";

export const NATIVE_SCMP_ARCH: Readonly<Record<NativeArch, string>> = {
  x86_64: "SCMP_ARCH_X86_64",
  aarch64: "SCMP_ARCH_AARCH64",
};

/** The syscall number of `name` on `arch`, or undefined when the ABI lacks it. */
export function syscallNumber(arch: SeccompArch, name: string): number | undefined {
  return Object.hasOwn(arch.syscalls, name) ? arch.syscalls[name] : undefined;
}
