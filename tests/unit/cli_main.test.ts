import { assert, assertEquals, assertMatch, assertThrows } from "./assert.ts";
import { commandFlagSpecs, findCommand, reportError } from "../../src/cli/main.ts";
import { Logger } from "../../src/cli/log.ts";
import { ConfigError, RuntsError } from "../../src/errors.ts";
import { commandHelp, topLevelHelp, versionText } from "../../src/cli/help.ts";
import {
  absolutePath,
  defaultRoot,
  resolveGlobalOptions,
  TOP_LEVEL_FLAGS,
} from "../../src/cli/global.ts";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import type { Command } from "../../src/cli/command.ts";
import { COMMANDS } from "../../src/cli/commands/index.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function runts(args: string[], cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);

const ENV = { uid: 0, cwd: "/work" };
const globalsOf = (argv: string[], env = ENV) =>
  resolveGlobalOptions([parseArgs(argv, TOP_LEVEL_FLAGS, { commandLabel: "runts" }).flags], env);

Deno.test("global defaults: /run/runts for root, XDG dir otherwise", () => {
  assertEquals(globalsOf([]), {
    root: "/run/runts",
    log: undefined,
    logFormat: "text",
    debug: false,
    systemdCgroup: false,
    rootless: "auto",
    criu: "criu",
  });
  assertEquals(
    defaultRoot({ uid: 1000, cwd: "/", xdgRuntimeDir: "/run/user/1000" }),
    "/run/user/1000/runts",
  );
  assertEquals(defaultRoot({ uid: 1000, cwd: "/" }), "/run/runts");
  assertEquals(defaultRoot({ uid: 0, cwd: "/", xdgRuntimeDir: "/run/user/0" }), "/run/runts");
});

Deno.test("global flags: every runc form, relative paths made absolute", () => {
  const g = globalsOf([
    "-root",
    "state",
    "--log=l.json",
    "--log-format",
    "json",
    "--debug",
    "--systemd-cgroup",
    "--rootless=1",
    "--criu",
    "/bin/criu",
  ]);
  assertEquals(g, {
    root: "/work/state",
    log: "/work/l.json",
    logFormat: "json",
    debug: true,
    systemdCgroup: true,
    rootless: "true",
    criu: "/bin/criu",
  });
  assertEquals(globalsOf(["--rootless", "false"]).rootless, "false");
  assertEquals(globalsOf(["--log", ""]).log, undefined);
});

Deno.test("global flags: bad --log-format and --rootless values", () => {
  assertThrows(() => globalsOf(["--log-format", "xml"]), UsageError, 'invalid --log-format "xml"');
  assertThrows(() => globalsOf(["--rootless", "maybe"]), UsageError, "invalid --rootless");
});

Deno.test("global flags after the command override those before it", () => {
  const before = parseArgs(["--root", "/a", "--debug"], TOP_LEVEL_FLAGS, { commandLabel: "r" });
  const after = parseArgs(["--root", "/b"], TOP_LEVEL_FLAGS, { commandLabel: "r" });
  const g = resolveGlobalOptions([before.flags, after.flags], ENV);
  assertEquals([g.root, g.debug], ["/b", true]);
});

Deno.test("absolutePath normalizes", () => {
  assertEquals(absolutePath("a/../b/./c//", "/x/y"), "/x/y/b/c");
  assertEquals(absolutePath("/../..", "/x"), "/");
});

const FAKE: Command = {
  name: "fake",
  aliases: ["f"],
  summary: "a fake command",
  usage: "[command options] <container-id>",
  flags: [
    { name: "rootless", type: "boolean", description: "shadows the global --rootless" },
    { name: "bundle", short: "b", type: "string", description: "bundle", default: "." },
  ],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  run: () => Promise.resolve(0),
};

Deno.test("command flags shadow global flags of the same name", () => {
  const specs = commandFlagSpecs(FAKE);
  const rootless = specs.filter((s) => s.name === "rootless");
  assertEquals(rootless.length, 1);
  assertEquals(rootless[0].type, "boolean");
  assert(specs.some((s) => s.name === "root"));
  assert(specs.some((s) => s.name === "help" && s.short === "h"));
});

Deno.test("a command's own --rootless is not the global --rootless", () => {
  const parsed = parseArgs(["--rootless", "ID"], commandFlagSpecs(FAKE), { commandLabel: "f" });
  assertEquals(parsed.flags.bool("rootless"), true);
  assertEquals(resolveGlobalOptions([parsed.flags], ENV).rootless, "auto");
});

function recordingLogger() {
  const out = { stderr: "", file: "" };
  const logger = new Logger({
    stderr: (text) => void (out.stderr += text),
    appendToFile: (_path, text) => void (out.file += text),
    now: () => new Date(0),
  });
  logger.configure({ file: "/log.json", format: "json", debug: false });
  return { out, logger };
}

Deno.test("reportError: ConfigError prints every problem, logs one entry", () => {
  const { out, logger } = recordingLogger();
  reportError(
    new ConfigError(["config.json:3:5: /a: bad", "config.json:9:1: /b: worse"]),
    false,
    logger,
  );
  assertEquals(out.stderr, "runts: config.json:3:5: /a: bad\nrunts: config.json:9:1: /b: worse\n");
  assertEquals(JSON.parse(out.file).msg, "config.json:3:5: /a: bad\nconfig.json:9:1: /b: worse");
});

Deno.test("reportError: stack only with --debug, message always last", () => {
  let { out, logger } = recordingLogger();
  reportError(new RuntsError("container x does not exist"), false, logger);
  assertEquals(out.stderr, "runts: container x does not exist\n");
  ({ out, logger } = recordingLogger());
  reportError(new TypeError("oops"), true, logger);
  assertMatch(out.stderr, /^TypeError: oops\n {4}at /);
  assertEquals(lastLine(out.stderr), "runts: oops");
  ({ out, logger } = recordingLogger());
  reportError("thrown string", false, logger);
  assertEquals(out.stderr, "runts: thrown string\n");
});

Deno.test("findCommand by name and alias", () => {
  assertEquals(findCommand("f", [FAKE]), FAKE);
  assertEquals(findCommand("fake", [FAKE]), FAKE);
  assertEquals(findCommand("nope", [FAKE]), undefined);
  assertEquals(findCommand("spec")?.name, "spec");
});

Deno.test("every registered command is well-formed and uniquely named", () => {
  const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
  assertEquals(new Set(names).size, names.length);
  for (const command of COMMANDS) {
    commandFlagSpecs(command); // throws on a duplicate flag name when parsed
    parseArgs([], commandFlagSpecs(command), { commandLabel: command.name });
    assert(command.positionals.min <= command.positionals.max, command.name);
  }
});

Deno.test("help texts list flags with aliases and defaults", () => {
  const help = commandHelp(FAKE);
  assertMatch(help, /^NAME:\n {3}runts fake, f - a fake command\n/);
  assertMatch(help, /USAGE:\n {3}runts fake \[command options\] <container-id>\n/);
  assertMatch(help, /--bundle value, -b value {2}bundle \(default: "\."\)/);
  assertMatch(help, /--help, -h +show help/);
  const top = topLevelHelp([FAKE]);
  assertMatch(top, /COMMANDS:\n {3}fake, f +a fake command\n {3}help, h +Shows/);
  assertMatch(top, /--root value +root directory/);
  assertMatch(top, /--version, -v +print the version/);
});

Deno.test("versionText is exactly three lines", () => {
  assertEquals(versionText(), `runts version 0.1.0\nspec: 1.3.0\ndeno: ${Deno.version.deno}\n`);
});

Deno.test("e2e: --version and -v", async () => {
  for (const flag of ["--version", "-v"]) {
    const r = await runts([flag]);
    assertEquals([r.code, r.stdout, r.stderr], [0, versionText(), ""]);
  }
});

Deno.test("e2e: help for top level and for commands", async () => {
  for (const args of [[], ["--help"], ["-h"], ["help"], ["h"]]) {
    const r = await runts(args);
    assertEquals(r.code, 0, args.join(" "));
    assertMatch(r.stdout, /USAGE:\n {3}runts \[global options\] command/);
  }
  for (
    const args of [["spec", "--help"], ["spec", "-h"], ["help", "spec"], ["spec", "--x", "-h"]]
  ) {
    const r = await runts(args);
    assertEquals(r.code, 0, args.join(" "));
    assertMatch(r.stdout, /runts spec - create a new specification file/);
    assertMatch(r.stdout, /--host-network/);
  }
});

Deno.test("e2e: usage errors end stderr with runts: <message>, exit 1", async () => {
  const cases: Array<[string[], string]> = [
    [["spec", "--bogus"], 'runts: unknown flag --bogus for "runts spec" (see "runts spec --help")'],
    [["--bogus", "spec"], 'runts: unknown flag --bogus for "runts" (see "runts --help")'],
    [["nope"], 'runts: unknown command "nope" (see "runts --help")'],
    [["spec", "x"], 'runts: "runts spec" requires exactly 0 arguments, got "x"'],
    [["spec", "--bundle"], "runts: flag --bundle needs a value"],
    [["--log-format", "xml", "spec"], 'runts: invalid --log-format "xml"'],
  ];
  for (const [args, expected] of cases) {
    const r = await runts(args);
    assertEquals(r.code, 1, args.join(" "));
    assert(lastLine(r.stderr)!.startsWith(expected), `${args.join(" ")}: ${r.stderr}`);
  }
});

Deno.test("e2e: spec writes config.json, refuses to overwrite, logs JSON for shims", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let r = await runts(["spec", "--args", "sh", "-c", "echo hi"], dir);
    assertEquals([r.code, r.stderr], [0, ""]);
    const spec = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assertEquals(spec.process.args, ["sh", "-c", "echo hi"]);
    assertEquals(spec.ociVersion, "1.3.0");

    r = await runts(["--log", "log.json", "--log-format", "json", "spec", "-b", dir], dir);
    assertEquals(r.code, 1);
    assertEquals(lastLine(r.stderr), `runts: File ${dir}/config.json exists. Remove it first`);
    const entry = JSON.parse(await Deno.readTextFile(`${dir}/log.json`));
    assertEquals(Object.keys(entry), ["level", "msg", "time"]);
    assertEquals([entry.level, entry.msg], [
      "error",
      `File ${dir}/config.json exists. Remove it first`,
    ]);

    // Global flags are accepted after the command name too.
    await Deno.remove(`${dir}/config.json`);
    r = await runts(["spec", "--root", "/tmp/x", "--rootless", "--no-tty"], dir);
    assertEquals([r.code, r.stderr], [0, ""]);
    const rootless = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assertEquals(rootless.process.terminal, false);
    assertEquals(rootless.linux.uidMappings[0].hostID, Deno.uid());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
