/**
 * The runts logger, honoring runc's `--log FILE`, `--log-format text|json` and `--debug`.
 * Lines are formatted like logrus (what runc writes), because shims (containerd, conmon)
 * parse `--log` files to report a runtime's failure.
 *
 * Humans read stderr: warnings and errors always go there as `runts: warning: …` /
 * `runts: …`, whether or not a log file is set.
 */

export type LogLevel = "debug" | "info" | "warning" | "error";
export type LogFormat = "text" | "json";

export interface LoggerOptions {
  /** Log file; unset means debug/info lines go to stderr, as runc's default `/dev/stderr`. */
  file?: string;
  format: LogFormat;
  debug: boolean;
}

/** Where lines go; replaced in tests. */
export interface LogSinks {
  stderr(text: string): void;
  appendToFile(path: string, text: string): void;
  now(): Date;
}

const encoder = new TextEncoder();

function writeAll(write: (bytes: Uint8Array) => number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += write(bytes.subarray(done));
}

const processSinks: LogSinks = {
  stderr(text) {
    writeAll((b) => Deno.stderr.writeSync(b), encoder.encode(text));
  },
  appendToFile(path, text) {
    // Opened per line (logging is rare) so a command that logs nothing never creates the file.
    const file = Deno.openSync(path, { append: true, create: true, mode: 0o644 });
    try {
      writeAll((b) => file.writeSync(b), encoder.encode(text));
    } finally {
      file.close();
    }
  },
  now: () => new Date(),
};

/** Go's RFC3339 (`2006-01-02T15:04:05Z07:00`) in local time, as logrus stamps entries. */
export function formatRfc3339(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const offsetMinutes = -date.getTimezoneOffset();
  let zone = "Z";
  if (offsetMinutes !== 0) {
    const abs = Math.abs(offsetMinutes);
    zone = `${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`;
}

/** logrus' TextFormatter quotes a value unless it only has these characters. */
function textValue(value: string): string {
  return /^[A-Za-z0-9\-._/@^+]+$/.test(value) ? value : JSON.stringify(value);
}

/**
 * One log line, newline-terminated. JSON keys are sorted as logrus' JSONFormatter
 * writes them (`level`, `msg`, `time`); text is `time="…" level=… msg="…"`.
 */
export function formatLogLine(
  level: LogLevel,
  message: string,
  time: Date,
  format: LogFormat,
): string {
  const stamp = formatRfc3339(time);
  if (format === "json") return JSON.stringify({ level, msg: message, time: stamp }) + "\n";
  return `time=${textValue(stamp)} level=${level} msg=${textValue(message)}\n`;
}

export class Logger {
  #options: LoggerOptions = { format: "text", debug: false };
  #sinks: LogSinks;

  constructor(sinks: LogSinks = processSinks) {
    this.#sinks = sinks;
  }

  configure(options: LoggerOptions): void {
    this.#options = { ...options };
  }

  get debugEnabled(): boolean {
    return this.#options.debug;
  }

  debug(message: string): void {
    if (this.#options.debug) this.#entry("debug", message);
  }

  info(message: string): void {
    this.#entry("info", message);
  }

  warn(message: string): void {
    this.#entry("warning", message);
    this.#sinks.stderr(`runts: warning: ${message}\n`);
  }

  /**
   * Logs an error and prints it to stderr as `runts: <message>`. Multi-line messages
   * (all problems of a config.json) print one `runts:` line each and log as one entry.
   */
  error(message: string): void {
    this.#entry("error", message);
    const lines = message.split("\n").map((line) => `runts: ${line}\n`);
    this.#sinks.stderr(lines.join(""));
  }

  /** Raw text to stderr (a stack trace under --debug); never to the log file. */
  stderr(text: string): void {
    this.#sinks.stderr(text.endsWith("\n") ? text : text + "\n");
  }

  #entry(level: LogLevel, message: string): void {
    const line = formatLogLine(level, message, this.#sinks.now(), this.#options.format);
    const file = this.#options.file;
    if (file !== undefined) {
      try {
        this.#sinks.appendToFile(file, line);
      } catch (err) {
        // Never lose the message: the caller is usually already reporting a failure.
        const why = err instanceof Error ? err.message : String(err);
        this.#sinks.stderr(`runts: warning: cannot write log file ${file}: ${why}\n`);
      }
    } else if (level === "debug" || level === "info") {
      // Without --log, warnings and errors already reach stderr in the human form.
      this.#sinks.stderr(line);
    }
  }
}

/** The process-wide logger, configured by `runMain` from the global flags. */
export const log = new Logger();
