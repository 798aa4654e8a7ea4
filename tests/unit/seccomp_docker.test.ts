import { assert, assertEquals } from "./assert.ts";
import { runFilter } from "./bpf_interp.ts";
import { compileSeccomp } from "../../src/seccomp/compile.ts";
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from "../../src/seccomp/arch.ts";
import { SYSCALLS_X32 } from "../../src/seccomp/syscalls_x32.ts";
import { SYSCALLS_X86 } from "../../src/seccomp/syscalls_x86.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import type { LinuxSeccomp } from "../../src/spec/types.ts";

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const CLONE_NEWUSER = 0x10000000n;
const CLONE_NEWNS = 0x00020000n;
/** What glibc's pthread_create passes to clone. */
const THREAD_FLAGS = 0x3d0f00n;
const SIGCHLD = 17n;

const docker: LinuxSeccomp = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/seccomp-docker-default.json", import.meta.url)),
);
const compiled = compileSeccomp(docker, "x86_64");

function run(nr: number, args: bigint[] = [], arch = AUDIT_ARCH_X86_64) {
  return runFilter(compiled.program, { nr, arch, args });
}

Deno.test("Docker default profile: realistic size, compact filter", () => {
  const names = docker.syscalls!.flatMap((s) => s.names);
  assert(names.length > 300, `${names.length} names`);
  const instructions = compiled.program.byteLength / 8;
  assert(instructions < 1000, `${instructions} instructions`);
  assertEquals(compiled.flags, 0);
  // recv and send have no syscall of their own on x86 but are reached via socketcall.
  assertEquals(compiled.warnings, []);
});

Deno.test("Docker default profile: allowed and denied syscalls on x86_64", () => {
  for (const name of ["read", "write", "openat", "execve", "futex", "epoll_wait", "fchmodat2"]) {
    assertEquals(run(SYSCALLS_X86_64[name]).ret, ALLOW, name);
  }
  for (const name of ["mount", "unshare", "setns", "bpf", "kexec_load", "umount2", "reboot"]) {
    assertEquals(run(SYSCALLS_X86_64[name]).ret, EPERM, name);
  }
  assertEquals(run(SYSCALLS_X86_64.clone3).ret, ENOSYS);
  assertEquals(run(1000).ret, ENOSYS, "newer than the profile");
});

Deno.test("Docker default profile: clone with namespace flags denied, threads and fork allowed", () => {
  const clone = SYSCALLS_X86_64.clone;
  assertEquals(run(clone, [THREAD_FLAGS]).ret, ALLOW);
  assertEquals(run(clone, [SIGCHLD]).ret, ALLOW);
  assertEquals(run(clone, [CLONE_NEWUSER | SIGCHLD]).ret, EPERM);
  assertEquals(run(clone, [CLONE_NEWNS]).ret, EPERM);
  // Bits above 32 are outside the mask: still allowed.
  assertEquals(run(clone, [(1n << 40n) | SIGCHLD]).ret, ALLOW);
  assertEquals(run(SYSCALLS_X86.clone, [CLONE_NEWUSER], AUDIT_ARCH_I386).ret, EPERM);
  assertEquals(run(SYSCALLS_X86.clone, [SIGCHLD], AUDIT_ARCH_I386).ret, ALLOW);
});

Deno.test("Docker default profile: personality only with the listed personas", () => {
  const personality = SYSCALLS_X86_64.personality;
  for (const persona of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) {
    assertEquals(run(personality, [persona]).ret, ALLOW, `${persona}`);
  }
  for (const persona of [1n, 0x0400000n, 0x1_00000000n, 0xffffffff_ffffffffn]) {
    assertEquals(run(personality, [persona]).ret, EPERM, `${persona}`);
  }
});

Deno.test("Docker default profile: x86 and x32 ABIs", () => {
  for (const name of ["socketcall", "read", "mmap2", "set_thread_area", "ipc"]) {
    assertEquals(run(SYSCALLS_X86[name], [], AUDIT_ARCH_I386).ret, ALLOW, `x86 ${name}`);
  }
  assertEquals(run(SYSCALLS_X86.mount, [], AUDIT_ARCH_I386).ret, EPERM);
  assertEquals(run(SYSCALLS_X32.read).ret, ALLOW);
  assertEquals(run(SYSCALLS_X32.rt_sigaction).ret, ALLOW);
  assertEquals(run(SYSCALLS_X32.mount).ret, EPERM);
});

Deno.test("Docker default profile: every syscall decided in a few dozen instructions", () => {
  let worst = 0;
  for (const nr of Object.values(SYSCALLS_X86_64)) {
    worst = Math.max(worst, run(nr, [THREAD_FLAGS]).steps);
  }
  assert(worst < 40, `worst case ${worst} instructions`);
});
