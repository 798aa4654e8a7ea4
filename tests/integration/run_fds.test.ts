/**
 * File descriptors reaching the container: only stdio by default (no runtime fd leaks),
 * and --preserve-fds N passing fds 3..3+N-1.
 */
import { makeBundle, requireRoot, run, runtsPath, tempRoot, uniqueId } from "../helpers.ts";
import { assertEquals } from "../unit/assert.ts";
import { assertNothingLeft, outputOf } from "./run_helpers.ts";

Deno.test({
  name: "run: only fds 0, 1, 2 are open in the container process",
  ...requireRoot(),
  fn: async () => {
    // ls is the container's process itself: its own directory fd is the next free one (3).
    const out = await outputOf({ args: ["ls", "/proc/self/fd"] });
    assertEquals(out.trim().split(/\s+/), ["0", "1", "2", "3"]);
    // The same seen on a shell from a forked ls (not the last command: ash would exec it).
    const viaShell = await outputOf({ args: ["sh", "-c", "ls /proc/$$/fd; true"] });
    assertEquals(viaShell.trim().split(/\s+/), ["0", "1", "2"]);
  },
});

Deno.test({
  name: "run: --preserve-fds passes fds 3 and 4, and no more",
  ...requireRoot(),
  fn: async () => {
    const bundle = await makeBundle({
      // Builtins only (no pipe or command substitution fds in the shell while it looks).
      args: [
        "sh",
        "-c",
        "for f in 0 1 2 3 4 5 6 7 8 9; do [ -L /proc/$$/fd/$f ] && printf '%s ' $f; done; echo;" +
        " cat <&3; echo to-fd4 >&4",
      ],
    });
    const root = await tempRoot();
    try {
      await Deno.writeTextFile(`${bundle.dir}/in3`, "from fd 3\n");
      for (const [n, expectFds] of [[2, "0 1 2 3 4 "], [1, "0 1 2 3 "]] as const) {
        const id = uniqueId("fds");
        await Deno.writeTextFile(`${bundle.dir}/out4`, "");
        // fds 3 and 4 are opened by a shell around runts; fd 5 stays open too and must
        // not be passed.
        const r = await run("sh", [
          "-c",
          'exec "$@" 3<"$B/in3" 4>>"$B/out4" 5<"$B/in3"',
          "sh",
          runtsPath,
          "--root",
          root,
          "run",
          "--preserve-fds",
          String(n),
          "--bundle",
          bundle.dir,
          id,
        ], { env: { B: bundle.dir } });
        const lines = r.stdout.split("\n");
        assertEquals(lines[0], expectFds, `--preserve-fds ${n}: ${r.stderr}`);
        assertEquals(lines[1], "from fd 3");
        if (n === 2) {
          assertEquals(r.code, 0, r.stderr);
          assertEquals(await Deno.readTextFile(`${bundle.dir}/out4`), "to-fd4\n");
        } else {
          // fd 4 was not passed: the write to it fails.
          assertEquals(r.code !== 0, true, "writing to an unpassed fd 4 succeeded");
          assertEquals(await Deno.readTextFile(`${bundle.dir}/out4`), "");
        }
        await assertNothingLeft(root, id, bundle.dir);
      }
    } finally {
      await bundle.cleanup();
    }
  },
});
