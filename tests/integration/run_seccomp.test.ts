/**
 * linux.seccomp in real containers: the filter is loaded before execve and applies to
 * the container's program (with and without no_new_privs), and a realistic Docker-style
 * profile runs a shell.
 */
import { requireRoot } from "../helpers.ts";
import { assertEquals, assertMatch } from "../unit/assert.ts";
import { runIn, sh } from "./run_helpers.ts";

const dockerProfile = JSON.parse(
  Deno.readTextFileSync(new URL("../unit/fixtures/seccomp-docker-default.json", import.meta.url)),
);

// An allow-by-default profile that makes mkdir/mkdirat fail with EACCES (13).
const denyMkdir = {
  defaultAction: "SCMP_ACT_ALLOW",
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
};

for (const nnp of [true, false]) {
  Deno.test({
    name: `run: a seccomp filter denies mkdir with the configured errno (noNewPrivileges ${nnp})`,
    ...requireRoot(),
    fn: async () => {
      const r = await runIn({
        args: sh("mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status"),
        edit: (s) => {
          s.root.readonly = false;
          s.process.noNewPrivileges = nnp;
          s.linux.seccomp = denyMkdir;
        },
      });
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stderr, /Permission denied/);
      assertMatch(r.stdout, /rc=1/);
      assertMatch(r.stdout, /Seccomp:\s+2/);
    },
  });
}

Deno.test({
  name: "run: the Docker-style default profile runs a shell; personality and unshare are refused",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({
      args: sh("echo ok; unshare -U true; echo unshare=$?"),
      edit: (s) => {
        s.linux.seccomp = dockerProfile;
      },
    });
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /^ok\n/);
    assertMatch(r.stdout, /unshare=1/);
  },
});
