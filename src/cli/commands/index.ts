/**
 * Every runts command, in `runts --help` order. Command modules are cheap to import
 * (flags and usage only); their `run` loads the real work with a dynamic `import()`.
 */
import type { Command } from "../command.ts";
import { createCommand } from "./create.ts";
import { deleteCommand } from "./delete.ts";
import { eventsCommand } from "./events.ts";
import { execCommand } from "./exec.ts";
import { featuresCommand } from "./features.ts";
import { killCommand } from "./kill.ts";
import { listCommand } from "./list.ts";
import { pauseCommand } from "./pause.ts";
import { psCommand } from "./ps.ts";
import { resumeCommand } from "./resume.ts";
import { runCommand } from "./run.ts";
import { startCommand } from "./start.ts";
import { stateCommand } from "./state.ts";
import { specCommand } from "./spec.ts";
import { updateCommand } from "./update.ts";

export const COMMANDS: Command[] = [
  createCommand,
  deleteCommand,
  eventsCommand,
  execCommand,
  featuresCommand,
  killCommand,
  listCommand,
  pauseCommand,
  psCommand,
  resumeCommand,
  runCommand,
  specCommand,
  startCommand,
  stateCommand,
  updateCommand,
];
