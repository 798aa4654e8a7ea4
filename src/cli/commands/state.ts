/** `runts state`: the container's OCI state as JSON. */
import type { Command } from "../command.ts";

export const stateCommand: Command = {
  name: "state",
  summary: "output the state of a container",
  usage: "<container-id>",
  flags: [],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { stateOf } = await import("../../container/state.ts");
    console.log(JSON.stringify(stateOf(ctx.global.root, ctx.positionals[0]), null, "  "));
    return 0;
  },
};
