/** `runts list`: all containers under --root. */
import type { Command } from "../command.ts";
import { UsageError } from "../args.ts";

export const listCommand: Command = {
  name: "list",
  aliases: ["ls"],
  summary: "lists containers started by runts with the given root",
  usage: "[command options]",
  flags: [
    {
      name: "format",
      short: "f",
      type: "string",
      description: "select one of: table or json",
      default: "table",
    },
    { name: "quiet", short: "q", type: "boolean", description: "display only container IDs" },
  ],
  positionals: { min: 0, max: 0, names: [] },
  async run(ctx) {
    const format = ctx.flags.string("format") ?? "table";
    if (format !== "table" && format !== "json") {
      throw new UsageError(`invalid format option "${format}"`);
    }
    const { formatTable, listContainers } = await import("../../container/state.ts");
    const { ociState } = await import("../../container/status.ts");
    const rows = listContainers(ctx.global.root);
    if (ctx.flags.bool("quiet")) {
      for (const r of rows) console.log(r.record.id);
    } else if (format === "json") {
      console.log(JSON.stringify(rows.map((r) => ociState(r.record, r.status))));
    } else {
      await Deno.stdout.write(new TextEncoder().encode(formatTable(rows)));
    }
    return 0;
  },
};
