import { assertEquals } from "./assert.ts";
import { formatLogLine, formatRfc3339, Logger, type LogSinks } from "../../src/cli/log.ts";

// Runs `fn` with TZ offset forced to `minutes` east of UTC (Date reads the host's zone).
function withOffset<T>(minutes: number, fn: () => T): T {
  const original = Date.prototype.getTimezoneOffset;
  const shift = (d: Date) => new Date(d.getTime() + minutes * 60_000);
  const getters = ["FullYear", "Month", "Date", "Hours", "Minutes", "Seconds"] as const;
  const saved = getters.map((g) => Date.prototype[`get${g}`]);
  Date.prototype.getTimezoneOffset = () => -minutes;
  getters.forEach((g) => {
    Date.prototype[`get${g}`] = function (this: Date) {
      return shift(this)[`getUTC${g}`]();
    };
  });
  try {
    return fn();
  } finally {
    Date.prototype.getTimezoneOffset = original;
    getters.forEach((g, i) => (Date.prototype[`get${g}`] = saved[i]));
  }
}

const T = new Date(Date.UTC(2026, 10, 29, 10, 0, 0, 999));

Deno.test("RFC3339 like Go: seconds, Z for UTC, ±hh:mm otherwise", () => {
  assertEquals(withOffset(0, () => formatRfc3339(T)), "2026-11-29T10:00:00Z");
  assertEquals(withOffset(540, () => formatRfc3339(T)), "2026-11-29T19:00:00+09:00");
  assertEquals(withOffset(-210, () => formatRfc3339(T)), "2026-11-29T06:30:00-03:30");
});

Deno.test("json line: logrus key order level, msg, time", () => {
  const line = withOffset(0, () => formatLogLine("error", 'no "x"', T, "json"));
  assertEquals(line, '{"level":"error","msg":"no \\"x\\"","time":"2026-11-29T10:00:00Z"}\n');
});

Deno.test("text line: time, level, msg with logrus quoting", () => {
  withOffset(0, () => {
    assertEquals(
      formatLogLine("warning", "container does not exist", T, "text"),
      'time="2026-11-29T10:00:00Z" level=warning msg="container does not exist"\n',
    );
    assertEquals(
      formatLogLine("info", "plain-word_1.2/x@y", T, "text"),
      'time="2026-11-29T10:00:00Z" level=info msg=plain-word_1.2/x@y\n',
    );
  });
});

function recorder() {
  const out = { stderr: "", files: new Map<string, string>() };
  const sinks: LogSinks = {
    stderr: (text) => void (out.stderr += text),
    appendToFile: (path, text) => void out.files.set(path, (out.files.get(path) ?? "") + text),
    now: () => T,
  };
  return { out, logger: new Logger(sinks) };
}

Deno.test("with --log: every level goes to the file; warnings and errors also to stderr", () => {
  const { out, logger } = recorder();
  logger.configure({ file: "/l.json", format: "json", debug: true });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e1\ne2");
  const lines = out.files.get("/l.json")!.trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.map((l) => [l.level, l.msg]), [
    ["debug", "d"],
    ["info", "i"],
    ["warning", "w"],
    ["error", "e1\ne2"],
  ]);
  assertEquals(out.stderr, "runts: warning: w\nrunts: e1\nrunts: e2\n");
});

Deno.test("debug lines only with --debug", () => {
  const { out, logger } = recorder();
  logger.configure({ file: "/l", format: "text", debug: false });
  logger.debug("hidden");
  assertEquals(out.files.size, 0);
  assertEquals(logger.debugEnabled, false);
});

Deno.test("without --log: debug/info as log lines on stderr, errors once as runts: …", () => {
  const { out, logger } = recorder();
  logger.configure({ format: "text", debug: true });
  logger.debug("d");
  logger.error("boom");
  const lines = out.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 2);
  assertEquals(lines[0].endsWith("level=debug msg=d"), true);
  assertEquals(lines[1], "runts: boom");
});

Deno.test("an unwritable log file does not lose the message", () => {
  let stderr = "";
  const sinks: LogSinks = {
    stderr: (text) => void (stderr += text),
    appendToFile: () => {
      throw new Error("read-only");
    },
    now: () => T,
  };
  const logger = new Logger(sinks);
  logger.configure({ file: "/ro/log", format: "json", debug: false });
  logger.error("boom");
  assertEquals(stderr, "runts: warning: cannot write log file /ro/log: read-only\nrunts: boom\n");
});

Deno.test("the real file sink appends JSON lines", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const logger = new Logger();
    const path = `${dir}/log.json`;
    logger.configure({ file: path, format: "json", debug: false });
    logger.info("one");
    logger.info("two");
    const lines = Deno.readTextFileSync(path).trimEnd().split("\n").map((l) => JSON.parse(l));
    assertEquals(lines.map((l) => Object.keys(l)), [["level", "msg", "time"], [
      "level",
      "msg",
      "time",
    ]]);
    assertEquals(lines.map((l) => l.msg), ["one", "two"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
