/** `runts pause`: freeze every process of the container (cgroup freezer). */
import type { Command } from "../command.ts";

export const pauseCommand: Command = {
  name: "pause",
  summary: "pause suspends all processes inside the container",
  usage: "<container-id>",
  description: `The pause command suspends all processes in the instance of the container.

Use runts list to identify instances of containers and their current status.`,
  flags: [],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { pauseContainer } = await import("../../container/pause.ts");
    return pauseContainer(ctx.global.root, ctx.positionals[0]);
  },
};
