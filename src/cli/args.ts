/**
 * A small declarative argv parser with runc's (urfave/cli v1 + Go `flag`) semantics:
 * `--name value`, `--name=value`, `-name value`, short aliases (`-d`), booleans
 * (`--detach`, `--detach=false`), repeatable string flags, flags before or after
 * positionals until `--`, and "rest" flags that swallow every remaining argument.
 * Own parser because `node:util`'s costs ~12 ms of start-up.
 */
import { RuntsError } from "../errors.ts";

/**
 * - `boolean`: `--flag`, `--flag=true|false` (never takes the next argument, as in Go)
 * - `string`: one value; the last occurrence wins
 * - `strings`: repeatable, every occurrence is kept in order
 * - `rest`: takes all remaining arguments (`runts spec --args sh -c 'echo hi'`)
 */
export type FlagType = "boolean" | "string" | "strings" | "rest";

export interface FlagSpec {
  /** Long name without dashes, e.g. `bundle`. */
  name: string;
  /** One-letter alias without dash, e.g. `b`. */
  short?: string;
  type: FlagType;
  description: string;
  /** Shown in help only; the command applies its own defaults. */
  default?: string | number | boolean;
  /** Placeholder in help (`--bundle value`); defaults to `value`. */
  valueName?: string;
  /** Accepted but not listed in help. */
  hidden?: boolean;
}

export type FlagValue = boolean | string | string[];

/** A wrong command line: the CLI prints it with a `--help` hint. */
export class UsageError extends RuntsError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed flag values, read through typed accessors that catch misspelt names. */
export class ParsedFlags {
  readonly #values: Map<string, FlagValue>;
  readonly #specs: Map<string, FlagSpec>;

  constructor(specs: readonly FlagSpec[], values: Map<string, FlagValue>) {
    this.#specs = new Map(specs.map((spec) => [spec.name, spec]));
    this.#values = values;
  }

  /** The declaration behind `name`, if any (tells a command's flag from a global one). */
  declaration(name: string): FlagSpec | undefined {
    return this.#specs.get(name);
  }

  /** Whether the flag was given on the command line. */
  has(name: string): boolean {
    this.#spec(name);
    return this.#values.has(name);
  }

  bool(name: string): boolean {
    this.#spec(name, "boolean");
    return this.#values.get(name) === true;
  }

  string(name: string): string | undefined {
    this.#spec(name, "string");
    return this.#values.get(name) as string | undefined;
  }

  /** Values of a `strings` (repeatable) or `rest` flag; empty when absent. */
  strings(name: string): string[] {
    const spec = this.#spec(name);
    if (spec.type !== "strings" && spec.type !== "rest") {
      throw new Error(`flag --${name} is ${spec.type}, not a list`);
    }
    return [...((this.#values.get(name) as string[] | undefined) ?? [])];
  }

  /** A `string` flag holding a non-negative integer (e.g. `--preserve-fds 2`). */
  int(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw)) {
      throw new UsageError(`invalid value "${raw}" for flag --${name}: not a non-negative integer`);
    }
    return Number(raw);
  }

  #spec(name: string, type?: FlagType): FlagSpec {
    const spec = this.#specs.get(name);
    // Programming errors, not user errors: a command asked for a flag it never declared.
    if (spec === undefined) throw new Error(`flag --${name} is not declared`);
    if (type !== undefined && spec.type !== type) {
      throw new Error(`flag --${name} is ${spec.type}, not ${type}`);
    }
    return spec;
  }
}

export interface ParseOptions {
  /** Used in messages: `unknown flag --x for "runts run"`. */
  commandLabel: string;
  /**
   * Stop parsing flags at the first positional and return it and everything after it
   * verbatim (runc's `SkipArgReorder`: `runts exec ID ls -la`, and the global
   * parser, which stops at the command name).
   */
  stopAtFirstPositional?: boolean;
}

export interface ParsedArgs {
  flags: ParsedFlags;
  positionals: string[];
}

/** Go's strconv.ParseBool, which urfave/cli uses for `--flag=value` booleans. */
export function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

/** Parses `argv` against `specs`; throws UsageError naming the problem. */
export function parseArgs(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  options: ParseOptions,
): ParsedArgs {
  const byName = flagLookup(specs);
  const values = new Map<string, FlagValue>();
  const positionals: string[] = [];
  const hint = `(see "${options.commandLabel} --help")`;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (options.stopAtFirstPositional) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }

    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    const spec = byName.get(name);
    if (spec === undefined) {
      throw new UsageError(`unknown flag ${arg} for "${options.commandLabel}" ${hint}`);
    }
    const shown = `--${spec.name}`;

    switch (spec.type) {
      case "boolean": {
        if (inline === undefined) {
          values.set(spec.name, true);
          break;
        }
        const parsed = parseGoBool(inline);
        if (parsed === undefined) {
          throw new UsageError(
            `invalid value "${inline}" for boolean flag ${shown}: use true or false ${hint}`,
          );
        }
        values.set(spec.name, parsed);
        break;
      }
      case "string":
      case "strings": {
        let value = inline;
        if (value === undefined) {
          // As in Go's flag package, the next argument is the value even if it starts with "-".
          if (i + 1 >= argv.length) {
            throw new UsageError(`flag ${shown} needs a value ${hint}`);
          }
          value = argv[++i];
        }
        if (spec.type === "string") values.set(spec.name, value);
        else values.set(spec.name, [...((values.get(spec.name) as string[]) ?? []), value]);
        break;
      }
      case "rest": {
        const rest = inline === undefined ? argv.slice(i + 1) : [inline, ...argv.slice(i + 1)];
        if (rest.length === 0) {
          throw new UsageError(`flag ${shown} needs at least one value ${hint}`);
        }
        values.set(spec.name, rest);
        i = argv.length;
        break;
      }
    }
  }
  return { flags: new ParsedFlags(specs, values), positionals };
}

/** Positional-argument contract of a command: `max` may be Infinity. */
export interface PositionalSpec {
  min: number;
  max: number;
  /** Names for usage and errors, e.g. `["<container-id>"]`. */
  names: string[];
}

/** Throws UsageError when the number of positionals is outside `spec`. */
export function checkPositionals(
  commandLabel: string,
  spec: PositionalSpec,
  positionals: readonly string[],
): void {
  const count = positionals.length;
  if (count >= spec.min && count <= spec.max) return;
  const names = spec.names.length > 0 ? ` (${spec.names.join(" ")})` : "";
  let expected: string;
  if (spec.min === spec.max) expected = `exactly ${plural(spec.min)}`;
  else if (count < spec.min) expected = `at least ${plural(spec.min)}`;
  else expected = `at most ${plural(spec.max)}`;
  const got = count === 0 ? "none" : positionals.map((p) => JSON.stringify(p)).join(" ");
  throw new UsageError(
    `"${commandLabel}" requires ${expected}${names}, got ${got} (see "${commandLabel} --help")`,
  );
}

function plural(n: number): string {
  return n === 1 ? "1 argument" : `${n} arguments`;
}

function flagLookup(specs: readonly FlagSpec[]): Map<string, FlagSpec> {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) {
    for (const key of spec.short === undefined ? [spec.name] : [spec.name, spec.short]) {
      if (byName.has(key)) throw new Error(`flag name ${key} declared twice`);
      byName.set(key, spec);
    }
  }
  return byName;
}
