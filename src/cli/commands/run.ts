/** `runts run`: create and start a container in one step (runc's flags). */
import type { Command, CommandContext } from "../command.ts";
import type { FlagSpec } from "../args.ts";

/** Flags `run` shares with `create`. */
export const CREATE_FLAGS: FlagSpec[] = [
  {
    name: "bundle",
    short: "b",
    type: "string",
    description: "path to the root of the bundle directory, defaults to the current directory",
  },
  {
    name: "console-socket",
    type: "string",
    description: "path to an AF_UNIX socket which will receive the master end of the console's pty",
  },
  { name: "pid-file", type: "string", description: "specify the file to write the process id to" },
  {
    name: "no-pivot",
    type: "boolean",
    description: "do not use pivot root to jail process inside rootfs (for a rootfs on a ramdisk)",
  },
  {
    name: "no-new-keyring",
    type: "boolean",
    description: "do not create a new session keyring for the container",
  },
  {
    name: "preserve-fds",
    type: "string",
    valueName: "N",
    description: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N)",
    default: 0,
  },
];

/** Options common to run and create, from the parsed flags. */
export function createOptions(ctx: CommandContext) {
  const f = ctx.flags;
  const listenFds = parseInt(Deno.env.get("LISTEN_FDS") ?? "0", 10) || 0;
  return {
    id: ctx.positionals[0],
    bundle: f.string("bundle") || ".",
    root: ctx.global.root,
    consoleSocket: f.string("console-socket"),
    pidFile: f.string("pid-file"),
    noPivot: f.bool("no-pivot"),
    noNewKeyring: f.bool("no-new-keyring"),
    preserveFds: (f.int("preserve-fds") ?? 0) + listenFds,
    listenFds,
    systemdCgroup: ctx.global.systemdCgroup,
    rootless: ctx.global.rootless === "true" ||
      (ctx.global.rootless === "auto" && Deno.uid() !== 0),
    warn: (m: string) => ctx.log.warn(m),
  };
}

export const runCommand: Command = {
  name: "run",
  summary: "create and run a container",
  usage: "[command options] <container-id>",
  description: `The run command creates an instance of a container for a bundle and starts it.
The container's exit status becomes runts' exit status (128+N if killed by signal N).
Unless --keep, the container is deleted when its process ends.`,
  flags: [
    ...CREATE_FLAGS,
    {
      name: "detach",
      short: "d",
      type: "boolean",
      description: "detach from the container's process",
    },
    { name: "keep", type: "boolean", description: "do not delete the container after it exits" },
    {
      name: "no-subreaper",
      type: "boolean",
      description:
        "accepted for runc compatibility; runts reaps reparented processes only while it waits",
    },
  ],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { runContainer } = await import("../../container/run.ts");
    return await runContainer({
      ...createOptions(ctx),
      detach: ctx.flags.bool("detach"),
      keep: ctx.flags.bool("keep"),
    });
  },
};
