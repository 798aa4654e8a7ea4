/** `runts exec`: run a new process inside a running container (runc's flags). */
import type { Command } from "../command.ts";
import { UsageError } from "../args.ts";

export const execCommand: Command = {
  name: "exec",
  summary: "execute new process inside the container",
  usage:
    "[command options] <container-id> <command> [command options]  ||  -p process.json <container-id>",
  stopAtFirstPositional: true,
  flags: [
    {
      name: "console-socket",
      type: "string",
      description: "path to an AF_UNIX socket which will receive the pty master",
    },
    { name: "cwd", type: "string", description: "current working directory in the container" },
    { name: "env", short: "e", type: "strings", description: "set environment variables" },
    { name: "tty", short: "t", type: "boolean", description: "allocate a pseudo-TTY" },
    { name: "user", short: "u", type: "string", description: "UID (format: <uid>[:<gid>])" },
    { name: "additional-gids", short: "g", type: "strings", description: "additional gids" },
    {
      name: "process",
      short: "p",
      type: "string",
      description: "path to the process.json (- for stdin)",
    },
    {
      name: "detach",
      short: "d",
      type: "boolean",
      description: "detach from the container's process",
    },
    {
      name: "pid-file",
      type: "string",
      description: "specify the file to write the process id to",
    },
    {
      name: "process-label",
      type: "string",
      description: "SELinux label (refused: runts has no SELinux support)",
    },
    {
      name: "apparmor",
      type: "string",
      description: "AppArmor profile (refused: runts has no AppArmor support)",
    },
    {
      name: "no-new-privs",
      type: "boolean",
      description: "set the no new privileges value for the process",
    },
    {
      name: "cap",
      short: "c",
      type: "strings",
      description: "add a capability to the bounding set for the process",
    },
    {
      name: "preserve-fds",
      type: "string",
      valueName: "N",
      description: "pass N additional file descriptors",
      default: 0,
    },
    {
      name: "cgroup",
      type: "strings",
      description: "sub-cgroup (refused: runts runs exec'd processes in the container's cgroup)",
    },
    { name: "ignore-paused", type: "boolean", description: "allow exec in a paused container" },
  ],
  positionals: { min: 1, max: Infinity, names: ["<container-id>", "[command...]"] },
  async run(ctx) {
    const f = ctx.flags;
    for (const refused of ["process-label", "apparmor"]) {
      if (f.string(refused)) throw new UsageError(`--${refused} is not supported by runts`);
    }
    if (f.strings("cgroup").length) throw new UsageError("--cgroup is not supported by runts");
    const { execInContainer } = await import("../../container/exec.ts");
    const [id, ...args] = ctx.positionals;
    return await execInContainer({
      root: ctx.global.root,
      id,
      processFile: f.string("process"),
      args,
      tty: f.bool("tty"),
      cwd: f.string("cwd"),
      env: f.strings("env"),
      user: f.string("user"),
      additionalGids: f.strings("additional-gids").flatMap((g) => g.split(",")),
      caps: f.strings("cap"),
      noNewPrivs: f.bool("no-new-privs"),
      detach: f.bool("detach"),
      pidFile: f.string("pid-file"),
      consoleSocket: f.string("console-socket"),
      preserveFds: f.int("preserve-fds") ?? 0,
      ignorePaused: f.bool("ignore-paused"),
      warn: (m) => ctx.log.warn(m),
    });
  },
};
