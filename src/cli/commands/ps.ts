/** `runts ps`: the processes of a container (host pids), as a ps table or JSON. */
import type { Command } from "../command.ts";
import { UsageError } from "../args.ts";

export const psCommand: Command = {
  name: "ps",
  summary: "ps displays the processes running inside a container",
  usage: "[command options] <container-id> [ps options]",
  description: `Without --format json, runs the host's "ps" with the given options (default: -ef)
and prints its header and the lines of the container's processes; the options must
keep a PID column. With --format json, prints the host pids as a JSON array.
Example: runts ps ID -o pid,stat,args`,
  flags: [
    {
      name: "format",
      short: "f",
      type: "string",
      description: "select one of: table or json",
      default: "table",
    },
  ],
  positionals: { min: 1, max: Infinity, names: ["<container-id>", "[ps options]"] },
  stopAtFirstPositional: true,
  async run(ctx) {
    const format = ctx.flags.string("format") ?? "table";
    if (format !== "table" && format !== "json") {
      throw new UsageError(`invalid format option "${format}"`);
    }
    const { psContainer } = await import("../../container/ps.ts");
    const [id, ...psArgs] = ctx.positionals;
    const text = await psContainer(ctx.global.root, id, format, psArgs);
    const bytes = new TextEncoder().encode(text);
    let done = 0;
    while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
    return 0;
  },
};
