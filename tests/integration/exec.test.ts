/**
 * `runts exec` end to end (runc's flags): the new process is in every namespace and the
 * cgroup of the container's init, gets the container's process settings plus the flags,
 * passes stdio and its exit status through, detaches, reads a process.json, gets a pty,
 * refuses stopped (and, without --ignore-paused, paused) containers, works with a user
 * namespace, and never exposes the runtime binary to the container. Each test has its
 * own --root, container and bundle and checks that nothing is left afterwards.
 */
import { type BundleOptions, requireRoot, type RunResult, runts, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import {
  assertFails,
  assertGone,
  assertOk,
  lastLine,
  pidAlive,
  type Setup,
  setup,
  waitStatus,
  waitUntil,
} from "./lifecycle_helpers.ts";
import { ttySession } from "./run_helpers.ts";

const HOSTNAME = "execbox";
const ROOTFS_MARKER = "runts-exec-marker";
const NS = ["pid", "mnt", "net", "uts", "ipc", "cgroup"];

interface Ctr {
  s: Setup;
  id: string;
  /** Host pid of the container's init. */
  pid: number;
  /** `runts exec [flags...] ID cmd...`: flags go before the id. */
  exec(flags: string[], cmd: string[], opts?: { stdin?: string }): Promise<RunResult>;
}

interface CtrOptions extends BundleOptions {
  /** Leave the container created, not started. */
  noStart?: boolean;
  /** Make it with `run -d` instead of create + start. */
  runDetached?: boolean;
}

/** A running `sleep 600` container with a cgroup namespace, hostname and rootfs marker. */
async function withContainer(o: CtrOptions, fn: (c: Ctr) => Promise<void>): Promise<void> {
  const s = await setup({
    args: o.args ?? ["sleep", "600"],
    edit: (spec) => {
      spec.hostname = HOSTNAME;
      spec.linux.namespaces.push({ type: "cgroup" });
      spec.process.env.push("FROM_SPEC=spec-value", "FOO=bar");
      spec.process.noNewPrivileges = false;
      o.edit?.(spec);
    },
  });
  const id = uniqueId("exec");
  s.ids.add(id);
  try {
    await Deno.writeTextFile(`${s.bundle.dir}/rootfs/${ROOTFS_MARKER}`, "");
    // A mapped root (user namespace) must reach the rootfs and /shared (made 0700).
    await Deno.chmod(s.bundle.dir, 0o755);
    await Deno.chmod(s.shared, 0o755);
    const pidFile = `${s.bundle.dir}/init.pid`;
    if (o.runDetached) {
      assertOk(
        await s.rt(["run", "-d", "--bundle", s.bundle.dir, "--pid-file", pidFile, id]),
        "run",
      );
    } else {
      assertOk(
        await s.rt(["create", "--bundle", s.bundle.dir, "--pid-file", pidFile, id]),
        "create",
      );
    }
    const pid = Number(await Deno.readTextFile(pidFile));
    if (!o.noStart && !o.runDetached) assertOk(await s.rt(["start", id]), "start");
    await fn({
      s,
      id,
      pid,
      exec: (flags, cmd, opts = {}) =>
        runts(["exec", ...flags, id, ...cmd], { root: s.root, stdin: opts.stdin }),
    });
    assertOk(await s.rt(["delete", "--force", id]), "delete --force");
    await assertGone(s.root, id, s.bundle.dir);
  } finally {
    await s.cleanup();
  }
}

function ok(r: RunResult, what: string): string {
  assertEquals(r.code, 0, `${what}: exit code (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  return r.stdout;
}

const sh = (script: string) => ["sh", "-c", script];

/** The line of /proc/<pid>/status (host side) or of a status text starting with `key:`. */
function statusField(text: string, key: string): string {
  const line = text.split("\n").find((l) => l.startsWith(`${key}:`));
  assert(line !== undefined, `no ${key} in status:\n${text}`);
  return line.slice(key.length + 1).trim();
}

Deno.test({
  name: "exec: runs in every namespace, the root and the cgroup of the init",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ exec, pid }) => {
      const out = ok(
        await exec([], [
          "sh",
          "-c",
          `for ns in ${NS.join(" ")}; do echo "$ns $(readlink /proc/self/ns/$ns)"; done; ` +
          "echo ---; hostname; echo ---; ls /; echo ---; cat /proc/self/cgroup; " +
          "echo ---; cat /proc/1/cgroup",
        ]),
        "exec",
      );
      const [ns, hostname, ls, cgSelf, cgInit] = out.split("---\n");
      const want = NS.map((n) => `${n} ${Deno.readLinkSync(`/proc/${pid}/ns/${n}`)}\n`).join("");
      assertEquals(ns, want, "namespaces of the exec'd process vs the init's");
      const host = NS.map((n) => `${n} ${Deno.readLinkSync(`/proc/self/ns/${n}`)}\n`).join("");
      assert(ns !== host, "the exec'd process is in the host's namespaces");
      assertEquals(hostname, `${HOSTNAME}\n`, "hostname");
      assert(ls.split("\n").includes(ROOTFS_MARKER), `ls / is not the rootfs: ${ls}`);
      assertEquals(cgSelf, cgInit, "/proc/self/cgroup vs the init's");
    });
  },
});

Deno.test({
  name: "exec: the container's env plus --env (a later value wins), --cwd",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ exec }) => {
      const env = ok(await exec(["--env", "EXTRA=1 2", "-e", "FOO=override"], ["env"]), "env");
      const lines = env.split("\n").filter((l) => l !== "");
      assert(lines.includes("FROM_SPEC=spec-value"), `spec env missing: ${env}`);
      assert(lines.includes("EXTRA=1 2"), `--env missing: ${env}`);
      assertEquals(ok(await exec([], ["pwd"]), "pwd"), "/\n", "default cwd");
      assertEquals(ok(await exec(["--cwd", "/tmp"], ["pwd"]), "pwd"), "/tmp\n", "--cwd");
      // As runc: one FOO, the --env value (not FOO=bar and FOO=override both).
      assertEquals(lines.filter((l) => l.startsWith("FOO=")), ["FOO=override"], "FOO");
    });
  },
});

Deno.test({
  name: "exec: --user uid:gid and --additional-gids",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ exec }) => {
      const st = ok(
        await exec(
          ["--user", "1000:1000", "--additional-gids", "10", "--additional-gids", "20"],
          ["cat", "/proc/self/status"],
        ),
        "exec --user",
      );
      assertEquals(statusField(st, "Uid").split(/\s+/), ["1000", "1000", "1000", "1000"]);
      assertEquals(statusField(st, "Gid").split(/\s+/), ["1000", "1000", "1000", "1000"]);
      assertEquals(statusField(st, "Groups").split(/\s+/), ["10", "20"], "supplementary groups");
      const base = ok(await exec([], ["cat", "/proc/self/status"]), "exec");
      assertEquals(statusField(base, "Uid").split(/\s+/)[0], "0", "default user");
    });
  },
});

Deno.test({
  name: "exec: --cap adds to CapEff, --no-new-privs sets NoNewPrivs",
  ...requireRoot(),
  fn: async () => {
    const CAP_NET_ADMIN = 12n;
    const has = (status: string, cap: bigint) =>
      ((BigInt(`0x${statusField(status, "CapEff")}`) >> cap) & 1n) === 1n;
    await withContainer({}, async ({ exec }) => {
      const base = ok(await exec([], ["cat", "/proc/self/status"]), "exec");
      assert(!has(base, CAP_NET_ADMIN), "CAP_NET_ADMIN without --cap");
      assertEquals(statusField(base, "NoNewPrivs"), "0", "NoNewPrivs without the flag");
      const st = ok(await exec(["--cap", "CAP_NET_ADMIN"], ["cat", "/proc/self/status"]), "cap");
      assert(has(st, CAP_NET_ADMIN), `CapEff ${statusField(st, "CapEff")} lacks CAP_NET_ADMIN`);
      assert(
        ((BigInt(`0x${statusField(st, "CapBnd")}`) >> CAP_NET_ADMIN) & 1n) === 1n,
        "CapBnd lacks CAP_NET_ADMIN",
      );
      // It is usable: bring lo down and up again in the container's network namespace.
      const flip = sh("ip link set lo down && ip link set lo up");
      ok(await exec(["--cap", "CAP_NET_ADMIN"], flip), "ip link set lo down/up with the cap");
      const denied = await exec([], flip);
      assert(denied.code !== 0, "ip link set lo down works without CAP_NET_ADMIN");
      const nnp = ok(await exec(["--no-new-privs"], ["cat", "/proc/self/status"]), "nnp");
      assertEquals(statusField(nnp, "NoNewPrivs"), "1", "NoNewPrivs with --no-new-privs");
    });
  },
});

Deno.test({
  name: "exec: exit status, signal death, stdin/stdout/stderr pass through",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ exec }) => {
      const seven = await exec([], sh("exit 7"));
      assertEquals(seven.code, 7, `exit 7 (stderr: ${seven.stderr})`);
      const killed = await exec([], sh("kill -KILL $$"));
      assertEquals(killed.code, 137, `killed by SIGKILL (stderr: ${killed.stderr})`);
      const cat = await exec([], ["cat"], { stdin: "hello\nworld\n" });
      assertEquals(cat.stdout, "hello\nworld\n", `stdin → stdout (stderr: ${cat.stderr})`);
      const err = await exec([], sh("echo to-err >&2; echo to-out"));
      assertEquals(err.stdout, "to-out\n");
      assertMatch(err.stderr, /^to-err$/m, "stderr");
    });
  },
});

Deno.test({
  name: "exec: -d --pid-file gives the host pid; the process runs, exits, is reaped",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ s, id, pid }) => {
      const pidFile = `${s.bundle.dir}/exec.pid`;
      const r = await s.rt(["exec", "-d", "--pid-file", pidFile, id, "sleep", "3"]);
      assertOk(r, "exec -d");
      const execPid = Number(await Deno.readTextFile(pidFile));
      assert(execPid > 0 && pidAlive(execPid), `pid-file ${execPid} is not a live process`);
      assertEquals(
        Deno.readTextFileSync(`/proc/${execPid}/cmdline`),
        "sleep\x003\x00",
        "the pid file names the exec'd process",
      );
      for (const n of NS) {
        assertEquals(
          Deno.readLinkSync(`/proc/${execPid}/ns/${n}`),
          Deno.readLinkSync(`/proc/${pid}/ns/${n}`),
          `${n} namespace of the detached process`,
        );
      }
      assertEquals(
        Deno.readTextFileSync(`/proc/${execPid}/cgroup`),
        Deno.readTextFileSync(`/proc/${pid}/cgroup`),
        "cgroups of the detached process vs the init's",
      );
      // Gone for good (not a zombie) once it exits.
      await waitUntil(() => {
        try {
          Deno.statSync(`/proc/${execPid}`);
          return false;
        } catch {
          return true;
        }
      }, `detached exec ${execPid} exited and was reaped`);
    });
  },
});

Deno.test({
  name: "exec: --process FILE and -p - (stdin) run the JSON process",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ s, exec }) => {
      const proc = {
        terminal: false,
        user: { uid: 1000, gid: 1000 },
        args: ["sh", "-c", 'echo "x=$X"; pwd; id -u; echo "spec=${FROM_SPEC:-unset}"'],
        env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "X=from-file"],
        cwd: "/tmp",
      };
      const want = "x=from-file\n/tmp\n1000\nspec=unset\n";
      const file = `${s.bundle.dir}/process.json`;
      await Deno.writeTextFile(file, JSON.stringify(proc));
      assertEquals(ok(await exec(["--process", file], []), "--process"), want);
      assertEquals(
        ok(await exec(["-p", "-"], [], { stdin: JSON.stringify(proc) }), "-p -"),
        want,
        "-p - reads the process from stdin",
      );
      const bad = await exec(["--process", `${s.bundle.dir}/missing.json`], []);
      assertFails(bad, /missing\.json/, "--process of a missing file");
    });
  },
});

Deno.test({
  name: "exec: -t gives a real pty (tty prints /dev/pts/N, input works)",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ s, id }) => {
      const session = await ttySession({
        dir: s.bundle.dir,
        runtsArgs: ["--root", s.root, "exec", "-t", id, "sh"],
        input: "tty; echo in=$((6*7)); exit 3\n",
      });
      assertEquals(session.runtsCode, "3", `runts exit status; output: ${session.output}`);
      assertMatch(session.output, /^\/dev\/pts\/\d+\r?$/m, "tty in the exec'd process");
      assertMatch(session.output, /^in=42\r?$/m, "typed input reached the shell");
      assertEquals(session.after, session.before, "terminal settings restored");
    });
  },
});

Deno.test({
  name: "exec: a stopped or unknown container is refused clearly (created is not)",
  ...requireRoot(),
  fn: async () => {
    await withContainer({ noStart: true }, async ({ s, id, exec }) => {
      // As runc 1.1: only stopped (and paused) containers are refused; created is fine.
      const created = await exec([], ["echo", "in-created"]);
      assertEquals(ok(created, "exec into a created container"), "in-created\n");
      assertOk(await s.rt(["start", id]), "start");
      assertOk(await s.rt(["kill", id, "KILL"]), "kill");
      await waitStatus(s.root, id, "stopped");
      const r = await exec([], ["echo", "ran"]);
      assertFails(r, /stopped/, "exec into a stopped container");
      assertEquals(r.stdout, "", "nothing ran");
      const unknown = await runts(["exec", uniqueId("nope"), "true"], { root: s.root });
      assertFails(unknown, /does not exist|not found|no such/i, "exec into an unknown id");
    });
  },
});

Deno.test({
  name: "exec: a paused container is refused unless --ignore-paused",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ s, id, exec }) => {
      assertOk(await s.rt(["pause", id]), "pause");
      await waitStatus(s.root, id, "paused");
      const r = await exec([], ["echo", "ran"]);
      assertFails(r, /paused/, "exec into a paused container");
      assertEquals(r.stdout, "", "nothing ran");
      // With --ignore-paused the process joins the frozen cgroup; it runs once resumed.
      const pending = exec(["--ignore-paused"], ["echo", "ran"]);
      await new Promise((res) => setTimeout(res, 1000));
      assertOk(await s.rt(["resume", id]), "resume");
      const done = await pending;
      assertEquals(done.code, 0, `exec --ignore-paused (stderr: ${done.stderr})`);
      assertEquals(done.stdout, "ran\n");
    });
  },
});

const USERNS = (spec: { linux: Record<string, unknown> }) => {
  (spec.linux.namespaces as { type: string }[]).push({ type: "user" });
  spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};

Deno.test({
  name: "exec: a user-namespace container: same uid_map and user namespace as the init",
  ...requireRoot(),
  fn: async () => {
    await withContainer({ edit: USERNS, runDetached: true }, async ({ exec, pid }) => {
      const out = ok(
        await exec(
          [],
          sh(
            "cat /proc/self/uid_map; echo ---; cat /proc/1/uid_map; echo ---; " +
              "readlink /proc/self/ns/user; cat /proc/self/status",
          ),
        ),
        "exec",
      );
      const [self, init, rest] = out.split("---\n");
      assertEquals(self, init, "uid_map of the exec'd process vs the init's");
      assertMatch(self, /^\s*0\s+100000\s+65536\s*$/, "uid_map");
      assertEquals(
        rest.split("\n")[0],
        Deno.readLinkSync(`/proc/${pid}/ns/user`),
        "user namespace of the exec'd process",
      );
      assertEquals(statusField(rest, "Uid").split(/\s+/)[0], "0", "root in the container");
    });
  },
});

Deno.test({
  name: "exec: into a user-namespace container made by create + start",
  ...requireRoot(),
  fn: async () => {
    await withContainer({ edit: USERNS }, async ({ exec, pid }) => {
      assert(pidAlive(pid), `the created init ${pid} died (before start)`);
      const out = ok(await exec([], ["cat", "/proc/self/uid_map"]), "exec");
      assertMatch(out, /^\s*0\s+100000\s+65536\s*$/, "uid_map");
    });
  },
});

Deno.test({
  name: "exec: /proc/<pid>/exe of an exec'd process is its program, never the runtime",
  ...requireRoot(),
  fn: async () => {
    const denoPath = Deno.execPath();
    const ALL_CAPS = [
      "CAP_CHOWN",
      "CAP_DAC_OVERRIDE",
      "CAP_DAC_READ_SEARCH",
      "CAP_FOWNER",
      "CAP_FSETID",
      "CAP_KILL",
      "CAP_SETGID",
      "CAP_SETUID",
      "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE",
      "CAP_NET_RAW",
      "CAP_SYS_CHROOT",
      "CAP_SYS_PTRACE",
      "CAP_SYS_ADMIN",
      "CAP_AUDIT_WRITE",
    ];
    // In a user namespace with (namespaced) CAP_SYS_PTRACE the container's root could read
    // /proc/<pid>/exe of a *dumpable* joining process; non-dumpable until execve, it can't.
    await withContainer({
      runDetached: true,
      edit: (spec) => {
        USERNS(spec);
        for (const set of ["bounding", "effective", "permitted"]) {
          spec.process.capabilities[set] = ALL_CAPS;
        }
      },
    }, async ({ s, id, exec }) => {
      const pidFile = `${s.bundle.dir}/exec.pid`;
      assertOk(await s.rt(["exec", "-d", "--pid-file", pidFile, id, "sleep", "30"]), "exec -d");
      const hostPid = Number(await Deno.readTextFile(pidFile));
      const hostExe = Deno.readLinkSync(`/proc/${hostPid}/exe`);
      // (The host sees the path within the container's pivoted root.)
      assert(
        hostExe.endsWith("/bin/busybox"),
        `exe of the exec'd sleep seen from the host: ${hostExe}`,
      );
      const nsPid = statusField(Deno.readTextFileSync(`/proc/${hostPid}/status`), "NSpid")
        .split(/\s+/).at(-1);
      assertEquals(
        ok(await exec([], ["readlink", `/proc/${nsPid}/exe`]), "readlink").trim(),
        "/bin/busybox",
        "exe of the exec'd sleep seen from inside",
      );
      // A watcher lists /proc/*/exe in a loop while more execs start and finish.
      const watcher = exec(
        [],
        sh("i=0; while [ $i -lt 300 ]; do ls -l /proc/[0-9]*/exe 2>/dev/null; i=$((i+1)); done"),
      );
      const others = await Promise.all(
        Array.from({ length: 8 }, () => exec([], ["true"])),
      );
      others.forEach((r, i) => ok(r, `exec #${i}`));
      const seen = ok(await watcher, "watcher");
      assert(seen.includes("/bin/busybox"), `the watcher saw no exe links: ${seen.slice(0, 500)}`);
      const leaks = seen.split("\n").filter((l) =>
        l.includes(denoPath) || /deno|runts/.test(l.split(" -> ")[1] ?? "")
      );
      assertEquals(leaks, [], "the runtime binary was visible in the container");
    });
  },
});

Deno.test({
  name: "exec: a missing command fails with 'executable file not found in $PATH'",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ exec }) => {
      const r = await exec([], ["no-such-command-xyz"]);
      assert(r.code !== 0, "exec of a missing command succeeded");
      assertMatch(
        lastLine(r.stderr),
        /no-such-command-xyz.*executable file not found in \$PATH/,
        "error",
      );
    });
  },
});

Deno.test({
  name: "exec: five concurrent execs all succeed with their own output",
  ...requireRoot(),
  fn: async () => {
    await withContainer({}, async ({ exec }) => {
      const rs = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => exec(["-e", `N=${n}`], sh('sleep 1; echo "n=$((N*N))"'))),
      );
      rs.forEach((r, i) => {
        assertEquals(r.code, 0, `exec #${i}: ${r.stderr}`);
        assertEquals(r.stdout, `n=${(i + 1) * (i + 1)}\n`, `exec #${i} output`);
      });
    });
  },
});
