/**
 * Engines drive runts from many goroutines at once: parallel creates of different
 * containers, and state/kill/delete racing on one container, must be serialized by
 * the per-container lock — no crash, no corrupt state, one winner.
 */
import { requireRoot, runts, uniqueId } from "../helpers.ts";
import { assert, assertEquals } from "../unit/assert.ts";
import {
  assertGone,
  assertOk,
  lastLine,
  pidAlive,
  setup,
  stateOf,
  waitStatus,
} from "./lifecycle_helpers.ts";
import type { RunResult } from "../helpers.ts";

const SLEEPER = ["sleep", "600"];

/** A failure must be one clean `runts: ...` line naming a sane cause, never a crash. */
function assertSaneFailure(r: RunResult, allowed: RegExp, what: string): void {
  assertEquals(r.code, 1, `${what}: exit code (stderr: ${r.stderr})`);
  assert(!/Uncaught|panic|at .*\.ts:\d+/.test(r.stderr), `${what} crashed:\n${r.stderr}`);
  assert(allowed.test(lastLine(r.stderr)), `${what}: unexpected error ${lastLine(r.stderr)}`);
}

Deno.test({
  name: "concurrency: 10 containers created in parallel all succeed",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SLEEPER });
    try {
      const ids = Array.from({ length: 10 }, () => uniqueId("par"));
      ids.forEach((id) => s.ids.add(id));
      const results = await Promise.all(
        ids.map((id) => s.rt(["create", "--bundle", s.bundle.dir, id])),
      );
      results.forEach((r, i) => assertOk(r, `create ${ids[i]}`));
      const list = JSON.parse((await runts(["list", "-f", "json"], { root: s.root })).stdout);
      assertEquals(list.map((c: { id: string }) => c.id).sort(), [...ids].sort());
      const pids = new Set<number>();
      for (const c of list) {
        assertEquals(c.status, "created", `status of ${c.id}`);
        assert(pidAlive(c.pid), `${c.id}: pid ${c.pid} not alive`);
        pids.add(c.pid);
      }
      assertEquals(pids.size, 10, "distinct init pids");
      const deleted = await Promise.all(ids.map((id) => s.rt(["delete", "--force", id])));
      deleted.forEach((r, i) => assertOk(r, `delete --force ${ids[i]}`));
      for (const id of ids) await assertGone(s.root, id, s.bundle.dir);
      assertEquals((await runts(["list", "-q"], { root: s.root })).stdout, "");
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "concurrency: state, kill and delete racing on one container are serialized",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SLEEPER });
    try {
      for (let round = 0; round < 3; round++) {
        const id = uniqueId("race");
        s.ids.add(id);
        assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
        assertOk(await s.rt(["start", id]), "start");
        const pid = Number((await stateOf(s.root, id)).pid);
        // Round 1: kill first then race deletes; rounds 2-3: everything at once.
        if (round === 0) {
          assertOk(await s.rt(["kill", id, "KILL"]), "kill");
          await waitStatus(s.root, id, "stopped");
        }
        const cmds = round === 0
          ? [...Array(8).fill(["delete", id]), ["state", id], ["state", id]]
          : [
            ["state", id],
            ["kill", id, "KILL"],
            ["delete", "--force", id],
            ["state", id],
            [
              "kill",
              id,
              "9",
            ],
            ["delete", "--force", id],
            ["state", id],
          ];
        const results = await Promise.all(cmds.map((args) => s.rt(args)));
        let deletesOk = 0;
        results.forEach((r, i) => {
          const what = `${cmds[i].join(" ")} (round ${round})`;
          const [cmd] = cmds[i];
          if (r.code === 0) {
            if (cmd === "delete") deletesOk++;
            if (cmd === "state") {
              const st = JSON.parse(r.stdout); // never a torn state.json
              assertEquals(st.id, id);
              assert(["running", "stopped"].includes(st.status), `${what}: ${st.status}`);
            }
            return;
          }
          assertSaneFailure(r, /does not exist|is not running/, what);
        });
        if (round === 0) assertEquals(deletesOk, 1, "exactly one plain delete succeeds");
        else assert(deletesOk >= 1, "no delete --force succeeded");
        assert(!pidAlive(pid), "the init survived");
        assertSaneFailure(await runts(["state", id], { root: s.root }), /does not exist/, "state");
        await assertGone(s.root, id, s.bundle.dir);
        // Nothing but the containers' own directories may be left under --root.
        const left = [...Deno.readDirSync(s.root)].map((e) => e.name);
        assertEquals(left, [], `left under --root`);
      }
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "concurrency: two creates with the same id: exactly one succeeds",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: SLEEPER });
    try {
      for (let round = 0; round < 3; round++) {
        const id = uniqueId("dup");
        s.ids.add(id);
        const results = await Promise.all([
          s.rt(["create", "--bundle", s.bundle.dir, id]),
          s.rt(["create", "--bundle", s.bundle.dir, id]),
        ]);
        const ok = results.filter((r) => r.code === 0);
        assertEquals(ok.length, 1, results.map((r) => r.stderr).join("\n"));
        const failed = results.find((r) => r.code !== 0)!;
        assertSaneFailure(failed, new RegExp(`container with id "${id}" already exists`), "create");
        const st = await stateOf(s.root, id);
        assertEquals(st.status, "created");
        assert(pidAlive(Number(st.pid)), "the winner's init is not alive");
        // The loser must not have touched the winner's cgroup.
        const procs = (await runts(["ps", "-f", "json", id], { root: s.root })).stdout;
        assertEquals(JSON.parse(procs), [st.pid]);
        assertOk(await s.rt(["delete", "--force", id]), "delete --force");
        await assertGone(s.root, id, s.bundle.dir);
      }
    } finally {
      await s.cleanup();
    }
  },
});
