/**
 * The CLI as engines and humans use it: global flags (--root, --log/--log-format,
 * --debug, --version, --help), exit codes, and failures whose last stderr line (and
 * --log entry) names the root cause.
 */
import { requireRoot, run, runts, runtsPath, tempDir, tempRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import {
  assertFails,
  assertGone,
  assertOk,
  lastLine,
  setup,
  stateOf,
  waitUntil,
} from "./lifecycle_helpers.ts";

Deno.test("cli: --version prints three lines: runts, spec and deno versions", async () => {
  const r = await run(runtsPath, ["--version"]);
  assertOk(r, "--version");
  const lines = r.stdout.split("\n");
  assertEquals(lines.length, 4, `three lines and a newline: ${JSON.stringify(r.stdout)}`);
  assertMatch(lines[0], /^runts version \d+\.\d+\.\d+\S*$/);
  assertMatch(lines[1], /^spec: 1\.\d+\.\d+$/);
  assertEquals(lines[2], `deno: ${Deno.version.deno}`);
  assertEquals(r.stderr, "");
});

Deno.test("cli: --help lists every command; each command has its own help", async () => {
  const top = await run(runtsPath, ["--help"]);
  assertOk(top, "--help");
  for (const c of COMMANDS) {
    assertMatch(top.stdout, new RegExp(`^\\s+${c.name}\\b.*${escape(c.summary)}`, "m"));
  }
  for (const c of COMMANDS) {
    for (const args of [[c.name, "--help"], [c.name, "-h"], ["help", c.name]]) {
      const r = await run(runtsPath, args);
      const what = `runts ${args.join(" ")}`;
      assertOk(r, what);
      assertEquals(r.stderr, "", `${what}: stderr`);
      const names = [c.name, ...(c.aliases ?? [])].join(", ");
      assertMatch(r.stdout, new RegExp(`^NAME:\\n\\s+runts ${names} - `), what);
      const usage = `runts ${c.name} ${c.usage}`.trimEnd();
      assertMatch(r.stdout, new RegExp(`USAGE:\\n\\s+${escape(usage)}\\n`), what);
      for (const f of c.flags.filter((f) => !f.hidden)) {
        assert(r.stdout.includes(`--${f.name}`), `${what}: flag --${f.name} not shown`);
      }
    }
  }
  const unknown = await run(runtsPath, ["nope"]);
  assertFails(unknown, /^runts: unknown command "nope"/, "runts nope");
  const noTopic = await run(runtsPath, ["help", "nope"]);
  assertFails(noTopic, /no help topic for "nope"/, "runts help nope");
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test({
  name: "cli: --root selects the state directory (before or after the command)",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: ["sleep", "600"] });
    const other = await tempRoot();
    const id = uniqueId("root");
    s.ids.add(id);
    try {
      assertOk(await s.rt(["create", "--bundle", s.bundle.dir, id]), "create");
      assert(Deno.statSync(`${s.root}/${id}/state.json`).isFile, "no state.json under --root");
      // Another root does not see it.
      assertEquals((await runts(["list", "-q"], { root: other })).stdout, "");
      assertFails(
        await runts(["state", id], { root: other }),
        /does not exist/,
        "state, other root",
      );
      // The global flag also works after the command name.
      const after = await run(runtsPath, ["state", "--root", s.root, id]);
      assertOk(after, "state --root after the command");
      assertEquals(JSON.parse(after.stdout).status, "created");
      assertEquals((await stateOf(s.root, id)).status, "created");
      assertOk(await s.rt(["delete", "--force", id]), "delete --force");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test("cli: --log FILE --log-format json records a failure as an error entry", async () => {
  const root = await tempRoot();
  const dir = await tempDir("log");
  const file = `${dir}/runts.json`;
  const id = uniqueId("nolog");
  const r = await run(runtsPath, [
    "--root",
    root,
    "--log",
    file,
    "--log-format",
    "json",
    "state",
    id,
  ]);
  assertFails(r, new RegExp(`^runts: container "${id}" does not exist$`), "state");
  const lines = (await Deno.readTextFile(file)).trim().split("\n");
  const entry = JSON.parse(lines[lines.length - 1]);
  assertEquals(Object.keys(entry).sort(), ["level", "msg", "time"]);
  assertEquals(entry.level, "error");
  assertEquals(entry.msg, `container "${id}" does not exist`);
  assertMatch(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  // Text format (the default): logrus' key=value line.
  const text = `${dir}/runts.log`;
  await run(runtsPath, ["--root", root, "--log", text, "state", id]);
  assertMatch(
    await Deno.readTextFile(text),
    new RegExp(`^time="[^"]+" level=error msg="container \\\\"${id}\\\\" does not exist"\\n$`),
  );
});

Deno.test("cli: --debug logs debug lines to stderr, or to --log when given", async () => {
  const root = await tempRoot();
  const plain = await run(runtsPath, ["--root", root, "list"]);
  assertOk(plain, "list");
  assert(!plain.stderr.includes("level=debug"), `debug lines without --debug: ${plain.stderr}`);
  const debug = await run(runtsPath, ["--root", root, "--debug", "list"]);
  assertOk(debug, "--debug list");
  assertMatch(debug.stderr, /level=debug msg="runts list/);
  const dir = await tempDir("log");
  const file = `${dir}/debug.json`;
  const logged = await run(runtsPath, [
    "--root",
    root,
    "--debug",
    "--log",
    file,
    "--log-format",
    "json",
    "list",
  ]);
  assertOk(logged, "--debug --log list");
  assertEquals(logged.stderr, "", "with --log, debug lines go to the file only");
  const entries = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
  assert(entries.some((e) => e.level === "debug"), `no debug entry: ${JSON.stringify(entries)}`);
  // A failure under --debug still ends with the one-line cause.
  const failed = await run(runtsPath, ["--root", root, "--debug", "kill", "nope-x"]);
  assertFails(failed, /^runts: container "nope-x" does not exist$/, "--debug kill");
});

Deno.test({
  name: "cli: a missing executable fails run with exit 1 naming it, in stderr and --log",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: ["nope"] });
    const dir = await tempDir("log");
    const file = `${dir}/runts.json`;
    const id = uniqueId("noexec");
    s.ids.add(id);
    try {
      const r = await run(runtsPath, [
        "--root",
        s.root,
        "--log",
        file,
        "--log-format",
        "json",
        "run",
        "--bundle",
        s.bundle.dir,
        id,
      ]);
      const cause = 'exec "nope": executable file not found in $PATH';
      assertEquals(r.code, 1, r.stderr);
      assert(lastLine(r.stderr).endsWith(cause), `last stderr line: ${lastLine(r.stderr)}`);
      assert(lastLine(r.stderr).startsWith("runts: "), lastLine(r.stderr));
      const entry = JSON.parse((await Deno.readTextFile(file)).trim().split("\n").at(-1)!);
      assertEquals(entry.level, "error");
      assert(entry.msg.endsWith(cause), `log msg: ${entry.msg}`);
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "cli: create with a missing executable fails (as runc's does), leaving nothing",
  ...requireRoot(),
  fn: async () => {
    // runc resolves process.args[0] in the init before waiting for start: create fails.
    const s = await setup({ args: ["nope"] });
    const id = uniqueId("noexec");
    s.ids.add(id);
    try {
      const r = await s.rt(["create", "--bundle", s.bundle.dir, id]);
      assertFails(r, /exec "nope": executable file not found in \$PATH$/, "create");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "cli: failures exit 1 with the root cause as the last stderr line",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: ["/bin/nope"] });
    try {
      const id = uniqueId("cause");
      s.ids.add(id);
      const cases: [string[], RegExp][] = [
        [["run", "--bundle", s.bundle.dir, id], /exec \/bin\/nope: .*(ENOENT|no such file)/i],
        [["create", "--bundle", "/nonexistent-bundle", id], /\/nonexistent-bundle\/config\.json/],
        [["state", "--bogus", id], /unknown flag --bogus/],
        [["state"], /requires exactly 1 argument/],
        [["kill", id, "SIGNOPE"], /unknown signal "SIGNOPE"|does not exist/],
        [["list", "--format", "yaml"], /invalid format option "yaml"/],
        [["ps", "--format", "yaml", id], /invalid format option "yaml"/],
      ];
      for (const [args, re] of cases) {
        const r = await s.rt(args);
        assertFails(r, re, `runts ${args.join(" ")}`);
        assertMatch(lastLine(r.stderr), /^runts: /);
      }
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "cli: run exits with the container's status (128+N when killed by signal N)",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: ["sh", "-c", "exit 3"] });
    const k = await setup({ args: ["sh", "-c", "echo ready > /shared/ready; sleep 600 & wait"] });
    try {
      const id = uniqueId("exit");
      s.ids.add(id);
      assertEquals((await s.rt(["run", "--bundle", s.bundle.dir, id])).code, 3);
      await assertGone(s.root, id, s.bundle.dir);
      const kid = uniqueId("exit");
      k.ids.add(kid);
      const running = k.rt(["run", "--bundle", k.bundle.dir, kid]);
      await waitUntil(() => {
        try {
          return Deno.readTextFileSync(`${k.shared}/ready`) === "ready\n";
        } catch {
          return false;
        }
      }, "the container runs");
      assertOk(await k.rt(["kill", kid, "KILL"]), "kill");
      const r = await running;
      assertEquals(r.code, 137, r.stderr);
      await assertGone(k.root, kid, k.bundle.dir);
    } finally {
      await s.cleanup();
      await k.cleanup();
    }
  },
});
