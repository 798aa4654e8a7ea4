/** `runts events`: stats and OOM events of a container as JSON lines. */
import type { Command } from "../command.ts";

export const eventsCommand: Command = {
  name: "events",
  summary:
    "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
  usage: "[command options] <container-id>",
  description: `The events command displays information about the container. By default the
information is displayed once every 5 seconds.`,
  flags: [
    {
      name: "interval",
      type: "string",
      description: "set the stats collection interval",
      default: "5s",
    },
    { name: "stats", type: "boolean", description: "display the container's stats then exit" },
  ],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { parseGoDuration } = await import("../../container/duration.ts");
    const { containerEvents } = await import("../../container/events.ts");
    const intervalMs = parseGoDuration(ctx.flags.string("interval") ?? "5s", "interval");
    return await containerEvents(ctx.global.root, ctx.positionals[0], {
      stats: ctx.flags.bool("stats"),
      intervalMs,
      emit: (line) => console.log(line),
      warn: (m) => ctx.log.warn(m),
    });
  },
};
