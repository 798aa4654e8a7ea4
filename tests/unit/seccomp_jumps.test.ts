import { assert, assertEquals, assertThrows } from "./assert.ts";
import { runFilter } from "./bpf_interp.ts";
import { RuntsError } from "../../src/errors.ts";
import { Assembler, BPF_JMP_JA, BPF_JMP_JEQ_K, decode } from "../../src/seccomp/bpf.ts";
import { compileSeccomp } from "../../src/seccomp/compile.ts";
import { AUDIT_ARCH_X86_64 } from "../../src/seccomp/arch.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import type { LinuxSeccomp, LinuxSyscall } from "../../src/spec/types.ts";

Deno.test("assembler: a conditional jump beyond 255 goes through a JA trampoline", () => {
  const asm = new Assembler();
  const far = asm.label();
  const near = asm.label();
  asm.loadWord(0);
  asm.branch(BPF_JMP_JEQ_K, 7, far, near);
  asm.bind(near);
  for (let i = 0; i < 300; i++) asm.ret(i);
  asm.bind(far);
  asm.ret(0xabc);
  const program = asm.assemble();
  const insns = decode(program);
  assertEquals(insns.length, 1 + 2 + 300 + 1);
  assertEquals(insns[1], { code: BPF_JMP_JEQ_K, jt: 0, jf: 1, k: 7 });
  assertEquals(insns[2], { code: BPF_JMP_JA, jt: 0, jf: 0, k: 300 });
  assertEquals(runFilter(program, { nr: 7, arch: 0 }).ret, 0xabc);
  assertEquals(runFilter(program, { nr: 8, arch: 0 }).ret, 0);
});

/** >300 rules, each with its own errno and an argument check, on distinct syscalls. */
function hugeProfile(): { profile: LinuxSeccomp; names: string[] } {
  const names = Object.keys(SYSCALLS_X86_64).slice(0, 330);
  const syscalls: LinuxSyscall[] = names.map((name, i) => ({
    names: [name],
    action: "SCMP_ACT_ERRNO",
    errnoRet: i + 1,
    args: [{ index: i % 6, value: 1000 + i, op: "SCMP_CMP_EQ" }],
  }));
  return { profile: { defaultAction: "SCMP_ACT_ALLOW", syscalls }, names };
}

Deno.test("huge profile: every rule reachable and correct across long jumps", () => {
  const { profile, names } = hugeProfile();
  const { program } = compileSeccomp(profile, "x86_64");
  const insns = decode(program);
  assert(insns.length > 1000, `${insns.length} instructions`);
  assert(insns.some((i) => i.code === BPF_JMP_JA && i.k > 255), "no long JA was needed");
  names.forEach((name, i) => {
    const args = [0n, 0n, 0n, 0n, 0n, 0n];
    args[i % 6] = BigInt(1000 + i);
    const nr = SYSCALLS_X86_64[name];
    assertEquals(
      runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args }).ret,
      0x50000 + i + 1,
      name,
    );
    args[i % 6]++;
    assertEquals(runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args }).ret, 0x7fff0000, name);
  });
});

Deno.test("a filter over 4096 instructions is refused", () => {
  const syscalls: LinuxSyscall[] = [];
  for (let i = 0; i < 400; i++) {
    syscalls.push({
      names: ["ioctl"],
      action: "SCMP_ACT_ERRNO",
      args: [
        { index: 0, value: i, op: "SCMP_CMP_GE" },
        { index: 1, value: i, op: "SCMP_CMP_LE" },
      ],
    });
  }
  const err = assertThrows(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", syscalls }, "x86_64"),
    RuntsError,
    "more than the kernel limit of 4096",
  );
  assert(/needs \d+ BPF instructions/.test(err.message), err.message);
  // The same rules, fewer of them, fit.
  const fits = compileSeccomp(
    { defaultAction: "SCMP_ACT_ALLOW", syscalls: syscalls.slice(0, 100) },
    "x86_64",
  );
  assert(fits.program.byteLength / 8 <= 4096);
});
