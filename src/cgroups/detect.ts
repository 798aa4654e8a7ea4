/**
 * Which cgroup hierarchies this host has: parsed from /proc/self/mountinfo (mount
 * points and roots) and /proc/self/cgroup (the runtime's own cgroups, which
 * relative cgroupsPath values are resolved against).
 */
import { selfMountinfo } from "../linux/mountinfo.ts";
import { RuntsError } from "../errors.ts";
import type { CgroupMode } from "./types.ts";

/** v1 controllers runts knows; other super options of a cgroup mount are flags. */
const V1_CONTROLLERS = new Set([
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "devices",
  "freezer",
  "net_cls",
  "net_prio",
  "blkio",
  "perf_event",
  "hugetlb",
  "pids",
  "rdma",
  "misc",
  "debug",
]);

export interface CgroupMount {
  mountpoint: string;
  /** Path inside the hierarchy that is mounted there (not "/" in some containers). */
  root: string;
  /** v1: controllers and "name=..." of the hierarchy; v2: []. */
  controllers: string[];
}

export interface CgroupMounts {
  v1: CgroupMount[];
  unified?: CgroupMount;
}

/** Undo mountinfo's octal escapes (\040 for space, ...). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** cgroup and cgroup2 mounts from /proc/self/mountinfo text; the first mount of each wins. */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const result: CgroupMounts = { v1: [] };
  const seen = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const post = line.slice(sep + 3).split(" ");
    const fsType = post[0];
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const mount: CgroupMount = {
      root: unescapeMountField(pre[3]),
      mountpoint: unescapeMountField(pre[4]),
      controllers: [],
    };
    if (fsType === "cgroup2") {
      result.unified ??= mount;
      continue;
    }
    mount.controllers = (post[2] ?? "").split(",").filter((o) =>
      V1_CONTROLLERS.has(o) || o.startsWith("name=")
    );
    const key = mount.controllers.join(",");
    if (mount.controllers.length === 0 || seen.has(key)) continue;
    seen.add(key);
    result.v1.push(mount);
  }
  return result;
}

/** /proc/<pid>/cgroup text -> controller (or "" for the v2 line) -> path in that hierarchy. */
export function parseProcCgroup(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const path = line.slice(second + 1);
    const names = line.slice(first + 1, second);
    if (names === "") result.set("", path);
    else for (const name of names.split(",")) result.set(name, path);
  }
  return result;
}

export interface CgroupHost {
  mode: CgroupMode;
  /** v1 controller (or "name=systemd") -> mount point. */
  v1Controllers: Map<string, string>;
  unifiedMount?: string;
  /** Controllers available at the root of the unified hierarchy. */
  v2Controllers: string[];
  mounts: CgroupMounts;
  /** The runtime's own cgroups (/proc/self/cgroup). */
  ownCgroups: Map<string, string>;
}

/** Classify already-read texts (pure; for tests and for detectCgroupMode). */
export function describeCgroupHost(
  mountinfo: string,
  procSelfCgroup: string,
  readControllers: (unifiedMount: string) => string,
): CgroupHost {
  const mounts = parseCgroupMounts(mountinfo);
  const v1Controllers = new Map<string, string>();
  for (const m of mounts.v1) for (const c of m.controllers) v1Controllers.set(c, m.mountpoint);
  const hasV1 = [...v1Controllers.keys()].some((c) => !c.startsWith("name="));
  let mode: CgroupMode;
  if (hasV1) mode = mounts.unified ? "hybrid" : "v1";
  else if (mounts.unified) mode = "v2";
  else throw new RuntsError("cgroup: no cgroup or cgroup2 file system is mounted");
  const unifiedMount = mounts.unified?.mountpoint;
  let v2Controllers: string[] = [];
  if (unifiedMount !== undefined) {
    v2Controllers = readControllers(unifiedMount).split(/\s+/).filter((c) => c !== "");
  }
  return {
    mode,
    v1Controllers,
    unifiedMount,
    v2Controllers,
    mounts,
    ownCgroups: parseProcCgroup(procSelfCgroup),
  };
}

let cached: CgroupHost | undefined;

/** This host's cgroup layout (read once per process). */
export function detectCgroupHost(): CgroupHost {
  cached ??= describeCgroupHost(
    selfMountinfo(),
    Deno.readTextFileSync("/proc/self/cgroup"),
    (mount) => {
      try {
        return Deno.readTextFileSync(`${mount}/cgroup.controllers`);
      } catch {
        return "";
      }
    },
  );
  return cached;
}

export function detectCgroupMode(): {
  mode: CgroupMode;
  v1Controllers: Map<string, string>;
  unifiedMount?: string;
  v2Controllers: string[];
} {
  const { mode, v1Controllers, unifiedMount, v2Controllers } = detectCgroupHost();
  return { mode, v1Controllers, unifiedMount, v2Controllers };
}
