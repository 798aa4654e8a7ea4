import { assert, assertEquals, assertThrows } from "./assert.ts";
import { runFilter } from "./bpf_interp.ts";
import { ConfigError } from "../../src/errors.ts";
import { compileSeccomp } from "../../src/seccomp/compile.ts";
import { AUDIT_ARCH_X86_64 } from "../../src/seccomp/arch.ts";
import { SYSCALLS_X86_64 as NR } from "../../src/seccomp/syscalls_x86_64.ts";
import type { LinuxSeccomp } from "../../src/spec/types.ts";

function ret(profile: LinuxSeccomp, nr: number, args: bigint[] = []): number {
  const { program } = compileSeccomp(profile, "x86_64");
  return runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args }).ret;
}

Deno.test("every action maps to its SECCOMP_RET value", () => {
  const cases: [LinuxSeccomp["syscalls"], string, number][] = [
    [[{ names: ["uname"], action: "SCMP_ACT_KILL" }], "uname", 0],
    [[{ names: ["uname"], action: "SCMP_ACT_KILL_THREAD" }], "uname", 0],
    [[{ names: ["uname"], action: "SCMP_ACT_KILL_PROCESS" }], "uname", 0x80000000],
    [[{ names: ["uname"], action: "SCMP_ACT_TRAP" }], "uname", 0x00030000],
    [[{ names: ["uname"], action: "SCMP_ACT_ERRNO" }], "uname", 0x00050001],
    [[{ names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: 42 }], "uname", 0x0005002a],
    [[{ names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: 0 }], "uname", 0x00050000],
    [[{ names: ["uname"], action: "SCMP_ACT_TRACE" }], "uname", 0x7ff00001],
    [[{ names: ["uname"], action: "SCMP_ACT_TRACE", errnoRet: 7 }], "uname", 0x7ff00007],
    [[{ names: ["uname"], action: "SCMP_ACT_LOG" }], "uname", 0x7ffc0000],
  ];
  for (const [syscalls, name, want] of cases) {
    const profile: LinuxSeccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls };
    assertEquals(ret(profile, NR[name]), want, JSON.stringify(syscalls));
    assertEquals(ret(profile, NR.getpid), 0x7fff0000, "other syscalls take the default");
  }
  const allowOne: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 13,
    syscalls: [{ names: ["getpid"], action: "SCMP_ACT_ALLOW" }],
  };
  assertEquals(ret(allowOne, NR.getpid), 0x7fff0000);
  assertEquals(ret(allowOne, NR.uname), 0x0005000d);
});

Deno.test("default action without errnoRet is EPERM for ERRNO and TRACE", () => {
  assertEquals(ret({ defaultAction: "SCMP_ACT_ERRNO" }, NR.read), 0x00050001);
  assertEquals(ret({ defaultAction: "SCMP_ACT_TRACE" }, NR.read), 0x7ff00001);
  assertEquals(ret({ defaultAction: "SCMP_ACT_KILL_PROCESS" }, NR.read), 0x80000000);
});

Deno.test("SCMP_ACT_NOTIFY is refused, as default and in a rule", () => {
  assertThrows(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_NOTIFY" }, "x86_64"),
    ConfigError,
    "/linux/seccomp/defaultAction: SCMP_ACT_NOTIFY is not supported",
  );
  assertThrows(
    () =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ALLOW",
        listenerPath: "/run/agent.sock",
        syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY" }],
      }, "x86_64"),
    ConfigError,
    "/linux/seccomp/syscalls/0/action: SCMP_ACT_NOTIFY is not supported",
  );
});

Deno.test("errnoRet is refused on actions without a data field, and out of range", () => {
  assertThrows(
    () =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }],
      }, "x86_64"),
    ConfigError,
    "errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW",
  );
  assertThrows(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_KILL", defaultErrnoRet: 1 }, "x86_64"),
    ConfigError,
    "/linux/seccomp/defaultAction: errnoRet",
  );
  assertThrows(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 70000 }, "x86_64"),
    ConfigError,
    "70000 must be an integer from 0 to 65535",
  );
});

Deno.test("unknown actions, operators, indexes and values are refused, all reported at once", () => {
  const err = assertThrows(
    () =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          // deno-lint-ignore no-explicit-any
          { names: ["read"], action: "SCMP_ACT_EXPLODE" as any },
          {
            names: ["write"],
            action: "SCMP_ACT_ERRNO",
            args: [
              { index: 6, value: 0, op: "SCMP_CMP_EQ" },
              // deno-lint-ignore no-explicit-any
              { index: 0, value: 0, op: "SCMP_CMP_SIMILAR" as any },
              { index: 1, value: -1, op: "SCMP_CMP_EQ" },
              { index: 2, value: 2 ** 60, op: "SCMP_CMP_EQ" },
            ],
          },
          { names: [], action: "SCMP_ACT_ERRNO" },
        ],
      }, "x86_64"),
    ConfigError,
  );
  assertEquals(err.problems, [
    '/linux/seccomp/syscalls/0/action: unknown seccomp action "SCMP_ACT_EXPLODE"',
    "/linux/seccomp/syscalls/1/args/0/index: 6 is not a syscall argument (0-5)",
    '/linux/seccomp/syscalls/1/args/1/op: unknown comparison "SCMP_CMP_SIMILAR"',
    "/linux/seccomp/syscalls/1/args/2/value: -1 is not an unsigned 64-bit integer",
    "/linux/seccomp/syscalls/1/args/3/value: 1152921504606847000 is above 2^53 and was rounded when config.json was parsed; the exact value is lost",
    "/linux/seccomp/syscalls/2/names: must list at least one syscall",
  ]);
});

Deno.test("flags map to SECCOMP_FILTER_FLAG_* bits; unknown and listener-only flags are refused", () => {
  const { flags } = compileSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    flags: [
      "SECCOMP_FILTER_FLAG_TSYNC",
      "SECCOMP_FILTER_FLAG_LOG",
      "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    ],
  }, "x86_64");
  assertEquals(flags, 1 | 2 | 4);
  assertEquals(compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW" }, "x86_64").flags, 0);
  assertThrows(
    () =>
      compileSeccomp(
        // deno-lint-ignore no-explicit-any
        { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_BOGUS" as any] },
        "x86_64",
      ),
    ConfigError,
    '/linux/seccomp/flags/0: unknown seccomp flag "SECCOMP_FILTER_FLAG_BOGUS"',
  );
  assertThrows(
    () =>
      compileSeccomp(
        { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] },
        "x86_64",
      ),
    ConfigError,
    "only applies to a SCMP_ACT_NOTIFY listener",
  );
});

Deno.test("unknown syscall names are skipped with one warning each; arch-specific ones silently", () => {
  const { program, warnings } = compileSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    syscalls: [
      { names: ["no_such_call", "uname", "no_such_call"], action: "SCMP_ACT_ERRNO" },
      { names: ["socketcall"], action: "SCMP_ACT_ERRNO" },
    ],
  }, "x86_64");
  assertEquals(warnings.length, 1);
  assert(warnings[0].includes('"no_such_call"'), warnings[0]);
  const r = runFilter(program, { nr: NR.uname, arch: AUDIT_ARCH_X86_64 });
  assertEquals(r.ret, 0x00050001);
});

Deno.test("a rule with the default action is dropped, as runc does", () => {
  // If the ERRNO rule were kept it would win (unconditional); runc skips it, so ALLOW applies.
  const profile: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["uname"], action: "SCMP_ACT_ERRNO" },
      { names: ["uname"], action: "SCMP_ACT_ALLOW" },
    ],
  };
  assertEquals(ret(profile, NR.uname), 0x7fff0000);
  // ... but a different errno is a different action.
  profile.syscalls![0].errnoRet = 5;
  assertEquals(ret(profile, NR.uname), 0x00050005);
});

Deno.test("an unconditional rule wins over conditional ones, whatever the order", () => {
  const conditional = {
    names: ["uname"],
    action: "SCMP_ACT_ERRNO" as const,
    errnoRet: 9,
    args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" as const }],
  };
  const plain = { names: ["uname"], action: "SCMP_ACT_LOG" as const };
  for (const syscalls of [[conditional, plain], [plain, conditional]]) {
    const profile: LinuxSeccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls };
    assertEquals(ret(profile, NR.uname, [1n]), 0x7ffc0000);
    assertEquals(ret(profile, NR.uname, [2n]), 0x7ffc0000);
  }
  // Of two unconditional rules, the first wins (libseccomp keeps the existing one).
  const twice: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["uname"], action: "SCMP_ACT_TRAP" }, plain],
  };
  assertEquals(ret(twice, NR.uname), 0x00030000);
});

Deno.test("listenerMetadata without listenerPath is refused", () => {
  assertThrows(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", listenerMetadata: "x" }, "x86_64"),
    ConfigError,
    "/linux/seccomp/listenerMetadata: must not be set without listenerPath",
  );
});
