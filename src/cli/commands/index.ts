/**
 * Every runts command, in `runts --help` order. Command modules are cheap to import
 * (flags and usage only); their `run` loads the real work with a dynamic `import()`.
 */
import type { Command } from "../command.ts";
import { runCommand } from "./run.ts";
import { specCommand } from "./spec.ts";

export const COMMANDS: Command[] = [
  runCommand,
  specCommand,
];
