/**
 * The config.json that `runts spec` writes: the same content as `runc spec` (runc
 * 1.1's specconv.Example and ToRootless), except `ociVersion` (runts' spec version)
 * and `hostname` ("runts"), plus presets that are explicit edits of that default.
 */
import type { Mount, Spec } from "./types.ts";
import { CAPABILITY_NAMES, isCapabilityName } from "./capabilities.ts";
import { RuntsError } from "../errors.ts";
import { OCI_SPEC_VERSION } from "../version.ts";

/** runc's default capability set: bounding, effective, permitted and ambient. */
const RUNC_DEFAULT_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/**
 * Added by `--writable`: what installing packages as root needs (dpkg/apk chown and
 * chmod files they do not own, keep setuid bits, set file capabilities, create device
 * nodes; apt drops to the `_apt` user and maintainer scripts run useradd/su/chroot).
 */
export const WRITABLE_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_MKNOD",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_SYS_CHROOT",
];

/** Added by `--host-network`: raw sockets (ping, DHCP/ARP tools) on the host network. */
export const HOST_NETWORK_CAPABILITIES = ["CAP_NET_RAW"];

/** Host files bind-mounted read-only by `--host-network`, so DNS and names resolve. */
export const HOST_NETWORK_FILES = ["/etc/resolv.conf", "/etc/hosts"];

/** `runc spec` (specconv.Example), with runts' ociVersion and hostname. */
export function defaultSpec(): Spec {
  return {
    ociVersion: OCI_SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=xterm",
      ],
      cwd: "/",
      capabilities: {
        bounding: [...RUNC_DEFAULT_CAPABILITIES],
        effective: [...RUNC_DEFAULT_CAPABILITIES],
        permitted: [...RUNC_DEFAULT_CAPABILITIES],
        ambient: [...RUNC_DEFAULT_CAPABILITIES],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runts",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      {
        destination: "/dev/mqueue",
        type: "mqueue",
        source: "mqueue",
        options: ["nosuid", "noexec", "nodev"],
      },
      {
        destination: "/sys",
        type: "sysfs",
        source: "sysfs",
        options: ["nosuid", "noexec", "nodev", "ro"],
      },
      {
        destination: "/sys/fs/cgroup",
        type: "cgroup",
        source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: [
        { type: "pid" },
        { type: "network" },
        { type: "ipc" },
        { type: "uts" },
        { type: "mount" },
      ],
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
      ],
      readonlyPaths: [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
      ],
    },
  };
}

/**
 * runc's `ToRootless`: a user namespace mapping container root to the calling user,
 * no network namespace, /sys bind-mounted from the host (sysfs cannot be mounted
 * without owning the network namespace), no uid=/gid= mount options, no cgroup limits.
 */
export function makeRootless(spec: Spec, hostUid: number, hostGid: number): void {
  const linux = spec.linux ??= {};
  const namespaces = (linux.namespaces ?? []).filter((ns) =>
    ns.type !== "network" && ns.type !== "user"
  );
  namespaces.push({ type: "user" });
  // Rebuilt in runc's key order: uidMappings and gidMappings come first.
  const { resources: _dropped, namespaces: _old, ...rest } = linux;
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: hostUid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: hostGid, size: 1 }],
    namespaces,
    ...rest,
  };
  spec.mounts = (spec.mounts ?? []).map((mount): Mount => {
    if (mount.destination.replace(/\/+$/, "") === "/sys") {
      return {
        destination: "/sys",
        type: "none",
        source: "/sys",
        options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
      };
    }
    if (mount.options === undefined) return mount;
    const options = mount.options.filter((o) => !o.startsWith("gid=") && !o.startsWith("uid="));
    return { ...mount, options };
  });
}

/** `--writable`: a writable rootfs, and the capabilities package managers need. */
export function makeWritable(spec: Spec): void {
  spec.root = { ...(spec.root ?? { path: "rootfs" }), readonly: false };
  addCapabilities(spec, WRITABLE_CAPABILITIES);
}

/**
 * `--host-network`: share the host's network namespace and its name resolution files.
 * `hostFileExists` is checked for each file so a missing one is reported here, not as
 * an obscure mount failure at `runts run`.
 */
export function useHostNetwork(
  spec: Spec,
  hostFileExists: (path: string) => boolean = fileExists,
): void {
  const missing = HOST_NETWORK_FILES.filter((path) => !hostFileExists(path));
  if (missing.length > 0) {
    throw new RuntsError(
      `--host-network: host file ${missing.join(" and ")} is missing (or not a regular file); ` +
        "the container bind-mounts it for name resolution (create it, or drop --host-network)",
    );
  }
  const linux = spec.linux ??= {};
  linux.namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== "network");
  spec.mounts ??= [];
  for (const path of HOST_NETWORK_FILES) {
    spec.mounts.push({
      destination: path,
      type: "bind",
      source: path,
      options: ["rbind", "ro", "nosuid", "nodev", "noexec"],
    });
  }
  addCapabilities(spec, HOST_NETWORK_CAPABILITIES);
}

/**
 * Canonical `CAP_` name for a `--cap-add` argument: `net_admin`, `NET_ADMIN` and
 * `CAP_NET_ADMIN` all mean CAP_NET_ADMIN. Throws RuntsError for unknown names.
 */
export function capabilityName(text: string): string {
  const upper = text.trim().toUpperCase();
  const name = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  if (!isCapabilityName(name)) {
    throw new RuntsError(
      `unknown capability "${text}": expected a name like NET_ADMIN or CAP_NET_ADMIN ` +
        `(${CAPABILITY_NAMES[0]} … ${CAPABILITY_NAMES[CAPABILITY_NAMES.length - 1]}, ` +
        "see capabilities(7)), or ALL",
    );
  }
  return name;
}

/** Expands `--cap-add` arguments (with `ALL`) into canonical names. */
export function capabilityNames(texts: readonly string[]): string[] {
  return texts.flatMap((text) =>
    text.trim().toUpperCase() === "ALL" ? [...CAPABILITY_NAMES] : [capabilityName(text)]
  );
}

/**
 * Adds capabilities to the bounding, effective and permitted sets (not inheritable or
 * ambient: those would pass them on to non-root programs across execve).
 */
export function addCapabilities(spec: Spec, names: readonly string[]): void {
  const process = spec.process ??= { user: { uid: 0, gid: 0 }, cwd: "/" };
  const caps = process.capabilities ??= {};
  for (const set of ["bounding", "effective", "permitted"] as const) {
    const list = caps[set] ??= [];
    for (const name of names) if (!list.includes(name)) list.push(name);
  }
}

export interface SpecOptions {
  /** runc's `--rootless`, mapping container root to this host user. */
  rootless?: { uid: number; gid: number };
  writable?: boolean;
  hostNetwork?: boolean;
  /** Extra capabilities (`NET_ADMIN`, `CAP_NET_ADMIN` or `ALL`). */
  capAdd?: readonly string[];
  /** `--no-tty` sets false. */
  terminal?: boolean;
  /** process.args; runc's default is `["sh"]`. */
  args?: readonly string[];
  hostFileExists?: (path: string) => boolean;
}

/** The default spec with the requested presets applied, in a fixed order. */
export function generateSpec(options: SpecOptions = {}): Spec {
  const spec = defaultSpec();
  // Validate names first: a typo must not be reported after other, slower checks.
  const extraCaps = capabilityNames(options.capAdd ?? []);
  if (options.rootless) makeRootless(spec, options.rootless.uid, options.rootless.gid);
  if (options.writable) makeWritable(spec);
  if (options.hostNetwork) useHostNetwork(spec, options.hostFileExists);
  addCapabilities(spec, extraCaps);
  if (options.terminal === false) spec.process!.terminal = false;
  if (options.args !== undefined) spec.process!.args = [...options.args];
  return spec;
}

/** config.json text: 2-space indent and a trailing newline. */
export function renderSpec(spec: Spec): string {
  return JSON.stringify(spec, null, 2) + "\n";
}

/** Writes `<bundle>/config.json`, refusing to replace an existing one (as runc does). */
export async function writeSpecFile(bundle: string, spec: Spec): Promise<string> {
  const path = bundle === "" || bundle === "."
    ? "config.json"
    : `${bundle.replace(/\/+$/, "")}/config.json`;
  let file: Deno.FsFile;
  try {
    // createNew is O_EXCL: no window between an existence check and the write.
    file = await Deno.open(path, { write: true, createNew: true, mode: 0o666 });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new RuntsError(`File ${path} exists. Remove it first`);
    }
    if (err instanceof Deno.errors.NotFound) {
      throw new RuntsError(`cannot write ${path}: bundle directory ${bundle} does not exist`);
    }
    const why = err instanceof Error ? err.message : String(err);
    throw new RuntsError(`cannot write ${path}: ${why}`, { cause: err });
  }
  try {
    const bytes = new TextEncoder().encode(renderSpec(spec));
    let done = 0;
    while (done < bytes.length) done += await file.write(bytes.subarray(done));
  } finally {
    file.close();
  }
  return path;
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
