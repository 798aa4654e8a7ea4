/**
 * `runMain(argv)`: global flags, command lookup, `--help`/`--version`, and the one place
 * errors become the `runts: <message>` last line of stderr and exit code 1.
 */
import { checkPositionals, type FlagSpec, parseArgs, type ParsedFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import {
  GLOBAL_OPTION_FLAGS,
  HELP_FLAG,
  processEnvironment,
  resolveGlobalOptions,
  TOP_LEVEL_FLAGS,
} from "./global.ts";
import { commandHelp, topLevelHelp, versionText } from "./help.ts";
import { log, type Logger } from "./log.ts";
import { ConfigError, RuntsError } from "../errors.ts";

const encoder = new TextEncoder();

function printStdout(text: string): void {
  const bytes = encoder.encode(text);
  let done = 0;
  while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
}

export function findCommand(name: string, commands: readonly Command[] = COMMANDS) {
  return commands.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

/** Command flags, `--help`, and the global flags whose names the command does not use. */
export function commandFlagSpecs(command: Command): FlagSpec[] {
  const taken = new Set<string>();
  for (const flag of command.flags) {
    taken.add(flag.name);
    if (flag.short !== undefined) taken.add(flag.short);
  }
  const extra = [HELP_FLAG, ...GLOBAL_OPTION_FLAGS].filter((flag) =>
    !taken.has(flag.name) && (flag.short === undefined || !taken.has(flag.short))
  );
  return [...command.flags, ...extra];
}

/** Runs one runts invocation; returns the exit code. */
export async function runMain(argv: readonly string[]): Promise<number> {
  let debug = argv.includes("--debug") || argv.includes("-debug");
  try {
    const top = parseArgs(argv, TOP_LEVEL_FLAGS, {
      commandLabel: "runts",
      stopAtFirstPositional: true,
    });
    const env = processEnvironment();
    const early = resolveGlobalOptions([top.flags], env);
    debug = early.debug;
    log.configure({ file: early.log, format: early.logFormat, debug: early.debug });

    if (top.flags.bool("version")) {
      printStdout(versionText());
      return 0;
    }
    const [name, ...rest] = top.positionals;
    if (name === undefined || top.flags.bool("help")) {
      printStdout(topLevelHelp(COMMANDS));
      return 0;
    }
    if (name === "help" || name === "h") return help(rest[0]);

    const command = findCommand(name);
    if (command === undefined) {
      throw new RuntsError(`unknown command "${name}" (see "runts --help")`);
    }
    const label = `runts ${command.name}`;
    let flags: ParsedFlags;
    let positionals: string[];
    try {
      ({ flags, positionals } = parseArgs(rest, commandFlagSpecs(command), {
        commandLabel: label,
        stopAtFirstPositional: command.stopAtFirstPositional,
      }));
    } catch (err) {
      if (wantsHelp(rest)) return help(command.name);
      throw err;
    }
    if (flags.bool("help")) return help(command.name);

    const global = resolveGlobalOptions([top.flags, flags], env);
    debug = global.debug;
    log.configure({ file: global.log, format: global.logFormat, debug: global.debug });
    checkPositionals(label, command.positionals, positionals);
    log.debug(`${label}: ${JSON.stringify(positionals)}`);
    return await command.run({ flags, positionals, global, log });
  } catch (err) {
    reportError(err, debug);
    return 1;
  }
}

function help(commandName: string | undefined): number {
  if (commandName === undefined) {
    printStdout(topLevelHelp(COMMANDS));
    return 0;
  }
  const command = findCommand(commandName);
  if (command === undefined) {
    throw new RuntsError(`no help topic for "${commandName}" (see "runts --help")`);
  }
  printStdout(commandHelp(command));
  return 0;
}

/** `-h`/`--help` before `--`, so a broken command line can still ask for help. */
function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) =>
    ["-h", "--help", "-help", "--h"].includes(arg)
  );
}

/** Prints and logs an error; the last stderr line is always `runts: <message>`. */
export function reportError(err: unknown, debug: boolean, logger: Logger = log): void {
  if (err instanceof ConfigError) {
    // One `runts:` line per problem on stderr, one log entry holding them all.
    logger.error(err.problems.join("\n"));
    return;
  }
  if (debug && err instanceof Error && err.stack) logger.stderr(err.stack);
  logger.error(err instanceof Error ? err.message : String(err));
}
