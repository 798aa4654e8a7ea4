/**
 * How a container's namespaces are made: joined ones (linux.namespaces[].path) are
 * entered with setns first (user first, mount last, as runc's nsexec), new ones are
 * created with unshare — user before the rest so they are owned by it — and a new
 * or joined pid namespace takes effect in a forked child, which becomes the init.
 */
import { RuntsError } from "../errors.ts";
import { CLONE } from "./constants.ts";
import type { LinuxNamespace, LinuxNamespaceType } from "../spec/types.ts";

export const NAMESPACE_FLAG: Record<LinuxNamespaceType, number> = {
  mount: CLONE.NEWNS,
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** Names under /proc/<pid>/ns/. */
export const NAMESPACE_PROC_NAME: Record<LinuxNamespaceType, string> = {
  mount: "mnt",
  pid: "pid",
  network: "net",
  uts: "uts",
  ipc: "ipc",
  user: "user",
  cgroup: "cgroup",
  time: "time",
};

export interface NamespacePlan {
  /** Flags for the clone() that starts the child: a new user and pid namespace. */
  cloneFlags: number;
  /** A pid namespace runts joins around clone() (setns on its own thread). */
  parentJoinPid?: string;
  /** setns in the child, in this order. */
  join: { type: LinuxNamespaceType; path: string }[];
  newUser: boolean;
  /** unshare() flags after the cgroup join (never user or pid). */
  unshareFlags: number;
  /**
   * With a joined user namespace, a new or joined pid namespace must be entered after
   * it: the child forks, and the grandchild is the init.
   */
  fork: boolean;
  has: (type: LinuxNamespaceType) => boolean;
  isNew: (type: LinuxNamespaceType) => boolean;
}

const JOIN_ORDER: LinuxNamespaceType[] = [
  "user",
  "ipc",
  "uts",
  "network",
  "pid",
  "cgroup",
  "time",
  "mount",
];

export function planNamespaces(namespaces: LinuxNamespace[] = []): NamespacePlan {
  const byType = new Map<LinuxNamespaceType, LinuxNamespace>();
  for (const ns of namespaces) {
    if (!Object.hasOwn(NAMESPACE_FLAG, ns.type)) {
      throw new RuntsError(`linux.namespaces: unknown type "${ns.type}"`);
    }
    if (byType.has(ns.type)) throw new RuntsError(`linux.namespaces: duplicate type "${ns.type}"`);
    byType.set(ns.type, ns);
  }
  if (byType.has("time")) {
    throw new RuntsError(`linux.namespaces: the "time" namespace is not supported by runts`);
  }
  const isNew = (t: LinuxNamespaceType) => byType.has(t) && !byType.get(t)!.path;
  const userJoined = byType.has("user") && !isNew("user");
  const pidPath = byType.get("pid")?.path;
  const parentJoinPid = pidPath && !userJoined ? pidPath : undefined;
  const join = JOIN_ORDER.filter((t) => byType.get(t)?.path && !(t === "pid" && parentJoinPid))
    .map((t) => ({ type: t, path: byType.get(t)!.path! }));
  let unshareFlags = 0;
  for (const t of ["mount", "uts", "ipc", "network", "cgroup"] as LinuxNamespaceType[]) {
    if (isNew(t)) unshareFlags |= NAMESPACE_FLAG[t];
  }
  let cloneFlags = 0;
  if (isNew("user")) cloneFlags |= CLONE.NEWUSER;
  if (isNew("pid") && !userJoined) cloneFlags |= CLONE.NEWPID;
  return {
    cloneFlags,
    parentJoinPid,
    join,
    newUser: isNew("user"),
    unshareFlags,
    fork: userJoined && byType.has("pid"),
    has: (t) => byType.has(t),
    isNew,
  };
}
