import { assert, assertEquals, assertThrows } from "./assert.ts";
import { runFilter } from "./bpf_interp.ts";
import { ConfigError } from "../../src/errors.ts";
import { compileSeccomp } from "../../src/seccomp/compile.ts";
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  X32_SYSCALL_BIT,
} from "../../src/seccomp/arch.ts";
import { SYSCALLS_AARCH64 } from "../../src/seccomp/syscalls_aarch64.ts";
import { SYSCALLS_ARM } from "../../src/seccomp/syscalls_arm.ts";
import { SYSCALLS_X32 } from "../../src/seccomp/syscalls_x32.ts";
import { SYSCALLS_X86 } from "../../src/seccomp/syscalls_x86.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import type { LinuxSeccomp } from "../../src/spec/types.ts";

const ALLOW = 0x7fff0000;
const KILL_THREAD = 0;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;

function denyUname(architectures?: string[]): LinuxSeccomp {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures,
    syscalls: [{ names: ["uname"], action: "SCMP_ACT_ERRNO" }],
  };
}

Deno.test("AUDIT_ARCH constants are the kernel's", () => {
  assertEquals(AUDIT_ARCH_X86_64, 0xc000003e);
  assertEquals(AUDIT_ARCH_I386, 0x40000003);
  assertEquals(AUDIT_ARCH_AARCH64, 0xc00000b7);
  assertEquals(AUDIT_ARCH_ARM, 0x40000028);
});

Deno.test("syscall tables hold the kernel numbers", () => {
  assertEquals(
    [SYSCALLS_X86_64.read, SYSCALLS_X86_64.openat, SYSCALLS_X86_64.uname, SYSCALLS_X86_64.clone3],
    [0, 257, 63, 435],
  );
  assertEquals([SYSCALLS_X86.socketcall, SYSCALLS_X86.uname, SYSCALLS_X86.clone], [102, 122, 120]);
  assertEquals(SYSCALLS_X32.read, X32_SYSCALL_BIT);
  assertEquals(SYSCALLS_X32.rt_sigaction, X32_SYSCALL_BIT + 512);
  assertEquals([SYSCALLS_AARCH64.openat, SYSCALLS_AARCH64.clone], [56, 220]);
  assertEquals(SYSCALLS_AARCH64.open, undefined);
  assertEquals([SYSCALLS_ARM.set_tls, SYSCALLS_ARM.sync_file_range2], [0xf0005, 341]);
  // Newer than the installed headers: unified numbers.
  assertEquals(
    [SYSCALLS_X86_64.fchmodat2, SYSCALLS_AARCH64.mseal, SYSCALLS_X32.futex_wait],
    [452, 462, X32_SYSCALL_BIT + 455],
  );
  assertEquals(SYSCALLS_X86.map_shadow_stack, undefined);
});

Deno.test("a syscall of an architecture not in the filter gets KILL_THREAD (bad arch)", () => {
  const { program } = compileSeccomp(denyUname(["SCMP_ARCH_X86_64"]), "x86_64");
  assertEquals(runFilter(program, { nr: 122, arch: AUDIT_ARCH_I386 }).ret, KILL_THREAD);
  assertEquals(runFilter(program, { nr: 0, arch: AUDIT_ARCH_AARCH64 }).ret, KILL_THREAD);
  assertEquals(
    runFilter(program, { nr: SYSCALLS_X86_64.uname, arch: AUDIT_ARCH_X86_64 }).ret,
    EPERM,
  );
});

Deno.test("the native architecture is always in the filter, listed or not", () => {
  for (const architectures of [undefined, [], ["SCMP_ARCH_X86"]]) {
    const { program } = compileSeccomp(denyUname(architectures), "x86_64");
    const r = runFilter(program, { nr: SYSCALLS_X86_64.uname, arch: AUDIT_ARCH_X86_64 });
    assertEquals(r.ret, EPERM, JSON.stringify(architectures));
  }
  const { program } = compileSeccomp(denyUname(["SCMP_ARCH_X86"]), "x86_64");
  assertEquals(runFilter(program, { nr: SYSCALLS_X86.uname, arch: AUDIT_ARCH_I386 }).ret, EPERM);
  assertEquals(runFilter(program, { nr: SYSCALLS_X86.read, arch: AUDIT_ARCH_I386 }).ret, ALLOW);
});

Deno.test("x86_64-only filter: x32 syscall numbers do not slip through", () => {
  const { program } = compileSeccomp(denyUname(["SCMP_ARCH_X86_64"]), "x86_64");
  for (const nr of [SYSCALLS_X32.uname, SYSCALLS_X32.read, X32_SYSCALL_BIT, 0xffffffff]) {
    assertEquals(runFilter(program, { nr, arch: AUDIT_ARCH_X86_64 }).ret, KILL_THREAD, `${nr}`);
  }
  assertEquals(runFilter(program, { nr: X32_SYSCALL_BIT - 1, arch: AUDIT_ARCH_X86_64 }).ret, ALLOW);
});

Deno.test("x86_64 + x32: x32 numbers get x32 rules; x32-only filter kills x86_64 numbers", () => {
  const both = compileSeccomp(denyUname(["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]), "x86_64").program;
  assertEquals(runFilter(both, { nr: SYSCALLS_X32.uname, arch: AUDIT_ARCH_X86_64 }).ret, EPERM);
  assertEquals(runFilter(both, { nr: SYSCALLS_X32.read, arch: AUDIT_ARCH_X86_64 }).ret, ALLOW);
  assertEquals(runFilter(both, { nr: SYSCALLS_X86_64.uname, arch: AUDIT_ARCH_X86_64 }).ret, EPERM);
  // x32 has its own numbers for some calls: rt_sigaction is 512 there, not 13.
  const sig: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
    syscalls: [{ names: ["rt_sigaction"], action: "SCMP_ACT_ERRNO" }],
  };
  const sigProgram = compileSeccomp(sig, "x86_64").program;
  const sigRun = (nr: number) => runFilter(sigProgram, { nr, arch: AUDIT_ARCH_X86_64 }).ret;
  assertEquals(sigRun(SYSCALLS_X86_64.rt_sigaction), EPERM);
  assertEquals(sigRun(X32_SYSCALL_BIT + 512), EPERM);
  assertEquals(sigRun(X32_SYSCALL_BIT | SYSCALLS_X86_64.rt_sigaction), ALLOW);
  const x32 = compileSeccomp(denyUname(["SCMP_ARCH_X32"]), "aarch64").program;
  assertEquals(runFilter(x32, { nr: SYSCALLS_X32.uname, arch: AUDIT_ARCH_X86_64 }).ret, EPERM);
  assertEquals(runFilter(x32, { nr: 1, arch: AUDIT_ARCH_X86_64 }).ret, KILL_THREAD);
});

Deno.test("aarch64 native with arm compat", () => {
  const { program } = compileSeccomp(denyUname(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]), "aarch64");
  assertEquals(
    runFilter(program, { nr: SYSCALLS_AARCH64.uname, arch: AUDIT_ARCH_AARCH64 }).ret,
    EPERM,
  );
  assertEquals(
    runFilter(program, { nr: SYSCALLS_AARCH64.read, arch: AUDIT_ARCH_AARCH64 }).ret,
    ALLOW,
  );
  assertEquals(runFilter(program, { nr: SYSCALLS_ARM.uname, arch: AUDIT_ARCH_ARM }).ret, EPERM);
  assertEquals(
    runFilter(program, { nr: SYSCALLS_X86_64.uname, arch: AUDIT_ARCH_X86_64 }).ret,
    KILL_THREAD,
  );
});

Deno.test("architecture names: unknown refused, unreachable ones left out with a warning", () => {
  assertThrows(
    () => compileSeccomp(denyUname(["SCMP_ARCH_Z80"]), "x86_64"),
    ConfigError,
    '/linux/seccomp/architectures/0: unknown architecture "SCMP_ARCH_Z80"',
  );
  const { warnings } = compileSeccomp(
    denyUname(["SCMP_ARCH_X86_64", "SCMP_ARCH_PPC64LE"]),
    "x86_64",
  );
  assertEquals(warnings, [
    "/linux/seccomp/architectures/1: SCMP_ARCH_PPC64LE left out: not reachable from x86_64",
  ]);
});

Deno.test("runc's -ENOSYS fallback: syscalls newer than the profile get ENOSYS", () => {
  const profile: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [{ names: ["read", "write", "openat"], action: "SCMP_ACT_ALLOW" }],
  };
  const { program } = compileSeccomp(profile, "x86_64");
  const run = (nr: number, arch = AUDIT_ARCH_X86_64) => runFilter(program, { nr, arch }).ret;
  assertEquals(run(257), ALLOW); // openat, the last syscall the profile names
  assertEquals(run(256), EPERM); // known to the profile's range: default action
  assertEquals(run(258), ENOSYS);
  assertEquals(run(X32_SYSCALL_BIT - 1), ENOSYS);
  assertEquals(run(SYSCALLS_X32.openat), ALLOW);
  assertEquals(run(SYSCALLS_X32.openat + 1), ENOSYS);
  assertEquals(run(SYSCALLS_X86.openat, AUDIT_ARCH_I386), ALLOW);
  assertEquals(run(SYSCALLS_X86.openat + 1, AUDIT_ARCH_I386), ENOSYS);
  assertEquals(run(SYSCALLS_X86.openat - 1, AUDIT_ARCH_I386), EPERM);

  // No fallback when the default already lets syscalls through, or no arch is listed.
  const allowing = compileSeccomp({ ...profile, defaultAction: "SCMP_ACT_LOG" }, "x86_64");
  assertEquals(runFilter(allowing.program, { nr: 400, arch: AUDIT_ARCH_X86_64 }).ret, 0x7ffc0000);
  const unlisted = compileSeccomp({ ...profile, architectures: undefined }, "x86_64");
  assertEquals(runFilter(unlisted.program, { nr: 400, arch: AUDIT_ARCH_X86_64 }).ret, EPERM);
  const tracing = compileSeccomp({ ...profile, defaultAction: "SCMP_ACT_TRACE" }, "x86_64");
  assert(runFilter(tracing.program, { nr: 400, arch: AUDIT_ARCH_X86_64 }).ret === 0x7ff00001);
});

Deno.test("x86: socket and IPC rules also apply through socketcall and ipc (libseccomp)", () => {
  const { program } = compileSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    syscalls: [
      { names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97 },
      { names: ["send"], action: "SCMP_ACT_ERRNO", errnoRet: 5 },
      {
        names: ["shmget"],
        action: "SCMP_ACT_ERRNO",
        args: [{ index: 0, value: 7, op: "SCMP_CMP_EQ" }, {
          index: 2,
          value: 1,
          op: "SCMP_CMP_EQ",
        }],
      },
    ],
  }, "x86_64");
  const x86 = (nr: number, args: bigint[] = []) =>
    runFilter(program, { nr, arch: AUDIT_ARCH_I386, args }).ret;
  const socketcall = SYSCALLS_X86.socketcall;
  assertEquals(x86(SYSCALLS_X86.socket), 0x00050061);
  assertEquals(x86(socketcall, [1n]), 0x00050061); // SYS_SOCKET
  assertEquals(x86(socketcall, [9n]), 0x00050005); // SYS_SEND
  assertEquals(x86(socketcall, [3n]), ALLOW); // SYS_CONNECT
  // ipc(SHMGET=23, ...): argument 0 becomes the call number, the other checks stay.
  assertEquals(x86(SYSCALLS_X86.ipc, [23n, 0n, 1n]), EPERM);
  assertEquals(x86(SYSCALLS_X86.ipc, [23n, 0n, 2n]), ALLOW);
  assertEquals(x86(SYSCALLS_X86.shmget, [7n, 0n, 1n]), EPERM);
  assertEquals(x86(SYSCALLS_X86.shmget, [23n, 0n, 1n]), ALLOW);
  const x86_64 = runFilter(program, { nr: SYSCALLS_X86_64.socket, arch: AUDIT_ARCH_X86_64 });
  assertEquals(x86_64.ret, 0x00050061);
});
