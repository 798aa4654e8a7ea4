/** `runts resume`: thaw a paused container. */
import type { Command } from "../command.ts";

export const resumeCommand: Command = {
  name: "resume",
  summary: "resumes all processes that have been previously paused",
  usage: "<container-id>",
  description: `The resume command resumes all processes in the instance of the container.

Use runts list to identify instances of containers and their current status.`,
  flags: [],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { resumeContainer } = await import("../../container/resume.ts");
    return resumeContainer(ctx.global.root, ctx.positionals[0]);
  },
};
