/** runc's global flags (`runc --help`) and their resolution into GlobalOptions. */
import { type FlagSpec, type ParsedFlags, parseGoBool, UsageError } from "./args.ts";
import type { GlobalOptions } from "./command.ts";

export const HELP_FLAG: FlagSpec = {
  name: "help",
  short: "h",
  type: "boolean",
  description: "show help",
};

export const VERSION_FLAG: FlagSpec = {
  name: "version",
  short: "v",
  type: "boolean",
  description: "print the version",
};

/** Global flags that also make sense after the command name (`runts state --root X ID`). */
export const GLOBAL_OPTION_FLAGS: FlagSpec[] = [
  { name: "debug", type: "boolean", description: "enable debug logging" },
  {
    name: "log",
    type: "string",
    description: "set the log file to write runts logs to (default is '/dev/stderr')",
  },
  {
    name: "log-format",
    type: "string",
    description: "set the log format ('text' (default), or 'json')",
    default: "text",
  },
  {
    name: "root",
    type: "string",
    description: "root directory for storage of container state (this should be located in " +
      "tmpfs; $XDG_RUNTIME_DIR/runts when not root)",
    default: "/run/runts",
  },
  {
    // Accepted because go-runc (containerd) forwards it whenever a CRIU path is configured;
    // refusing it would fail every command, not just checkpoint/restore.
    name: "criu",
    type: "string",
    description: "path to the criu binary (accepted for runc compatibility; unused)",
    default: "criu",
  },
  {
    name: "systemd-cgroup",
    type: "boolean",
    description:
      'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name"' +
      ' for e.g. "system.slice:runts:434234"',
  },
  {
    name: "rootless",
    type: "string",
    description: "ignore cgroup permission errors ('true', 'false', or 'auto')",
    default: "auto",
  },
];

/** Every flag accepted before the command name. */
export const TOP_LEVEL_FLAGS: FlagSpec[] = [...GLOBAL_OPTION_FLAGS, HELP_FLAG, VERSION_FLAG];

/** What the environment contributes to the defaults (injected by tests). */
export interface GlobalEnvironment {
  uid: number;
  cwd: string;
  xdgRuntimeDir?: string;
}

export function processEnvironment(): GlobalEnvironment {
  return { uid: Deno.uid() ?? 0, cwd: Deno.cwd(), xdgRuntimeDir: Deno.env.get("XDG_RUNTIME_DIR") };
}

/**
 * Resolves global options from `sources` in order (flags before the command name, then
 * after it): later values win; flags a command declares itself are skipped.
 */
export function resolveGlobalOptions(
  sources: readonly ParsedFlags[],
  env: GlobalEnvironment,
): GlobalOptions {
  const pick = <T>(read: (flags: ParsedFlags) => T | undefined, name: string): T | undefined => {
    const global = GLOBAL_OPTION_FLAGS.find((flag) => flag.name === name);
    let value: T | undefined;
    for (const flags of sources) {
      // A command's own flag of the same name (`runts spec --rootless`) is not the global one.
      if (flags.declaration(name) === global && flags.has(name)) value = read(flags);
    }
    return value;
  };
  const str = (name: string) => pick((f) => f.string(name), name);
  const bool = (name: string) => pick((f) => f.bool(name), name) ?? false;

  const logFormat = str("log-format") ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(`invalid --log-format "${logFormat}": use "text" or "json"`);
  }

  const rootlessText = str("rootless") ?? "auto";
  let rootless: GlobalOptions["rootless"];
  if (rootlessText === "auto") rootless = "auto";
  else {
    const parsed = parseGoBool(rootlessText);
    if (parsed === undefined) {
      throw new UsageError(`invalid --rootless "${rootlessText}": use "true", "false" or "auto"`);
    }
    rootless = parsed ? "true" : "false";
  }

  const log = str("log");
  return {
    root: absolutePath(str("root") ?? defaultRoot(env), env.cwd),
    log: log === undefined || log === "" ? undefined : absolutePath(log, env.cwd),
    logFormat,
    debug: bool("debug"),
    systemdCgroup: bool("systemd-cgroup"),
    rootless,
    criu: str("criu") ?? "criu",
  };
}

/** runc's rule: root uses /run; others their XDG runtime dir when it is set. */
export function defaultRoot(env: GlobalEnvironment): string {
  if (env.uid !== 0 && env.xdgRuntimeDir) return `${env.xdgRuntimeDir}/runts`;
  return "/run/runts";
}

/** Makes `path` absolute against `cwd` and removes `.`, `..` and repeated slashes. */
export function absolutePath(path: string, cwd: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}
