/**
 * Where a container's cgroup lives in each hierarchy: runc's rules.
 *
 * - cgroupsPath "/a/b" (absolute): <mountpoint>/a/b in every hierarchy.
 * - cgroupsPath "a/b" (relative): below the runtime's own cgroup in that hierarchy,
 *   as listed in /proc/self/cgroup (runc uses its own cgroup, not pid 1's).
 * - empty: "/<defaultParent>/<id>" when a default parent is configured, else (runc)
 *   "<id>" relative to the runtime's own cgroup.
 * ".." can never climb out: paths are cleaned as if rooted (runc's CleanPath).
 */
import { RuntsError } from "../errors.ts";
import type { CgroupHost } from "./detect.ts";

/** Lexical clean; a relative path stays relative but cannot start with "..". */
export function cleanPath(path: string): string {
  if (path === "") return "";
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? "/" + joined : joined;
}

/** The cgroup path inside each hierarchy: absolute ("/a/b") or relative ("a/b"). */
export function innerCgroupPath(
  cfg: { id: string; cgroupsPath?: string; defaultParent?: string },
): string {
  const given = cleanPath(cfg.cgroupsPath ?? "");
  if (given !== "" && given !== "/") return given;
  if (given === "/") throw new RuntsError('cgroup: cgroupsPath "/" names the root cgroup');
  const id = cleanPath(cfg.id);
  if (id === "" || id.includes("/")) {
    throw new RuntsError(`cgroup: container id ${JSON.stringify(cfg.id)} is not a cgroup name`);
  }
  if (cfg.defaultParent !== undefined && cleanPath(cfg.defaultParent) !== "") {
    return cleanPath("/" + cfg.defaultParent + "/" + id);
  }
  return id;
}

export interface SystemdCgroupsPath {
  slice: string;
  prefix: string;
  name: string;
}

/** "slice:prefix:name" of --systemd-cgroup (empty → runc's defaults: system.slice, runc). */
export function parseSystemdCgroupsPath(cgroupsPath: string, id: string): SystemdCgroupsPath {
  if (cgroupsPath === "") return { slice: "system.slice", prefix: "runts", name: id };
  const parts = cgroupsPath.split(":");
  if (parts.length !== 3) {
    throw new RuntsError(
      `cgroup: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${
        JSON.stringify(cgroupsPath)
      }`,
    );
  }
  return { slice: parts[0] || "system.slice", prefix: parts[1], name: parts[2] };
}

function joinPath(...parts: string[]): string {
  return cleanPath(parts.join("/"));
}

/** Path relative to `root` ("/" when equal), for mounts of a sub-tree of a hierarchy. */
function relativeTo(path: string, root: string): string {
  if (root === "/" || root === "") return path;
  if (path === root) return "/";
  if (path.startsWith(root + "/")) return path.slice(root.length);
  // Own cgroup outside the mounted sub-tree: runc also just joins.
  return path;
}

/**
 * controller (v1 names, "name=systemd", and "unified" for the cgroup2 hierarchy
 * on hybrid or v2 hosts) -> absolute directory of the container's cgroup.
 */
export function hierarchyPaths(host: CgroupHost, inner: string): Record<string, string> {
  const absolute = inner.startsWith("/");
  const paths: Record<string, string> = {};
  const place = (mountpoint: string, root: string, own: string | undefined, key: string) => {
    if (absolute) return joinPath(mountpoint, inner);
    if (own === undefined) {
      throw new RuntsError(
        `cgroup: cannot resolve relative cgroupsPath ${
          JSON.stringify(inner)
        }: /proc/self/cgroup has no ${key} entry`,
      );
    }
    return joinPath(mountpoint, relativeTo(own, root), inner);
  };
  if (host.mode !== "v2") {
    for (const mount of host.mounts.v1) {
      for (const controller of mount.controllers) {
        paths[controller] = place(
          mount.mountpoint,
          mount.root,
          host.ownCgroups.get(controller),
          controller,
        );
      }
    }
  }
  const unified = host.mounts.unified;
  if (unified) {
    paths.unified = place(unified.mountpoint, unified.root, host.ownCgroups.get(""), "0::");
  }
  return paths;
}
