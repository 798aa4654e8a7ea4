/** `runts kill`: send a signal to the container's init (or, with --all, every process). */
import type { Command } from "../command.ts";

export const killCommand: Command = {
  name: "kill",
  summary: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  usage: "[command options] <container-id> [signal]",
  description: `Signals may be names (KILL, SIGKILL) or numbers (9).`,
  flags: [
    {
      name: "all",
      short: "a",
      type: "boolean",
      description: "send the specified signal to all processes inside the container",
    },
  ],
  positionals: { min: 1, max: 2, names: ["<container-id>", "[signal]"] },
  async run(ctx) {
    const { killContainer } = await import("../../container/kill.ts");
    const [id, signal = "SIGTERM"] = ctx.positionals;
    return killContainer(ctx.global.root, id, signal, ctx.flags.bool("all"));
  },
};
