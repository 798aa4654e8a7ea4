/**
 * The foreground runts process and the container init: signals sent to runts reach the
 * init; `run -d --pid-file` leaves a running container whose init pid is in the file.
 */
import { makeBundle, requireRoot, runtsPath, tempRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { assertNothingLeft, cgroupDirsOf, runDetached } from "./run_helpers.ts";

/** Reads `stream` until `marker` appears (or the stream ends); returns what was read. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  marker: string,
): Promise<string> {
  const dec = new TextDecoder();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  return text;
}

for (const [signal, code] of [["SIGTERM", 42], ["SIGHUP", 43], ["SIGUSR1", 44]] as const) {
  Deno.test({
    name: `run: ${signal} sent to runts reaches the container init`,
    ...requireRoot(),
    fn: async () => {
      const name = signal.slice(3);
      const bundle = await makeBundle({
        args: [
          "sh",
          "-c",
          `trap 'echo got-${name}; exit ${code}' ${name}; echo ready; ` +
          "while true; do sleep 0.1; done",
        ],
      });
      const root = await tempRoot();
      const id = uniqueId("sig");
      try {
        const child = new Deno.Command(runtsPath, {
          args: ["--root", root, "run", "--bundle", bundle.dir, id],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const reader = child.stdout.getReader();
        const before = await readUntil(reader, "ready\n");
        assertEquals(before, "ready\n");
        child.kill(signal);
        const after = await readUntil(reader, "\n-never-");
        const status = await child.status;
        const stderr = new TextDecoder().decode(
          await new Response(child.stderr).arrayBuffer(),
        );
        assertEquals(after, `got-${name}\n`);
        assertEquals(status.code, code, stderr);
        await assertNothingLeft(root, id, bundle.dir);
      } finally {
        await bundle.cleanup();
      }
    },
  });
}

Deno.test({
  name: "run -d --pid-file: the file holds the host pid of the running init",
  ...requireRoot(),
  fn: async () => {
    const c = await runDetached({ args: ["sleep", "600"] });
    try {
      assert(c.pid > 0, `pid ${c.pid}`);
      assertMatch(await Deno.readTextFile(c.pidFile), /^\d+$/);
      const stat = await Deno.readTextFile(`/proc/${c.pid}/stat`);
      assertMatch(stat, /^\d+ \(sleep\) [RSD]/);
      // It is the init of its own pid namespace, in the container's cgroup.
      const nspid = (await Deno.readTextFile(`/proc/${c.pid}/status`)).match(/^NSpid:(.*)$/m);
      assertEquals(nspid?.[1].trim().split(/\s+/), [String(c.pid), "1"]);
      assertMatch(
        await Deno.readTextFile(`/proc/${c.pid}/cgroup`),
        new RegExp(`/runts/${c.id}$`, "m"),
      );
      const state = JSON.parse(await Deno.readTextFile(`${c.root}/${c.id}/state.json`));
      assertEquals(state.pid, c.pid);
      assertEquals(state.id, c.id);
      assert(cgroupDirsOf(c.id).length > 0, "no cgroup dirs for a running container");
      // runts detached: its parent (the test) saw it exit; the init was reparented.
      const ppid = parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1], 10);
      assert(ppid !== Deno.pid, "init still a child of the test");
    } finally {
      // There is no `runts delete` yet: kill by pid, remove cgroups and state by hand.
      await c.cleanup();
    }
    assertEquals(cgroupDirsOf(c.id), []);
  },
});
