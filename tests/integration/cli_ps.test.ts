/**
 * `runts ps`: the container's processes by host pid, from its cgroup — as JSON, or as
 * the host's `ps` table (default `-ef`) filtered on its PID column, like runc.
 */
import { requireRoot, runts, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import {
  assertFails,
  assertGone,
  assertOk,
  setup,
  stateOf,
  waitStatus,
  waitUntil,
} from "./lifecycle_helpers.ts";

Deno.test({
  name: "ps: json and table list exactly the container's processes",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({
      args: ["sh", "-c", "sleep 600 & sleep 601 & echo up > /shared/up; wait"],
    });
    const id = uniqueId("ps");
    s.ids.add(id);
    try {
      assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
      const init = Number((await stateOf(s.root, id)).pid);
      // Created: only the init, waiting for start.
      const created = await runts(["ps", "--format", "json", id], { root: s.root });
      assertOk(created, "ps --format json (created)");
      assertEquals(JSON.parse(created.stdout), [init]);

      assertOk(await s.rt(["start", id]), "start");
      let pids: number[] = [];
      await waitUntil(async () => {
        const r = await runts(["ps", "-f", "json", id], { root: s.root });
        assertOk(r, "ps -f json");
        assertMatch(r.stdout, /^\[[\d,]*\]\n$/);
        pids = JSON.parse(r.stdout);
        return pids.length === 3;
      }, `sh and its two sleeps are up (pids: ${pids})`);
      assert(pids.includes(init), `init ${init} not in ${pids}`);
      assertEquals(pids, [...pids].sort((a, b) => a - b), "sorted");
      for (const pid of pids) {
        const cg = await Deno.readTextFile(`/proc/${pid}/cgroup`);
        assertMatch(cg, new RegExp(`/runts/${id}$`, "m"));
      }

      // Table: `ps -ef`'s header, then one line per container process.
      const table = await runts(["ps", id], { root: s.root });
      assertOk(table, "ps");
      const [header, ...rows] = table.stdout.trimEnd().split("\n");
      assertEquals(header.trim().split(/\s+/), [
        "UID",
        "PID",
        "PPID",
        "C",
        "STIME",
        "TTY",
        "TIME",
        "CMD",
      ]);
      assertEquals(rows.map((l) => Number(l.trim().split(/\s+/)[1])).sort(), [...pids].sort());
      assert(
        rows.some((l) => l.endsWith("sleep 600")) && rows.some((l) => l.endsWith("sleep 601")),
      );

      // ps options after the id, with or without "--".
      for (const args of [[id, "-o", "pid,args"], [id, "--", "-o", "pid,args"]]) {
        const r = await runts(["ps", ...args], { root: s.root });
        assertOk(r, `ps ${args.join(" ")}`);
        const [h, ...lines] = r.stdout.trimEnd().split("\n");
        assertEquals(h.trim().split(/\s+/), ["PID", "COMMAND"]);
        assertEquals(lines.map((l) => Number(l.trim().split(/\s+/)[0])).sort(), [...pids].sort());
      }
      // Options without a PID column can't be filtered; bad options name ps' complaint.
      assertFails(
        await runts(["ps", id, "-o", "comm"], { root: s.root }),
        /^runts: couldn't find PID field in ps output$/,
        "ps -o comm",
      );
      assertFails(
        await runts(["ps", id, "--bogus"], { root: s.root }),
        /^runts: ps --bogus: /,
        "ps --bogus",
      );

      // Stopped: no processes; the table is the header alone.
      assertOk(await s.rt(["kill", id, "KILL"]), "kill");
      await waitStatus(s.root, id, "stopped");
      await waitUntil(async () => {
        const r = await runts(["ps", "-f", "json", id], { root: s.root });
        return r.stdout === "[]\n";
      }, "ps -f json of a stopped container is []");
      const empty = await runts(["ps", id], { root: s.root });
      assertOk(empty, "ps (stopped)");
      assertEquals(empty.stdout.trimEnd().split("\n").length, 1, empty.stdout);
      assertOk(await s.rt(["delete", id]), "delete");
      await assertGone(s.root, id, s.bundle.dir);
      assertFails(await runts(["ps", id], { root: s.root }), /does not exist/, "ps after delete");
    } finally {
      await s.cleanup();
    }
  },
});
