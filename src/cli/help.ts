/** `--help` and `--version` texts, laid out like runc's (urfave/cli) help. */
import type { FlagSpec } from "./args.ts";
import type { Command } from "./command.ts";
import { HELP_FLAG, TOP_LEVEL_FLAGS } from "./global.ts";
import { OCI_SPEC_VERSION, RUNTS_VERSION } from "../version.ts";

/** Exactly three lines: runts', the OCI spec's and Deno's version. */
export function versionText(): string {
  return `runts version ${RUNTS_VERSION}\nspec: ${OCI_SPEC_VERSION}\ndeno: ${Deno.version.deno}\n`;
}

const INDENT = "   ";

/** Two columns, the first padded to its widest entry (as urfave/cli's tabwriter does). */
function columns(rows: Array<[string, string]>): string {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${INDENT}${left.padEnd(width)}  ${right}`.trimEnd())
    .join("\n");
}

function flagLabel(flag: FlagSpec): string {
  const value = flag.type === "boolean"
    ? ""
    : flag.type === "rest"
    ? ` ${flag.valueName ?? "value"}...`
    : ` ${flag.valueName ?? "value"}`;
  const names = [`--${flag.name}${value}`];
  if (flag.short !== undefined) names.push(`-${flag.short}${value}`);
  return names.join(", ");
}

function flagDescription(flag: FlagSpec): string {
  let text = flag.description;
  if (flag.type === "strings") text += " (may be repeated)";
  if (flag.default !== undefined && flag.default !== false) {
    const shown = typeof flag.default === "string" ? JSON.stringify(flag.default) : flag.default;
    text += ` (default: ${shown})`;
  }
  return text;
}

function flagTable(flags: readonly FlagSpec[]): string {
  return columns(flags.filter((f) => !f.hidden).map((f) => [flagLabel(f), flagDescription(f)]));
}

function indentBlock(text: string): string {
  return text.split("\n").map((line) => (line === "" ? "" : INDENT + line)).join("\n");
}

export function topLevelHelp(commands: readonly Command[]): string {
  const commandRows: Array<[string, string]> = commands.map((c) => [
    [c.name, ...(c.aliases ?? [])].join(", "),
    c.summary,
  ]);
  commandRows.push(["help, h", "Shows a list of commands or help for one command"]);
  return [
    "NAME:",
    `${INDENT}runts - Open Container Initiative runtime (a drop-in for runc, in TypeScript)`,
    "",
    "USAGE:",
    `${INDENT}runts [global options] command [command options] [arguments...]`,
    "",
    "VERSION:",
    indentBlock(versionText().trimEnd()),
    "",
    "COMMANDS:",
    columns(commandRows),
    "",
    "GLOBAL OPTIONS:",
    flagTable(TOP_LEVEL_FLAGS),
    "",
    "Global options go before the command name; runts also accepts them after it,",
    "unless the command has a flag of the same name.",
    "",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  const names = [command.name, ...(command.aliases ?? [])].join(", ");
  const lines = [
    "NAME:",
    `${INDENT}runts ${names} - ${command.summary}`,
    "",
    "USAGE:",
    `${INDENT}runts ${command.name} ${command.usage}`.trimEnd(),
    "",
  ];
  if (command.description !== undefined) {
    lines.push("DESCRIPTION:", indentBlock(command.description.trimEnd()), "");
  }
  lines.push("OPTIONS:", flagTable([...command.flags, HELP_FLAG]), "");
  return lines.join("\n");
}
