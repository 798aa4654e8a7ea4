/**
 * OCI hooks end to end (config.md "POSIX-platform Hooks", runtime.md lifecycle): every
 * phase runs once, in order, with the state on stdin and exactly its configured args and
 * env; prestart/createRuntime/poststart/poststop in the runtime's namespaces,
 * createContainer/startContainer in the container's; failures and timeouts destroy the
 * container, poststop failures only warn. Each test has its own --root, id and bundle
 * and checks that nothing of the container (state dir, cgroups, mounts, processes) is left.
 */
import { requireRoot, runts, tempDir, uniqueId } from "../helpers.ts";
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
} from "./lifecycle_helpers.ts";

type Phase =
  | "prestart"
  | "createRuntime"
  | "createContainer"
  | "startContainer"
  | "poststart"
  | "poststop";

const PHASES: Phase[] = [
  "prestart",
  "createRuntime",
  "createContainer",
  "startContainer",
  "poststart",
  "poststop",
];

const NS = ["mnt", "net", "uts", "ipc", "pid"];

/**
 * The recording hook (host side and, as /runts-start-hook, inside the rootfs):
 * $1 phase, $2 output dir, $3 exit status; appends the phase to `order` and records its
 * stdin, environ, args, namespaces, the namespaces of the state's pid, `ls /`, hostname.
 * `/proc/self` in a redirection is the forked shell, whose environ is the hook's own.
 */
const RECORDER = `#!/bin/sh
phase="$1"; out="$2"; code="$3"
echo "$phase" >> "$out/order"
cat > "$out/$phase.stdin"
tr '\\000' '\\n' < /proc/self/environ > "$out/$phase.env"
printf '%s\\n' "$@" > "$out/$phase.args"
for ns in ${NS.join(" ")}; do echo "$ns $(readlink /proc/self/ns/$ns)"; done > "$out/$phase.ns"
pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' "$out/$phase.stdin")
for ns in ${NS.join(" ")}; do
  echo "$ns $(readlink /proc/$pid/ns/$ns 2>/dev/null)"
done > "$out/$phase.ctrns"
ls / > "$out/$phase.ls"
hostname > "$out/$phase.hostname"
if [ "$code" != 0 ]; then echo "boom-$phase" >&2; exit "$code"; fi
exit 0
`;

/** Records the argv (argv[0] included) of bash run directly as a hook: $$ is bash itself. */
const ARGV0_SCRIPT = 'tr "\\000" "\\n" < /proc/$$/cmdline > "$0"; true';

/** Path of the startContainer hook inside the rootfs (exists only there). */
const START_HOOK = "/runts-start-hook";
const ROOTFS_MARKER = "runts-rootfs-marker";
const HOSTNAME = "hookbox";

function envOf(phase: string): string[] {
  return [
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    `HOOK_PHASE=${phase}`,
    "SPACED=a  b c",
    "EMPTY=",
  ];
}

interface HookTest {
  s: Setup;
  id: string;
  /** Host directory the hooks write to (= /shared in the container). */
  out: string;
  /** Host path of the recording hook. */
  recorder: string;
  read(file: string): string;
  order(): string[];
  state(phase: Phase): Record<string, unknown>;
  ns(file: string): Record<string, string>;
}

interface HookTestOptions {
  args: string[];
  /** Phase whose (first) hook exits 3. */
  fail?: Phase;
  /** Adds or replaces hooks after the recording ones are configured. */
  // deno-lint-ignore no-explicit-any
  edit?: (hooks: any, t: { recorder: string; out: string; dir: string }) => void;
}

function readOr(path: string, otherwise = ""): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return otherwise;
  }
}

async function hookTest(o: HookTestOptions): Promise<HookTest> {
  const dir = await tempDir("hooks");
  const recorder = `${dir}/recorder`;
  await Deno.writeTextFile(recorder, RECORDER, { mode: 0o755 });
  let out = "";
  const s = await setup({
    args: o.args,
    edit: (spec) => {
      spec.hostname = HOSTNAME;
      out = spec.mounts.find((m: { destination: string }) => m.destination === "/shared").source;
      // deno-lint-ignore no-explicit-any
      const hooks: any = {};
      for (const phase of PHASES) {
        const inside = phase === "startContainer";
        hooks[phase] = [{
          path: inside ? START_HOOK : recorder,
          args: ["recorder", phase, inside ? "/shared" : out, o.fail === phase ? "3" : "0", "x  y"],
          env: envOf(phase),
        }];
      }
      o.edit?.(hooks, { recorder, out, dir });
      spec.hooks = hooks;
    },
  });
  const rootfs = `${s.bundle.dir}/rootfs`;
  await Deno.writeTextFile(`${rootfs}${START_HOOK}`, RECORDER, { mode: 0o755 });
  await Deno.writeTextFile(`${rootfs}/${ROOTFS_MARKER}`, "");
  const id = uniqueId("hook");
  s.ids.add(id);
  const cleanup = s.cleanup;
  s.cleanup = async () => {
    await cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const read = (file: string) => readOr(`${out}/${file}`);
  return {
    s,
    id,
    out,
    recorder,
    read,
    order: () => read("order").split("\n").filter((l) => l !== ""),
    state: (phase) => {
      const text = read(`${phase}.stdin`);
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${phase} hook's stdin is not the state JSON: ${JSON.stringify(text)}`);
      }
    },
    ns: (file) =>
      Object.fromEntries(
        read(file).split("\n").filter((l) => l !== "").map((l) => {
          const [k, v = ""] = l.split(" ");
          return [k, v];
        }),
      ),
  };
}

/** Namespaces of a host pid (the test process by default). */
function nsOfPid(pid: number | "self" = "self"): Record<string, string> {
  return Object.fromEntries(NS.map((n) => [n, Deno.readLinkSync(`/proc/${pid}/ns/${n}`)]));
}

const SLEEPER = ["sleep", "600"];

/** Checks what each hook of `phases` received, beyond the namespaces. */
function checkHookInputs(t: HookTest, phases: Phase[], bundle: string, pid: number): void {
  for (const phase of phases) {
    const st = t.state(phase);
    const status = phase === "poststop"
      ? "stopped"
      : phase === "poststart"
      ? "running"
      : phase === "startContainer"
      ? "created"
      : "creating";
    assertEquals(st.status, status, `${phase}: status in the state on stdin`);
    assertEquals(st.id, t.id, `${phase}: id`);
    assertEquals(st.bundle, bundle, `${phase}: bundle`);
    assertEquals(st.ociVersion, "1.3.0", `${phase}: ociVersion`);
    if (phase !== "poststop") assertEquals(st.pid, pid, `${phase}: pid`);
    else assertEquals(typeof st.pid, "number", "poststop: pid");
    const outArg = phase === "startContainer" ? "/shared" : t.out;
    assertEquals(
      t.read(`${phase}.args`),
      `${phase}\n${outArg}\n0\nx  y\n`,
      `${phase}: args after argv[0]`,
    );
    const env = t.read(`${phase}.env`).split("\n").filter((l) => l !== "").sort();
    assertEquals(env, envOf(phase).sort(), `${phase}: environment (exactly the configured one)`);
  }
}

/** Runtime-namespace hooks saw the host's namespaces, container ones the container's. */
function checkNamespaces(t: HookTest, phases: Phase[], ctr: Record<string, string>): void {
  const host = nsOfPid();
  assert(ctr.mnt !== host.mnt, `container mnt ns ${ctr.mnt} is the host's`);
  for (const phase of phases) {
    const inside = phase === "createContainer" || phase === "startContainer";
    assertEquals(
      t.ns(`${phase}.ns`),
      inside ? ctr : host,
      `${phase} hook's namespaces (expected the ${inside ? "container's" : "host's"})`,
    );
  }
  // The pid on createContainer's stdin is the container's init (seen from the host /proc
  // it still has before pivot_root).
  assertEquals(t.ns("createContainer.ctrns"), ctr, "namespaces of the pid on stdin");
  assertEquals(t.ns("createRuntime.ctrns"), ctr, "namespaces of the pid on stdin");
  // startContainer resolves in the container: its / is the rootfs, hostname the container's.
  const ls = t.read("startContainer.ls").split("\n");
  assert(ls.includes(ROOTFS_MARKER), `startContainer's / is not the rootfs: ${ls.join(" ")}`);
  assert(
    !t.read("createRuntime.ls").split("\n").includes(ROOTFS_MARKER),
    "createRuntime's / is the rootfs",
  );
  assertEquals(t.read("startContainer.hostname").trim(), HOSTNAME, "startContainer hostname");
  assertEquals(
    t.read("poststart.hostname").trim(),
    Deno.hostname(),
    "poststart runs with the host's hostname",
  );
}

Deno.test({
  name: "hooks: create + start + delete run every phase once, in order, as configured",
  ...requireRoot(),
  fn: async () => {
    const t = await hookTest({ args: SLEEPER });
    const { s, id } = t;
    try {
      const bundle = await Deno.realPath(s.bundle.dir);
      const pidFile = `${s.bundle.dir}/init.pid`;
      const c = await s.rt(["create", "--bundle", s.bundle.dir, "--pid-file", pidFile, id]);
      assertOk(c, "create");
      assertEquals(t.order(), ["prestart", "createRuntime", "createContainer"], "after create");
      const pid = Number(await Deno.readTextFile(pidFile));
      const ctr = nsOfPid(pid);

      assertOk(await s.rt(["start", id]), "start");
      assertEquals(
        t.order(),
        ["prestart", "createRuntime", "createContainer", "startContainer", "poststart"],
        "after start",
      );

      assertOk(await s.rt(["kill", id, "KILL"]), "kill");
      await waitStatus(s.root, id, "stopped");
      assertEquals(t.order().length, 5, "poststop ran before delete");
      assertOk(await s.rt(["delete", id]), "delete");
      assertEquals(t.order(), PHASES, "every phase exactly once, in order");
      checkHookInputs(t, PHASES, bundle, pid);
      checkNamespaces(t, PHASES, ctr);
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "hooks: run runs every phase once, in order, without runts' environment",
  ...requireRoot(),
  fn: async () => {
    const t = await hookTest({
      args: [
        "sh",
        "-c",
        `for ns in ${NS.join(" ")}; do echo "$ns $(readlink /proc/self/ns/$ns)"; done ` +
        "> /shared/ctr.ns",
      ],
    });
    const { s, id } = t;
    try {
      const bundle = await Deno.realPath(s.bundle.dir);
      const r = await runts(["run", "--bundle", s.bundle.dir, id], {
        root: s.root,
        env: { RUNTS_HOOK_LEAK: "leaked" },
      });
      assertEquals(r.code, 0, `run: ${r.stderr}`);
      assertEquals(t.order(), PHASES, "every phase exactly once, in order");
      const pid = Number(t.state("prestart").pid);
      assert(pid > 0, `prestart pid ${pid}`);
      checkHookInputs(t, PHASES, bundle, pid);
      checkNamespaces(t, PHASES, t.ns("ctr.ns"));
      assert(!t.read("prestart.env").includes("RUNTS_HOOK_LEAK"), "runts' env leaked");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "hooks: a hook's argv is exactly its args, argv[0] included (execv semantics)",
  ...requireRoot(),
  fn: async () => {
    const t = await hookTest({
      args: SLEEPER,
      edit: (hooks, { out }) => {
        // A second prestart hook, a binary: argv[0] must be args[0], not the path.
        hooks.prestart.push({
          path: "/bin/bash",
          args: ["argv0-is-mine", "-c", ARGV0_SCRIPT, `${out}/argv0`, "z"],
        });
      },
    });
    const { s, id } = t;
    try {
      assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
      assertEquals(t.order(), ["prestart", "createRuntime", "createContainer"], "after create");
      assertEquals(
        t.read("argv0"),
        `argv0-is-mine\n-c\n${ARGV0_SCRIPT}\n${t.out}/argv0\nz\n`,
        "argv of the hook",
      );
      assertOk(await s.rt(["delete", "--force", id]), "delete --force");
      assertEquals(t.order().at(-1), "poststop", "delete --force runs poststop");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

for (const phase of ["prestart", "createRuntime", "createContainer"] as const) {
  for (const mode of ["create", "run"] as const) {
    Deno.test({
      name: `hooks: a failing ${phase} hook fails ${mode}, runs poststop, leaves nothing`,
      ...requireRoot(),
      fn: async () => {
        const t = await hookTest({ args: SLEEPER, fail: phase });
        const { s, id } = t;
        try {
          const r = mode === "create"
            ? await s.rt(["create", "--bundle", s.bundle.dir, id])
            : await s.rt(["run", "--bundle", s.bundle.dir, id]);
          assertFails(r, new RegExp(`${phase} hook #0 .*failed: exit status 3`), mode);
          assertMatch(lastLine(r.stderr), new RegExp(`boom-${phase}`), "hook's stderr is shown");
          const upTo = PHASES.slice(0, PHASES.indexOf(phase) + 1);
          assertEquals(t.order(), [...upTo, "poststop"], "hooks run");
          assertEquals(t.state("poststop").status, "stopped", "poststop state");
          await assertGone(s.root, id, s.bundle.dir);
        } finally {
          await s.cleanup();
        }
      },
    });
  }
}

for (const phase of ["startContainer", "poststart"] as const) {
  Deno.test({
    name: `hooks: a failing ${phase} hook fails start and destroys the container`,
    ...requireRoot(),
    fn: async () => {
      const t = await hookTest({ args: SLEEPER, fail: phase });
      const { s, id } = t;
      try {
        const pidFile = `${s.bundle.dir}/init.pid`;
        assertOk(await s.rt(["create", "--bundle", s.bundle.dir, "--pid-file", pidFile, id]), "c");
        const pid = Number(await Deno.readTextFile(pidFile));
        const r = await s.rt(["start", id]);
        assertFails(r, new RegExp(`${phase} hook #0 .*failed: exit status 3`), "start");
        const upTo = PHASES.slice(0, PHASES.indexOf(phase) + 1);
        assertEquals(t.order(), [...upTo, "poststop"], "hooks run");
        assert(!pidAlive(pid), `init ${pid} still alive after a failed ${phase}`);
        await assertGone(s.root, id, s.bundle.dir);
        const st = await runts(["state", id], { root: s.root });
        assert(st.code !== 0, "state of a destroyed container succeeds");
      } finally {
        await s.cleanup();
      }
    },
  });

  Deno.test({
    name: `hooks: a failing ${phase} hook fails run and destroys the container`,
    ...requireRoot(),
    fn: async () => {
      const t = await hookTest({ args: SLEEPER, fail: phase });
      const { s, id } = t;
      try {
        const r = await s.rt(["run", "--bundle", s.bundle.dir, id]);
        assertFails(r, new RegExp(`${phase} hook #0 .*failed: exit status 3`), "run");
        const upTo = PHASES.slice(0, PHASES.indexOf(phase) + 1);
        assertEquals(t.order(), [...upTo, "poststop"], "hooks run");
        await assertGone(s.root, id, s.bundle.dir);
      } finally {
        await s.cleanup();
      }
    },
  });
}

Deno.test({
  name: "hooks: a failing poststop hook only warns (delete and run succeed)",
  ...requireRoot(),
  fn: async () => {
    const t = await hookTest({ args: SLEEPER, fail: "poststop" });
    const { s, id } = t;
    try {
      assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
      assertOk(await s.rt(["start", id]), "start");
      assertOk(await s.rt(["kill", id, "KILL"]), "kill");
      await waitStatus(s.root, id, "stopped");
      const d = await s.rt(["delete", id]);
      assertOk(d, "delete");
      assertMatch(d.stderr, /warning: .*poststop hook #0 .*exit status 3/, "delete's warning");
      assertEquals(t.order(), PHASES, "every phase ran");
      await assertGone(s.root, id, s.bundle.dir);

      // run: the container's exit status, and the warning.
      const id2 = uniqueId("hook");
      s.ids.add(id2);
      await Deno.remove(`${t.out}/order`);
      const args = ["sh", "-c", "exit 5"];
      const cfg = JSON.parse(await Deno.readTextFile(s.bundle.config));
      cfg.process.args = args;
      await Deno.writeTextFile(s.bundle.config, JSON.stringify(cfg));
      const r = await s.rt(["run", "--bundle", s.bundle.dir, id2]);
      assertEquals(r.code, 5, `run exit status (stderr: ${r.stderr})`);
      assertMatch(r.stderr, /warning: .*poststop hook #0 .*exit status 3/, "run's warning");
      assertEquals(t.order(), PHASES, "every phase ran (run)");
      await assertGone(s.root, id2, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "hooks: a hook over its timeout is killed, create fails 'timed out' quickly",
  ...requireRoot(),
  fn: async () => {
    const t = await hookTest({
      args: SLEEPER,
      edit: (hooks, { dir, out }) => {
        // A shell that forks its sleep (as real hooks do): the grandchild holds the pipes.
        const slow = `${dir}/slow-hook`;
        Deno.writeTextFileSync(
          slow,
          `#!/bin/sh\nsleep 30 &\necho $! > "${out}/sleep.pid"\nwait\n`,
          { mode: 0o755 },
        );
        hooks.createRuntime = [{ path: slow, timeout: 1 }];
      },
    });
    const { s, id } = t;
    let sleepPid = 0;
    try {
      const t0 = Date.now();
      const r = await s.rt(["create", "--bundle", s.bundle.dir, id], { timeoutMs: 60_000 });
      const took = (Date.now() - t0) / 1000;
      sleepPid = Number(t.read("sleep.pid").trim());
      assertFails(r, /createRuntime hook #0 .*timed out/, "create");
      assert(took < 15, `create took ${took.toFixed(1)} s with a 1 s hook timeout`);
      assertEquals(t.order(), ["prestart", "poststop"], "hooks run");
      await assertGone(s.root, id, s.bundle.dir);
      assert(
        !(sleepPid > 0 && pidAlive(sleepPid)),
        `the timed-out hook's child ${sleepPid} is still running`,
      );
    } finally {
      if (sleepPid > 0 && pidAlive(sleepPid)) {
        try {
          Deno.kill(sleepPid, "SIGKILL");
        } catch { /* gone */ }
      }
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "hooks: a hook path that does not exist fails create clearly",
  ...requireRoot(),
  fn: async () => {
    const missing = `/nonexistent-${uniqueId("hook")}/hook`;
    const t = await hookTest({
      args: SLEEPER,
      edit: (hooks) => {
        hooks.createRuntime = [{ path: missing, args: ["hook"] }];
      },
    });
    const { s, id } = t;
    try {
      const r = await s.rt(["create", "--bundle", s.bundle.dir, id]);
      assertEquals(r.code, 1, `create exit code (stderr: ${r.stderr})`);
      const line = lastLine(r.stderr);
      assert(line.includes(missing), `error does not name the path: ${line}`);
      assertMatch(line, /createRuntime|hooks/, "error names the hook");
      assertMatch(line, /not found|No such file|does not exist|ENOENT/i, "error says why");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});
