/** `runts update`: change a running container's resource limits. */
import type { Command, FlagSpec } from "../command.ts";

const VALUE_FLAGS: [string, string][] = [
  ["blkio-weight", "Specifies per cgroup weight, range is from 10 to 1000"],
  ["cpu-period", "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"],
  ["cpu-quota", "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"],
  ["cpu-share", "CPU shares (relative weight vs. other containers)"],
  [
    "cpu-rt-period",
    "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default",
  ],
  ["cpu-rt-runtime", "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"],
  ["cpuset-cpus", "CPU(s) to use"],
  ["cpuset-mems", "Memory node(s) to use"],
  ["memory", "Memory limit (in bytes)"],
  ["memory-reservation", "Memory reservation or soft_limit (in bytes)"],
  ["memory-swap", "Total memory usage (memory + swap); set '-1' to enable unlimited swap"],
  ["pids-limit", "Maximum number of pids allowed in the container"],
  ["l3-cache-schema", "The string of Intel RDT/CAT L3 cache schema (not supported: refused)"],
  ["mem-bw-schema", "The string of Intel RDT/MBA memory bandwidth schema (not supported: refused)"],
];

const HIDDEN_FLAGS: [string, string][] = [
  ["cpu-shares", "alias of --cpu-share"],
  ["kernel-memory", "(obsoleted; refused)"],
  ["kernel-memory-tcp", "(obsoleted; refused)"],
];

export const updateCommand: Command = {
  name: "update",
  summary: "update container resource constraints",
  usage: "[command options] <container-id>",
  description: `The accepted format of --resources is a LinuxResources object (unchanged values
can be omitted), e.g. {"memory": {"limit": 0, "reservation": 0, "swap": 0}, "cpu": {"shares": 0,
"quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0, "cpus": "", "mems": ""},
"blockIO": {"weight": 0}, "pids": {"limit": 0}}.

Note: if data is to be read from a file or the standard input, all other options are ignored.`,
  flags: [
    {
      name: "resources",
      short: "r",
      type: "string",
      description:
        "path to the file containing the resources to update or '-' to read from the standard input",
    },
    ...VALUE_FLAGS.map(([name, description]): FlagSpec => ({ name, type: "string", description })),
    ...HIDDEN_FLAGS.map(([name, description]): FlagSpec => ({
      name,
      type: "string",
      description,
      hidden: true,
    })),
  ],
  positionals: { min: 1, max: 1, names: ["<container-id>"] },
  async run(ctx) {
    const { parseResourcesJSON, resourcesFromFlags } = await import(
      "../../container/update_resources.ts"
    );
    const { updateContainer } = await import("../../container/update.ts");
    const file = ctx.flags.string("resources");
    let resources;
    if (file !== undefined) {
      const text = file === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(file);
      resources = parseResourcesJSON(text, file === "-" ? "standard input" : file);
    } else {
      const values: Record<string, string | undefined> = {};
      for (const [name] of [...VALUE_FLAGS, ...HIDDEN_FLAGS]) values[name] = ctx.flags.string(name);
      resources = resourcesFromFlags(values);
    }
    return updateContainer(ctx.global.root, ctx.positionals[0], resources);
  },
};
