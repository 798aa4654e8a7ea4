/** `runts create`: set the container up, its process waiting for `runts start`. */
import type { Command } from "../command.ts";
import { CREATE_FLAGS, createOptions } from "./run.ts";

export const createCommand: Command = {
  name: "create",
  summary: "create a container",
  usage: "[command options] <container-id>",
  description: `The create command creates an instance of a container for a bundle. Its process
waits, set up and ready, until "runts start" lets it run the program in process.args.`,
  flags: CREATE_FLAGS,
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { createContainer } = await import("../../container/create.ts");
    return await createContainer(createOptions(ctx));
  },
};
