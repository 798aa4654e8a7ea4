/** `runts delete`: remove a stopped container (or any, with --force). */
import type { Command } from "../command.ts";

export const deleteCommand: Command = {
  name: "delete",
  aliases: ["del", "rm"],
  summary: "delete any resources held by the container often used with detached container",
  usage: "[command options] <container-id>",
  flags: [
    {
      name: "force",
      short: "f",
      type: "boolean",
      description: "forcibly deletes the container if it is still running (uses SIGKILL)",
    },
  ],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { deleteContainer } = await import("../../container/delete.ts");
    return await deleteContainer(
      ctx.global.root,
      ctx.positionals[0],
      ctx.flags.bool("force"),
      (m) => ctx.log.warn(m),
    );
  },
};
