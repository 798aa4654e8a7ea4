/**
 * `runts run` failures: each names its cause, exits 1 and leaves nothing behind (no
 * state dir, no cgroup dirs, no host mounts of the bundle).
 */
import { makeBundle, requireRoot, runts, tempRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { assertNothingLeft, runDetached, runIn, sh } from "./run_helpers.ts";

// deno-lint-ignore no-explicit-any
type AnySpec = any;

Deno.test({
  name: "run errors: missing rootfs",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({
      args: ["true"],
      edit: (s: AnySpec) => (s.root.path = "no-such-rootfs"),
    });
    assertEquals(r.code, 1);
    assertMatch(r.stderr, /no-such-rootfs/);
    assertMatch(r.stderr, /^runts: /m);
  },
});

Deno.test({
  name: "run errors: invalid config is reported with file:line:col",
  ...requireRoot(),
  fn: async () => {
    const bundle = await makeBundle({ args: ["true"] });
    const root = await tempRoot();
    try {
      // A syntax error on line 3.
      await Deno.writeTextFile(bundle.config, '{\n  "ociVersion": "1.0.2",\n  "process": {,\n}\n');
      let id = uniqueId("badcfg");
      let r = await runts(["run", "--bundle", bundle.dir, id], { root });
      assertEquals(r.code, 1);
      assertMatch(r.stderr, /config\.json:3:\d+/);
      await assertNothingLeft(root, id, bundle.dir);
      // A type error: the line and column of the offending value.
      const spec = {
        ociVersion: "1.0.2",
        root: { path: "rootfs" },
        process: { cwd: "/", args: ["true"], user: { uid: "zero", gid: 0 } },
      };
      await Deno.writeTextFile(bundle.config, JSON.stringify(spec, null, 2));
      const text = await Deno.readTextFile(bundle.config);
      const line = text.split("\n").findIndex((l) => l.includes('"zero"')) + 1;
      id = uniqueId("badcfg");
      r = await runts(["run", "--bundle", bundle.dir, id], { root });
      assertEquals(r.code, 1);
      assertMatch(r.stderr, new RegExp(`config\\.json:${line}:\\d+: /process/user/uid`));
      await assertNothingLeft(root, id, bundle.dir);
    } finally {
      await bundle.cleanup();
    }
  },
});

Deno.test({
  name: "run errors: invalid container ids",
  ...requireRoot(),
  fn: async () => {
    const bundle = await makeBundle({ args: ["true"] });
    const root = await tempRoot();
    try {
      for (const id of ["../x", "a/b", "..", "sp ace"]) {
        const r = await runts(["run", "--bundle", bundle.dir, id], { root });
        assertEquals(r.code, 1, `id ${id}`);
        assertMatch(r.stderr, /invalid container id/);
      }
      // Nothing was created, not even outside the root.
      assertEquals([...Deno.readDirSync(root)], []);
      let escaped = true;
      try {
        await Deno.lstat(`${root}/../x`);
      } catch {
        escaped = false;
      }
      assert(!escaped, "a state dir was made outside --root");
    } finally {
      await bundle.cleanup();
    }
  },
});

Deno.test({
  name: "run errors: a setup step failing in the container leaves nothing behind",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({
      args: ["true"],
      edit: (s: AnySpec) => {
        s.mounts.push({ destination: "/bad", type: "no-such-fstype", source: "none" });
      },
    });
    assertEquals(r.code, 1);
    assertMatch(r.stderr, /mount no-such-fstype on \/bad/);
    // runIn checked: no state dir, no cgroups, no mounts of the bundle.
  },
});

Deno.test({
  name: "run errors: a missing bind source is named",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({
      args: ["true"],
      edit: (s: AnySpec) => {
        s.mounts.push({
          destination: "/m",
          type: "bind",
          source: "/no/such/src",
          options: ["bind"],
        });
      },
    });
    assertEquals(r.code, 1);
    assertMatch(r.stderr, /\/no\/such\/src/);
  },
});

Deno.test({
  name: "run errors: a duplicate id fails while the first container keeps running",
  ...requireRoot(),
  fn: async () => {
    const first = await runDetached({ args: ["sleep", "600"] });
    try {
      const state = await Deno.readTextFile(`${first.root}/${first.id}/state.json`);
      const r = await runts(["run", "--bundle", first.bundle.dir, first.id], {
        root: first.root,
      });
      assertEquals(r.code, 1);
      assertMatch(r.stderr, /already exists/);
      // The first container is untouched: alive, same state.
      assertMatch(await Deno.readTextFile(`/proc/${first.pid}/stat`), /\(sleep\) [^Z]/);
      assertEquals(await Deno.readTextFile(`${first.root}/${first.id}/state.json`), state);
    } finally {
      await first.cleanup();
    }
  },
});

Deno.test({
  name: "run errors: a missing executable is named and nothing is left",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({ args: ["/bin/not-here"] });
    assert(r.code !== 0);
    assertMatch(r.stderr, /not-here/);
    const r2 = await runIn({ args: sh("exit 0"), edit: (s: AnySpec) => (s.process.cwd = "/nope") });
    assert(r2.code !== 0, "a missing cwd must fail");
    assertMatch(r2.stderr, /\/nope/);
  },
});
