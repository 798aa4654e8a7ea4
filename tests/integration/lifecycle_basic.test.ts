/**
 * The OCI lifecycle through the CLI, as an engine drives it: create → state/list →
 * start → kill → delete, and the failures an engine must be able to rely on.
 */
import { requireRoot, runts, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import {
  assertFails,
  assertGone,
  assertOk,
  pidAlive,
  setup,
  stateOf,
  waitStatus,
  waitUntil,
} from "./lifecycle_helpers.ts";

/** Writes "ran" to /shared/out, then waits; exits 0 on SIGTERM (a pid 1 needs a trap). */
const SERVICE = [
  "sh",
  "-c",
  "trap 'echo term > /shared/term; exit 0' TERM; echo ran > /shared/out; " +
  "sleep 600 & wait",
];

function readOr(path: string, otherwise = ""): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return otherwise;
  }
}

Deno.test({
  name: "lifecycle: create → created, start → running, kill KILL → stopped, delete → gone",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SERVICE });
    const id = uniqueId("life");
    s.ids.add(id);
    try {
      const pidFile = `${s.bundle.dir}/init.pid`;
      const c = await s.rt(["create", "--bundle", s.bundle.dir, "--pid-file", pidFile, id]);
      assertOk(c, "create");
      assertEquals(c.stdout, "", "create prints nothing");

      // created: the init exists, waits, and has not run the program yet.
      const pid = Number(await Deno.readTextFile(pidFile));
      assert(pid > 0 && pidAlive(pid), `pid-file ${pid} is not a live process`);
      const st = await stateOf(s.root, id);
      assertEquals(st.status, "created");
      assertEquals(st.id, id);
      assertEquals(st.pid, pid, "state pid is the pid-file's");
      assertEquals(st.bundle, await Deno.realPath(s.bundle.dir));
      assertEquals(st.ociVersion, "1.3.0");
      assertMatch(String(st.created), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
      assertEquals(st.owner, "root");
      assertEquals(readOr(`${s.shared}/out`), "", "the program ran before start");
      assertMatch(await Deno.readTextFile(`/proc/${pid}/cgroup`), new RegExp(`/runts/${id}$`, "m"));

      const table = await runts(["list"], { root: s.root });
      assertOk(table, "list");
      const [header, ...rows] = table.stdout.trimEnd().split("\n");
      assertEquals(header.split(/\s+/), ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]);
      assertEquals(rows.length, 1, table.stdout);
      assertEquals(rows[0].split(/\s+/).slice(0, 3), [id, String(pid), "created"]);
      const quiet = await runts(["list", "-q"], { root: s.root });
      assertEquals(quiet.stdout, `${id}\n`);
      const json = await runts(["list", "--format", "json"], { root: s.root });
      assertOk(json, "list --format json");
      assertEquals(JSON.parse(json.stdout), [st]);

      // start: the program runs.
      const started = await s.rt(["start", id]);
      assertOk(started, "start");
      await waitUntil(() => readOr(`${s.shared}/out`) === "ran\n", "the program wrote /shared/out");
      const running = await stateOf(s.root, id);
      assertEquals(running.status, "running");
      assertEquals(running.pid, pid);
      const listed = await runts(["list", "--format", "json"], { root: s.root });
      assertEquals(JSON.parse(listed.stdout)[0].status, "running");

      // kill KILL: stopped, pid 0, the init gone.
      assertOk(await s.rt(["kill", id, "KILL"]), "kill KILL");
      const stopped = await waitStatus(s.root, id, "stopped");
      assertEquals(stopped.pid, 0);
      assert(!pidAlive(pid), "init still alive after stopped");
      const stoppedRow = (await runts(["list"], { root: s.root })).stdout.split("\n")[1];
      assertEquals(stoppedRow.split(/\s+/).slice(0, 3), [id, "0", "stopped"]);

      // delete: gone from state, list, cgroups, mounts.
      assertOk(await s.rt(["delete", id]), "delete");
      assertFails(
        await runts(["state", id], { root: s.root }),
        /does not exist/,
        "state after delete",
      );
      assertEquals((await runts(["list", "-q"], { root: s.root })).stdout, "");
      assertEquals(
        (await runts(["list", "--format", "json"], { root: s.root })).stdout.trim(),
        "[]",
      );
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "lifecycle: kill takes SIGKILL, 9, and defaults to SIGTERM (the init's trap runs)",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SERVICE });
    try {
      for (const signal of ["SIGKILL", "9", "kill", undefined]) {
        const id = uniqueId("sig");
        s.ids.add(id);
        await Deno.remove(`${s.shared}/out`).catch(() => {});
        await Deno.remove(`${s.shared}/term`).catch(() => {});
        assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
        assertOk(await s.rt(["start", id]), "start");
        await waitUntil(() => readOr(`${s.shared}/out`) === "ran\n", "the program ran");
        const r = await s.rt(signal === undefined ? ["kill", id] : ["kill", id, signal]);
        assertOk(r, `kill ${signal ?? "(default)"}`);
        await waitStatus(s.root, id, "stopped");
        // Only SIGTERM reaches the trap: SIGKILL can't be caught.
        assertEquals(
          readOr(`${s.shared}/term`),
          signal === undefined ? "term\n" : "",
          `trap output after kill ${signal ?? "(default)"}`,
        );
        assertOk(await s.rt(["delete", id]), "delete");
        await assertGone(s.root, id, s.bundle.dir);
      }
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "lifecycle: state, kill, start, delete, ps of an unknown id fail naming it",
  ...requireRoot(),
  fn: async () => {
    const s = await setup();
    try {
      const id = uniqueId("nope");
      for (
        const args of [
          ["state", id],
          ["kill", id],
          ["kill", id, "KILL"],
          ["start", id],
          ["delete", id],
          ["ps", id],
        ]
      ) {
        const r = await runts(args, { root: s.root });
        assertFails(r, new RegExp(`^runts: container "${id}" does not exist$`), args.join(" "));
        assertEquals(r.stdout, "", `${args.join(" ")}: stdout`);
      }
      // delete --force of nothing is not an error (runc: "idempotent" for engines).
      const forced = await runts(["delete", "--force", id], { root: s.root });
      assertOk(forced, "delete --force of an unknown id");
      const bad = await runts(["state", "../etc"], { root: s.root });
      assertFails(bad, /invalid container id/, "state ../etc");
      const badSignal = await runts(["kill", id, "NOPE"], { root: s.root });
      assertFails(badSignal, /unknown signal "NOPE"/, "kill with a bad signal");
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "lifecycle: start twice fails and the container keeps running",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SERVICE });
    const id = uniqueId("twice");
    s.ids.add(id);
    try {
      assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
      assertOk(await s.rt(["start", id]), "first start");
      const again = await s.rt(["start", id]);
      assertFails(again, /cannot start container.*running/, "second start");
      const st = await stateOf(s.root, id);
      assertEquals(st.status, "running");
      assert(pidAlive(Number(st.pid)), "init died");
      assertOk(await s.rt(["delete", "--force", id]), "delete --force");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "lifecycle: delete of a running container needs --force; --force kills it",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SERVICE });
    const id = uniqueId("force");
    s.ids.add(id);
    try {
      assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
      assertOk(await s.rt(["start", id]), "start");
      const pid = Number((await stateOf(s.root, id)).pid);
      const r = await s.rt(["delete", id]);
      assertFails(r, /cannot delete container .* that is not stopped: running/, "delete");
      const st = await stateOf(s.root, id);
      assertEquals(st.status, "running");
      assert(pidAlive(pid), "delete without --force killed the init");
      assertOk(await s.rt(["delete", "--force", id]), "delete --force");
      assert(!pidAlive(pid), "delete --force left the init alive");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

for (const how of ["kill then delete", "delete", "delete --force"] as const) {
  Deno.test({
    name: `lifecycle: a created, never started container: ${how} leaves nothing`,
    ...requireRoot(),
    fn: async () => {
      const s = await setup({ args: SERVICE });
      const id = uniqueId("created");
      s.ids.add(id);
      try {
        assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
        const pid = Number((await stateOf(s.root, id)).pid);
        assert(pidAlive(pid), "no init after create");
        if (how === "kill then delete") {
          assertOk(await s.rt(["kill", id, "KILL"]), "kill");
          await waitStatus(s.root, id, "stopped");
          assertOk(await s.rt(["delete", id]), "delete");
        } else {
          assertOk(await s.rt(how.split(" ").concat(id)), how);
        }
        assert(!pidAlive(pid), "init still alive");
        assertEquals(readOr(`${s.shared}/out`), "", "the program ran");
        await assertGone(s.root, id, s.bundle.dir);
      } finally {
        await s.cleanup();
      }
    },
  });
}

Deno.test({
  name: "lifecycle: run -d leaves no runts process behind, only the container's",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SERVICE });
    const id = uniqueId("detach");
    s.ids.add(id);
    try {
      const pidFile = `${s.bundle.dir}/init.pid`;
      const r = await s.rt(["run", "-d", "--pid-file", pidFile, "--bundle", s.bundle.dir, id]);
      assertOk(r, "run -d");
      const init = Number(await Deno.readTextFile(pidFile));
      await waitUntil(() => readOr(`${s.shared}/out`) === "ran\n", "the program ran");
      assert(!pidAlive(r.pid), `runts (pid ${r.pid}) is still alive`);
      // No process of the host mentions the test's --root: no runts, no helper.
      const ps = await new Deno.Command("ps", { args: ["-eo", "pid,ppid,args"] }).output();
      const lines = new TextDecoder().decode(ps.stdout).split("\n");
      assertEquals(lines.filter((l) => l.includes(s.root)), [], "processes naming the --root");
      // The init's parent is not a runts process.
      const ppid = Number(
        (await Deno.readTextFile(`/proc/${init}/stat`)).split(") ")[1].split(" ")[1],
      );
      const parent = lines.find((l) => l.trim().split(/\s+/)[0] === String(ppid)) ?? "";
      assert(!/runts|main\.ts/.test(parent), `the init's parent is runts: ${parent}`);
      // The container's cgroup holds exactly its processes: sh and its sleep.
      const pids = JSON.parse((await runts(["ps", "-f", "json", id], { root: s.root })).stdout);
      assert(pids.includes(init), `init ${init} not in ${pids}`);
      assertEquals(pids.length, 2, `container processes ${pids}`);
      assertOk(await s.rt(["delete", "--force", id]), "delete --force");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "lifecycle: create with process.terminal and no --console-socket fails clearly",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ edit: (spec) => (spec.process.terminal = true) });
    const id = uniqueId("tty");
    s.ids.add(id);
    try {
      const r = await s.rt(["create", "--bundle", s.bundle.dir, id]);
      assertFails(r, /--console-socket/, "create");
      await assertGone(s.root, id, s.bundle.dir);
      assertFails(await runts(["state", id], { root: s.root }), /does not exist/, "state");
    } finally {
      await s.cleanup();
    }
  },
});
