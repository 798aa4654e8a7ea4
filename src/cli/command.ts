/**
 * The contract every `runts <command>` implements. A command module must stay cheap to
 * import: it declares its name, flags and positionals statically, and loads the code
 * that does the work with a dynamic `import()` inside `run`, so that `runts state`
 * never loads the mount or seccomp code (start-up time is the budget runc sets).
 */
import type { FlagSpec, ParsedFlags, PositionalSpec } from "./args.ts";
import type { Logger } from "./log.ts";

export type { FlagSpec, ParsedFlags, PositionalSpec };

/** runc's global flags (`runc --help`), resolved to their effective values. */
export interface GlobalOptions {
  /** State directory: `/run/runts` for root, `$XDG_RUNTIME_DIR/runts` otherwise; absolute. */
  root: string;
  /** `--log FILE`; undefined means stderr. */
  log?: string;
  logFormat: "text" | "json";
  debug: boolean;
  systemdCgroup: boolean;
  /** `--rootless`: whether to ignore cgroup permission errors. */
  rootless: "auto" | "true" | "false";
  /** `--criu PATH`: accepted for runc compatibility; runts does not checkpoint. */
  criu: string;
}

export interface CommandContext {
  flags: ParsedFlags;
  positionals: string[];
  global: GlobalOptions;
  log: Logger;
}

export interface Command {
  name: string;
  aliases?: string[];
  /** One line for `runts --help`. */
  summary: string;
  /** Text after the command name in `USAGE:`, e.g. `[command options] <container-id>`. */
  usage: string;
  /** Longer help text (`DESCRIPTION:`). */
  description?: string;
  flags: FlagSpec[];
  positionals: PositionalSpec;
  /**
   * Stop flag parsing at the first positional, keeping the rest verbatim (runc's
   * `SkipArgReorder`, used by `exec`: `runts exec ID ls -la`).
   */
  stopAtFirstPositional?: boolean;
  /** Returns the process exit code; throws RuntsError on failure. */
  run(ctx: CommandContext): Promise<number>;
}
