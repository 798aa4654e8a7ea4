/**
 * Every runts command, in `runts --help` order. Command modules are cheap to import
 * (flags and usage only); their `run` loads the real work with a dynamic `import()`.
 */
import type { Command } from "../command.ts";
import { createCommand } from "./create.ts";
import { deleteCommand } from "./delete.ts";
import { execCommand } from "./exec.ts";
import { killCommand } from "./kill.ts";
import { listCommand } from "./list.ts";
import { psCommand } from "./ps.ts";
import { runCommand } from "./run.ts";
import { startCommand } from "./start.ts";
import { stateCommand } from "./state.ts";
import { specCommand } from "./spec.ts";

export const COMMANDS: Command[] = [
  createCommand,
  deleteCommand,
  execCommand,
  killCommand,
  listCommand,
  psCommand,
  runCommand,
  specCommand,
  startCommand,
  stateCommand,
];
