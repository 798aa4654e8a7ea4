/**
 * Loads compiled filters into the real kernel, in a separate `deno eval` process (a
 * seccomp filter cannot be removed, and JavaScript must not run in a forked child), then
 * makes syscalls through FFI and reports what the kernel returned.
 */
import { assertEquals } from "./assert.ts";

const compileUrl = new URL("../../src/seccomp/compile.ts", import.meta.url).href;
const ffiUrl = new URL("../../src/linux/ffi.ts", import.meta.url).href;
const dockerUrl = new URL("./fixtures/seccomp-docker-default.json", import.meta.url);

const onX86_64 = Deno.build.os === "linux" && Deno.build.arch === "x86_64";

/** x86_64 syscall numbers used by the child. */
const NR = { prctl: 157, seccomp: 317, getpgid: 121, getpid: 39, clone3: 435, unshare: 272 };

function childScript(profileJson: string, calls: [string, number, number[]][]): string {
  return `
import { compileSeccomp } from ${JSON.stringify(compileUrl)};
import { sys, sysRaw } from ${JSON.stringify(ffiUrl)};
const { program, flags } = compileSeccomp(${profileJson}, "x86_64");
const fprog = new Uint8Array(16);
const view = new DataView(fprog.buffer);
view.setUint16(0, program.byteLength / 8, true);
view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(program))), true);
sys(${NR.prctl}, [38, 1, 0, 0, 0], "prctl(PR_SET_NO_NEW_PRIVS)");
sys(${NR.seccomp}, [1, flags, fprog], "seccomp(SECCOMP_SET_MODE_FILTER)");
const results = {};
for (const [name, nr, args] of ${JSON.stringify(calls)}) {
  results[name] = Number(sysRaw(nr, args.map(BigInt)));
}
console.log(JSON.stringify(results));
`;
}

async function runChild(script: string): Promise<Record<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`child failed (${out.code}, signal ${out.signal}): ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

Deno.test({
  name: "kernel accepts the filter: allow-by-default profile denying getpgid with errno 42",
  ignore: !onX86_64,
  fn: async () => {
    const profile = {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      flags: ["SECCOMP_FILTER_FLAG_TSYNC"],
      syscalls: [
        { names: ["getpgid"], action: "SCMP_ACT_ERRNO", errnoRet: 42 },
        {
          names: ["unshare"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 43,
          args: [{ index: 0, value: 0x10000000, valueTwo: 0x10000000, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    };
    const got = await runChild(childScript(JSON.stringify(profile), [
      ["getpgid", NR.getpgid, [0]],
      ["getpid", NR.getpid, []],
      ["unshareUser", NR.unshare, [0x10000000]],
      ["unshareNothing", NR.unshare, [0]],
    ]));
    assertEquals(got.getpgid, -42);
    assertEquals(got.getpid > 0, true);
    assertEquals(got.unshareUser, -43);
    assertEquals(got.unshareNothing, 0);
  },
});

Deno.test({
  name: "kernel accepts the Docker default profile and enforces it",
  ignore: !onX86_64,
  fn: async () => {
    const profile = await Deno.readTextFile(dockerUrl);
    const got = await runChild(childScript(profile, [
      ["getpid", NR.getpid, []],
      ["clone3", NR.clone3, [0, 0]],
      ["unshare", NR.unshare, [0]],
      ["newer", 1000, []],
    ]));
    assertEquals(got.getpid > 0, true);
    assertEquals(got.clone3, -38); // ERRNO(ENOSYS) from the profile, not the kernel's EINVAL
    assertEquals(got.unshare, -1); // EPERM: not in the allow list (the kernel would return 0)
    assertEquals(got.newer, -38);
  },
});
