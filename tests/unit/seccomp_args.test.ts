import { assertEquals } from "./assert.ts";
import { runFilter } from "./bpf_interp.ts";
import { compileSeccomp } from "../../src/seccomp/compile.ts";
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from "../../src/seccomp/arch.ts";
import { SYSCALLS_X86 } from "../../src/seccomp/syscalls_x86.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import type { LinuxSeccomp, LinuxSeccompOperator } from "../../src/spec/types.ts";

const ALLOW = 0x7fff0000;
const DENY = 0x0005002a; // ERRNO(42)
const M64 = (1n << 64n) - 1n;
const M32 = 0xffffffffn;

/** Values around the 32- and 64-bit boundaries; -1 and -2 as u64. */
const BOUNDARY = [
  0n,
  1n,
  0x7fffffffn,
  0x80000000n,
  0xfffffffen,
  0xffffffffn,
  0x100000000n,
  0x100000001n,
  0x1fffffffen,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  BigInt.asUintN(64, -2n),
  BigInt.asUintN(64, -1n),
];

const ORACLE: Record<string, (a: bigint, v: bigint) => boolean> = {
  SCMP_CMP_EQ: (a, v) => a === v,
  SCMP_CMP_NE: (a, v) => a !== v,
  SCMP_CMP_LT: (a, v) => a < v,
  SCMP_CMP_LE: (a, v) => a <= v,
  SCMP_CMP_GT: (a, v) => a > v,
  SCMP_CMP_GE: (a, v) => a >= v,
};

function profileFor(
  names: string[],
  args: LinuxSeccomp["syscalls"] extends (infer S)[] | undefined
    ? S extends { args?: infer A } ? A : never
    : never,
): LinuxSeccomp {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    syscalls: [{ names, action: "SCMP_ACT_ERRNO", errnoRet: 42, args }],
  };
}

Deno.test("64-bit comparisons: every operator against values at 32/64-bit boundaries", () => {
  let checked = 0;
  for (const [op, holds] of Object.entries(ORACLE)) {
    for (const value of BOUNDARY) {
      const { program } = compileSeccomp(
        profileFor(["uname"], [{
          index: 2,
          value: value as unknown as number, // bigint: exact u64 beyond 2^53
          op: op as LinuxSeccompOperator,
        }]),
        "x86_64",
      );
      for (const arg of BOUNDARY) {
        const args = [M64, 0n, arg, M64, 0n, 0n];
        const got = runFilter(program, {
          nr: SYSCALLS_X86_64.uname,
          arch: AUDIT_ARCH_X86_64,
          args,
        });
        assertEquals(got.ret, holds(arg, value) ? DENY : ALLOW, `${arg} ${op} ${value}`);
        checked++;
      }
    }
  }
  assertEquals(checked, 6 * BOUNDARY.length ** 2);
});

Deno.test("MASKED_EQ: value is the mask, valueTwo the datum, on both 32-bit halves", () => {
  const masks = [0n, 0xffn, 0x7e020000n, 0xffffffff00000000n, 0x100000001n, M64];
  const data = [0n, 0x2n, 0x10000000n, 0x100000000n, 0xffffffff_00000000n, M64];
  for (const mask of masks) {
    for (const datum of data) {
      const { program } = compileSeccomp(
        profileFor(["uname"], [{
          index: 0,
          value: mask as unknown as number,
          valueTwo: datum as unknown as number,
          op: "SCMP_CMP_MASKED_EQ",
        }]),
        "x86_64",
      );
      for (const arg of [...BOUNDARY, 0x7e020000n, 0x10000011n, 0x1_7e020000n]) {
        const holds = (arg & mask) === (datum & mask);
        const got = runFilter(program, {
          nr: SYSCALLS_X86_64.uname,
          arch: AUDIT_ARCH_X86_64,
          args: [arg],
        });
        assertEquals(got.ret, holds ? DENY : ALLOW, `(${arg} & ${mask}) == ${datum}`);
      }
    }
  }
});

Deno.test("32-bit ABIs compare the low word against the value truncated to 32 bits (libseccomp)", () => {
  for (const [op, holds] of Object.entries(ORACLE)) {
    for (const value of BOUNDARY) {
      const { program } = compileSeccomp(
        profileFor(["uname"], [{
          index: 1,
          value: value as unknown as number,
          op: op as LinuxSeccompOperator,
        }]),
        "x86_64",
      );
      for (const arg of BOUNDARY) {
        const got = runFilter(program, {
          nr: SYSCALLS_X86.uname,
          arch: AUDIT_ARCH_I386,
          args: [0n, arg],
        });
        const want = holds(arg & M32, value & M32) ? DENY : ALLOW;
        assertEquals(got.ret, want, `x86: ${arg} ${op} ${value}`);
      }
    }
  }
});

Deno.test("args of one entry are AND-ed; a repeated index turns them into OR (runc)", () => {
  const and = compileSeccomp(
    profileFor(["uname"], [
      { index: 0, value: 1, op: "SCMP_CMP_EQ" },
      { index: 1, value: 10, op: "SCMP_CMP_GT" },
    ]),
    "x86_64",
  ).program;
  const run = (program: Uint8Array, args: bigint[]) =>
    runFilter(program, { nr: SYSCALLS_X86_64.uname, arch: AUDIT_ARCH_X86_64, args }).ret;
  assertEquals(run(and, [1n, 11n]), DENY);
  assertEquals(run(and, [1n, 10n]), ALLOW);
  assertEquals(run(and, [2n, 11n]), ALLOW);

  const or = compileSeccomp(
    profileFor(["uname"], [
      { index: 0, value: 1, op: "SCMP_CMP_EQ" },
      { index: 0, value: 5, op: "SCMP_CMP_EQ" },
    ]),
    "x86_64",
  ).program;
  assertEquals(run(or, [1n]), DENY);
  assertEquals(run(or, [5n]), DENY);
  assertEquals(run(or, [3n]), ALLOW);
});

Deno.test("several rules for one syscall are OR-ed; the first that matches decides", () => {
  const { program } = compileSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      {
        names: ["uname"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: 1,
        args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
      },
      {
        names: ["uname"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: 2,
        args: [{ index: 1, value: 2, op: "SCMP_CMP_EQ" }],
      },
    ],
  }, "x86_64");
  const run = (args: bigint[]) =>
    runFilter(program, { nr: SYSCALLS_X86_64.uname, arch: AUDIT_ARCH_X86_64, args }).ret;
  assertEquals(run([1n, 0n]), 0x00050001);
  assertEquals(run([0n, 2n]), 0x00050002);
  assertEquals(run([1n, 2n]), 0x00050001);
  assertEquals(run([0n, 0n]), ALLOW);
});
