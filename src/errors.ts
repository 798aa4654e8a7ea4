/** One error type threaded through runts: what failed, and the root cause. */
export class RuntsError extends Error {
  /** errno of the failing syscall, when the root cause is one. */
  readonly errno?: number;
  constructor(message: string, options?: { cause?: unknown; errno?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RuntsError";
    this.errno = options?.errno;
  }
}

/** A config.json (or other user input) problem; `problems` are all reported together. */
export class ConfigError extends RuntsError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}
