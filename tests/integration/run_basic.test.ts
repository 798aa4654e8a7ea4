/**
 * `runts run` basics, checked from inside a busybox container: exit status, stdio,
 * hostname/domainname, env, cwd, user and groups, umask.
 */
import { requireRoot } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { outputOf, runIn, sh } from "./run_helpers.ts";

Deno.test({
  name: "run: exit status 3 becomes runts' exit status",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({ args: sh("exit 3") });
    assertEquals(r.code, 3, r.stderr);
  },
});

Deno.test({
  name: "run: init killed by SIGKILL inside the container gives 137",
  ...requireRoot(),
  fn: async () => {
    // A pid-namespace init can't be SIGKILLed from inside its namespace, so this
    // container shares the host's pid namespace, where `kill -9 $$` kills the shell.
    const r = await runIn({
      args: sh("kill -9 $$; sleep 5"),
      edit: (s) => {
        s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== "pid");
      },
    });
    assertEquals(r.code, 137, r.stderr);
  },
});

Deno.test({
  name: "run: stdout and stderr pass through without a terminal",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({ args: sh("echo to-out; echo to-err >&2; echo more-out") });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "to-out\nmore-out\n");
    assertMatch(r.stderr, /^to-err\n/);
  },
});

Deno.test({
  name: "run: stdin passes through without a terminal",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({ args: ["sh", "-c", "tr a-z A-Z; echo done"], stdin: "hello\nworld\n" });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "HELLO\nWORLD\ndone\n");
  },
});

Deno.test({
  name: "run: hostname and domainname",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh("hostname; cat /proc/sys/kernel/domainname"),
      edit: (s) => {
        s.hostname = "box-one";
        s.domainname = "example.test";
      },
    });
    assertEquals(out, "box-one\nexample.test\n");
    // The host's names are untouched (a uts namespace).
    assert(Deno.hostname() !== "box-one", "host hostname changed");
  },
});

Deno.test({
  name: "run: env is exactly process.env",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: ["env"],
      edit: (s) => {
        s.process.env = ["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY=", "MULTI=a=b=c"];
      },
    });
    // busybox env prints the environment as given (no shell in between).
    assertEquals(out.trim().split("\n").sort(), [
      "EMPTY=",
      "FOO=bar baz",
      "MULTI=a=b=c",
      "PATH=/bin:/usr/bin",
    ]);
  },
});

Deno.test({
  name: "run: cwd is process.cwd",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({ args: ["pwd"], edit: (s) => (s.process.cwd = "/home/user") });
    assertEquals(out, "/home/user\n");
  },
});

Deno.test({
  name: "run: uid, gid and additionalGids (id)",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh("id -u; id -g; id -G; grep -E '^(Uid|Gid|Groups):' /proc/self/status"),
      edit: (s) => (s.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 65534] }),
    });
    const lines = out.split("\n");
    assertEquals(lines[0], "1000");
    assertEquals(lines[1], "1000");
    assertEquals(lines[2].split(" ").sort(), ["1000", "5", "65534"]);
    assertMatch(out, /^Uid:\t1000\t1000\t1000\t1000$/m);
    assertMatch(out, /^Gid:\t1000\t1000\t1000\t1000$/m);
    assertMatch(out, /^Groups:\t5 65534 ?$/m);
  },
});

Deno.test({
  name: "run: umask default 0022 and process.user.umask",
  ...requireRoot(),
  fn: async () => {
    const def = await outputOf({ args: sh("umask; grep Umask /proc/self/status") });
    assertEquals(def, "0022\nUmask:\t0022\n");
    const set = await outputOf({
      args: sh("umask; touch /tmp/f; stat -c %a /tmp/f"),
      edit: (s) => {
        s.process.user.umask = 0o077;
        s.root.readonly = false;
      },
    });
    assertEquals(set, "0077\n600\n");
  },
});

Deno.test({
  name: "run: executable looked up in the container's PATH; missing one is an error",
  ...requireRoot(),
  fn: async () => {
    const ok = await outputOf({ args: ["echo", "found"] });
    assertEquals(ok, "found\n");
    const r = await runIn({ args: ["no-such-program"] });
    assert(r.code !== 0, "a missing executable must fail");
    assertMatch(r.stderr, /no-such-program/);
  },
});
