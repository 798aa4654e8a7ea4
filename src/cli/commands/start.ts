/** `runts start`: run the program of a created container. */
import type { Command } from "../command.ts";

export const startCommand: Command = {
  name: "start",
  summary: "executes the user defined process in a created container",
  usage: "<container-id>",
  flags: [],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { startContainer } = await import("../../container/start.ts");
    return await startContainer(ctx.global.root, ctx.positionals[0], (m) => ctx.log.warn(m));
  },
};
