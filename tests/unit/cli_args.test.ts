import { assertEquals, assertThrows } from "./assert.ts";
import {
  checkPositionals,
  type FlagSpec,
  parseArgs,
  parseGoBool,
  UsageError,
} from "../../src/cli/args.ts";

const SPECS: FlagSpec[] = [
  { name: "bundle", short: "b", type: "string", description: "bundle" },
  { name: "detach", short: "d", type: "boolean", description: "detach" },
  { name: "tty", short: "t", type: "boolean", description: "tty" },
  { name: "env", short: "e", type: "strings", description: "env" },
  { name: "cap-add", type: "strings", description: "caps" },
  { name: "preserve-fds", type: "string", description: "fds" },
  { name: "args", type: "rest", description: "args" },
];

const parse = (argv: string[], stopAtFirstPositional = false) =>
  parseArgs(argv, SPECS, { commandLabel: "runts run", stopAtFirstPositional });

Deno.test("string flag: --name value, --name=value, -name value, -short value", () => {
  for (
    const argv of [
      ["--bundle", "/b"],
      ["--bundle=/b"],
      ["-bundle", "/b"],
      ["-bundle=/b"],
      ["-b", "/b"],
      ["--b", "/b"],
      ["-b=/b"],
    ]
  ) {
    assertEquals(parse(argv).flags.string("bundle"), "/b", argv.join(" "));
  }
});

Deno.test("string flag: the last occurrence wins; absent is undefined", () => {
  assertEquals(parse(["-b", "x", "-b", "y"]).flags.string("bundle"), "y");
  assertEquals(parse([]).flags.string("bundle"), undefined);
  assertEquals(parse([]).flags.has("bundle"), false);
});

Deno.test("string flag value may start with a dash (Go flag semantics)", () => {
  assertEquals(parse(["--bundle", "-weird"]).flags.string("bundle"), "-weird");
  assertEquals(parse(["--bundle="]).flags.string("bundle"), "");
});

Deno.test("boolean flag: bare, short, =true/=false, and never eats the next argument", () => {
  assertEquals(parse(["--detach"]).flags.bool("detach"), true);
  assertEquals(parse(["-d"]).flags.bool("detach"), true);
  assertEquals(parse(["--detach=true"]).flags.bool("detach"), true);
  assertEquals(parse(["--detach=false"]).flags.bool("detach"), false);
  assertEquals(parse(["-d=0"]).flags.bool("detach"), false);
  assertEquals(parse([]).flags.bool("detach"), false);
  const parsed = parse(["-d", "false"]);
  assertEquals(parsed.flags.bool("detach"), true);
  assertEquals(parsed.positionals, ["false"]);
});

Deno.test("boolean flag with a non-boolean value is an error", () => {
  assertThrows(() => parse(["--detach=yes"]), UsageError, 'invalid value "yes"');
});

Deno.test("repeatable flags keep every value in order", () => {
  const { flags } = parse(["--env", "A=1", "-e", "B=2", "--env=C=3", "--cap-add", "X"]);
  assertEquals(flags.strings("env"), ["A=1", "B=2", "C=3"]);
  assertEquals(flags.strings("cap-add"), ["X"]);
  assertEquals(parse([]).flags.strings("env"), []);
});

Deno.test("flags may come before and after positionals", () => {
  const { flags, positionals } = parse(["-d", "ID", "--bundle", "/b", "extra"]);
  assertEquals(positionals, ["ID", "extra"]);
  assertEquals(flags.bool("detach"), true);
  assertEquals(flags.string("bundle"), "/b");
});

Deno.test("after -- everything is positional", () => {
  const { flags, positionals } = parse(["ID", "--", "-ef", "--detach"]);
  assertEquals(positionals, ["ID", "-ef", "--detach"]);
  assertEquals(flags.bool("detach"), false);
});

Deno.test("a lone dash is a positional", () => {
  assertEquals(parse(["-"]).positionals, ["-"]);
});

Deno.test("rest flag takes every remaining argument, dashes included", () => {
  const { flags } = parse(["-b", "x", "--args", "sh", "-c", "echo hi", "--detach"]);
  assertEquals(flags.strings("args"), ["sh", "-c", "echo hi", "--detach"]);
  assertEquals(flags.bool("detach"), false);
  assertEquals(parse(["--args=sh", "-c", "x"]).flags.strings("args"), ["sh", "-c", "x"]);
  assertThrows(() => parse(["--args"]), UsageError, "needs at least one value");
});

Deno.test("stopAtFirstPositional keeps the rest verbatim", () => {
  const { flags, positionals } = parse(["-t", "ID", "ls", "-la", "--", "-d"], true);
  assertEquals(flags.bool("tty"), true);
  assertEquals(flags.bool("detach"), false);
  assertEquals(positionals, ["ID", "ls", "-la", "--", "-d"]);
});

Deno.test("unknown flag names the flag and the command, with a --help hint", () => {
  const err = assertThrows(() => parse(["ID", "--x"]), UsageError);
  assertEquals(err.message, 'unknown flag --x for "runts run" (see "runts run --help")');
  assertThrows(() => parse(["-dt"]), UsageError, "unknown flag -dt");
});

Deno.test("missing value is an error", () => {
  assertThrows(() => parse(["--bundle"]), UsageError, "flag --bundle needs a value");
  assertThrows(() => parse(["ID", "-b"]), UsageError, "flag --bundle needs a value");
});

Deno.test("int accessor validates", () => {
  assertEquals(parse(["--preserve-fds", "3"]).flags.int("preserve-fds"), 3);
  assertEquals(parse([]).flags.int("preserve-fds"), undefined);
  assertThrows(
    () => parse(["--preserve-fds", "x"]).flags.int("preserve-fds"),
    UsageError,
    'invalid value "x" for flag --preserve-fds',
  );
});

Deno.test("accessors reject undeclared names and wrong types (programming errors)", () => {
  const { flags } = parse([]);
  assertThrows(() => flags.bool("nope"), Error, "not declared");
  assertThrows(() => flags.bool("bundle"), Error, "is string, not boolean");
  assertThrows(() => flags.strings("detach"), Error, "not a list");
});

Deno.test("declaring the same name twice is caught", () => {
  const specs: FlagSpec[] = [
    { name: "a", short: "x", type: "boolean", description: "" },
    { name: "b", short: "x", type: "boolean", description: "" },
  ];
  assertThrows(() => parseArgs([], specs, { commandLabel: "t" }), Error, "declared twice");
});

Deno.test("parseGoBool accepts Go's spellings only", () => {
  assertEquals(["1", "t", "T", "TRUE", "true", "True"].map(parseGoBool), Array(6).fill(true));
  assertEquals(["0", "f", "F", "FALSE", "false", "False"].map(parseGoBool), Array(6).fill(false));
  assertEquals(parseGoBool("yes"), undefined);
});

Deno.test("checkPositionals: exact, range and messages", () => {
  const one = { min: 1, max: 1, names: ["<container-id>"] };
  checkPositionals("runts state", one, ["a"]);
  assertThrows(
    () => checkPositionals("runts state", one, []),
    UsageError,
    '"runts state" requires exactly 1 argument (<container-id>), got none',
  );
  assertThrows(
    () => checkPositionals("runts state", one, ["a", "b"]),
    UsageError,
    'got "a" "b"',
  );
  const some = { min: 1, max: Infinity, names: ["<container-id>", "[command...]"] };
  checkPositionals("runts exec", some, ["a", "b", "c"]);
  assertThrows(() => checkPositionals("runts exec", some, []), UsageError, "at least 1 argument");
  const none = { min: 0, max: 0, names: [] };
  assertThrows(
    () => checkPositionals("runts spec", none, ["x"]),
    UsageError,
    "exactly 0 arguments",
  );
  const upTo = { min: 0, max: 2, names: [] };
  assertThrows(() => checkPositionals("t", upTo, ["1", "2", "3"]), UsageError, "at most 2");
});
