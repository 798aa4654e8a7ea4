/** `runts spec`: write a starter config.json (runc's default, plus opt-in presets). */
import type { Command } from "../command.ts";

const DESCRIPTION = `The spec command creates the new specification file named "config.json" for
the bundle, with the same content "runc spec" writes (ociVersion "1.3.0",
hostname "runts"). It refuses to overwrite an existing config.json.

The default is locked down: read-only rootfs, its own network namespace, and only
CAP_AUDIT_WRITE, CAP_KILL and CAP_NET_BIND_SERVICE. Presets edit that default:

  --writable      root.readonly = false, and adds the capabilities installing
                  packages as root needs: CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER,
                  CAP_FSETID, CAP_MKNOD, CAP_SETGID, CAP_SETUID, CAP_SETFCAP,
                  CAP_SETPCAP, CAP_SYS_CHROOT (apt drops to the _apt user; dpkg
                  chowns, chmods and setcaps the files it installs).
  --host-network  no network namespace (the host's network), the host's
                  /etc/resolv.conf and /etc/hosts bind-mounted read-only, and
                  CAP_NET_RAW (ping).

Together, --writable --host-network give Docker's default capability set, enough
for "apt-get update && apt-get install -y ruby" in a Debian rootfs.
--cap-add adds to the bounding, effective and permitted sets (never ambient).

Example:
    mkdir -p bundle/rootfs && cd bundle
    # fill rootfs, e.g.: docker export $(docker create debian) | tar -C rootfs -x
    runts spec --writable --host-network --args bash
    runts run demo`;

export const specCommand: Command = {
  name: "spec",
  summary: "create a new specification file",
  usage: "[command options]",
  description: DESCRIPTION,
  flags: [
    {
      name: "bundle",
      short: "b",
      type: "string",
      description: "path to the root of the bundle directory",
      default: ".",
    },
    {
      name: "rootless",
      type: "boolean",
      description: "generate a configuration for a rootless container",
    },
    {
      name: "writable",
      type: "boolean",
      description: "writable rootfs, plus the capabilities package managers need (see above)",
    },
    {
      name: "host-network",
      type: "boolean",
      description: "use the host's network, /etc/resolv.conf and /etc/hosts (see above)",
    },
    {
      name: "cap-add",
      type: "strings",
      valueName: "CAP",
      description: "add a capability, e.g. NET_ADMIN or CAP_NET_ADMIN (ALL for every one)",
    },
    { name: "no-tty", type: "boolean", description: "set process.terminal to false" },
    {
      name: "args",
      type: "rest",
      valueName: "ARG",
      description: "process.args: every argument after --args (default: sh)",
    },
  ],
  positionals: { min: 0, max: 0, names: [] },
  async run(ctx) {
    const { generateSpec, writeSpecFile } = await import("../../spec/generate.ts");
    const { flags } = ctx;
    const args = flags.has("args") ? flags.strings("args") : undefined;
    const spec = generateSpec({
      rootless: flags.bool("rootless") ? { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 } : undefined,
      writable: flags.bool("writable"),
      hostNetwork: flags.bool("host-network"),
      capAdd: flags.strings("cap-add"),
      terminal: !flags.bool("no-tty"),
      args,
    });
    const path = await writeSpecFile(flags.string("bundle") ?? "", spec);
    ctx.log.debug(`wrote ${path}`);
    return 0;
  },
};
