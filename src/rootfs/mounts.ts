/**
 * The container's mounts, emitted as child ops before pivot_root: root propagation,
 * the rootfs bind, each `mounts[]` entry in order (mountpoints created inside the
 * rootfs), the special `cgroup` type.
 */
import { selfMountinfo } from "../linux/mountinfo.ts";
import { RuntsError } from "../errors.ts";
import { MS } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";
import type { Mount } from "../spec/types.ts";
import { bindAttributes, parseMountOptions, rootfsPropagationFlags } from "./mount_options.ts";
import { cleanPath, joinPath, normalizeDestination } from "./paths.ts";

export interface MountContext {
  /** Real path of the rootfs on the host. */
  rootfs: string;
  /** The bundle directory: relative bind sources are relative to it. */
  bundle: string;
  rootfsPropagation?: string;
  /** The container gets a new user namespace (sysfs needs a bind instead). */
  newUserNs: boolean;
  /** The container gets a new network namespace. */
  newNetNs: boolean;
  /** The container gets a new cgroup namespace. */
  newCgroupNs: boolean;
  /** How to mount a `cgroup`-type mount: see cgroup_mount.ts. */
  cgroupMount?: (p: ChildProgram, dest: string, m: Mount, flags: number) => void;
}

/** mount_attr {attr_set, attr_clr, propagation, userns_fd}. */

/** Prepare the mount namespace: root propagation and the rootfs bind onto itself. */
export function emitRootfsBind(p: ChildProgram, ctx: MountContext): void {
  const flags = rootfsPropagationFlags(ctx.rootfsPropagation);
  // Re-applied after pivot_root only when configured (runc: config.RootPropagation != 0).
  if (ctx.rootfsPropagation) p.rootfsPropagation = flags;
  p.op(
    "mount",
    [0, p.s("/"), 0, flags, 0],
    "set propagation of / in the container mount namespace",
  );
  // pivot_root refuses a shared parent mount, and a bind under a shared parent would
  // propagate to the host: runc makes the rootfs' parent mount private when it is shared.
  const parent = mountPointOf(ctx.rootfs);
  if (parentShared(parent.point, parent.shared, flags)) {
    p.op(
      "mount",
      [0, p.s(parent.point), 0, MS.PRIVATE, 0],
      `make ${parent.point} private for pivot_root`,
    );
  }
  p.op(
    "mount",
    [p.s(ctx.rootfs), p.s(ctx.rootfs), p.s("bind"), MS.BIND | MS.REC, 0],
    `bind-mount rootfs ${ctx.rootfs}`,
  );
  p.openRootfs(ctx.rootfs);
}

/** Whether the mount at `point` is shared once `flags` were applied to "/". */
function parentShared(point: string, sharedOnHost: boolean, flags: number): boolean {
  const reaches = point === "/" || (flags & MS.REC) !== 0;
  if (!reaches) return sharedOnHost;
  if (flags & MS.SHARED) return true;
  if (flags & (MS.SLAVE | MS.PRIVATE | MS.UNBINDABLE)) return false;
  return sharedOnHost;
}

/** Where `path` lives in the mount tree: the longest mount point that prefixes it. */
function mountPointOf(path: string): { point: string; shared: boolean } {
  let best = { point: "/", shared: false };
  let bestLen = -1;
  for (const line of selfMountinfo().split("\n")) {
    const fields = line.split(" ");
    const mp = fields[4];
    if (!mp) continue;
    const point = mp.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if (
      (path === point || path.startsWith(point.endsWith("/") ? point : point + "/")) &&
      point.length >= bestLen
    ) {
      // Later lines are mounts stacked on top: ">=" keeps the topmost.
      const optional = fields.slice(6, fields.indexOf("-"));
      best = { point, shared: optional.some((o) => o.startsWith("shared:")) };
      bestLen = point.length;
    }
  }
  return best;
}

/** Each mounts[] entry, in order. */
export function emitMounts(p: ChildProgram, mounts: Mount[], ctx: MountContext): void {
  const mounted: string[] = [];
  mounts.forEach((m, i) => {
    // Symlinks in the rootfs are followed as if it were "/" (runc's securejoin): a link
    // pointing outside can't take the mount out. openat2(RESOLVE_IN_ROOT) guards the rest.
    const dest = resolveInRootfs(ctx.rootfs, normalizeDestination(m.destination), mounted);
    const where = `mounts[${i}] (${m.destination})`;
    const opts = parseMountOptions(m.options, where);
    const bind = opts.bind || m.type === "bind";
    const rel = dest.slice(1);
    if (m.type === "cgroup") {
      if (!ctx.cgroupMount) throw new RuntsError(`${where}: cgroup mounts need the cgroup manager`);
      ensureMountpoint(p, ctx, rel, false, mounted);
      ctx.cgroupMount(p, dest, m, opts.flags);
      mounted.push(dest);
      return;
    }
    if (m.type === "sysfs" && ctx.newUserNs && !ctx.newNetNs) {
      // sysfs can't be mounted from a user namespace that doesn't own the net ns: bind it.
      ensureMountpoint(p, ctx, rel, false, mounted);
      const target = p.target(rel, `open mountpoint ${dest}`);
      p.op("mount", [p.s("/sys"), target, 0, MS.BIND | MS.REC, 0], `bind-mount /sys on ${dest}`);
      p.setMountAttributes(
        rel,
        bindAttributes(opts.flags).set,
        0,
        true,
        `set attributes of ${dest}`,
      );
      mounted.push(dest);
      return;
    }
    let source = m.source ?? "";
    if (bind) {
      if (!source) throw new RuntsError(`${where}: a bind mount needs a source`);
      if (!source.startsWith("/")) source = joinPath(ctx.bundle, source);
      let isDir: boolean;
      try {
        isDir = Deno.statSync(source).isDirectory;
      } catch (e) {
        throw new RuntsError(
          `${where}: bind source ${source}: ${e instanceof Error ? e.message : e}`,
        );
      }
      ensureMountpoint(p, ctx, rel, !isDir, mounted);
      const target = p.target(rel, `open mountpoint ${dest}`);
      p.op(
        "mount",
        [p.s(source), target, 0, MS.BIND | (opts.flags & MS.REC), 0],
        `bind-mount ${source} on ${dest}`,
      );
      const attrs = bindAttributes(opts.flags);
      if (attrs.set !== 0 || attrs.clear !== 0) {
        const what = `remount ${dest} with ${(m.options ?? []).join(",")}`;
        p.setMountAttributes(rel, attrs.set, attrs.clear, false, what);
      }
    } else {
      if (!m.type) throw new RuntsError(`${where}: type is required for a non-bind mount`);
      ensureMountpoint(p, ctx, rel, false, mounted);
      const target = p.target(rel, `open mountpoint ${dest}`);
      p.op("mount", [
        p.s(source || m.type),
        target,
        p.s(m.type),
        opts.flags & ~MS.REMOUNT,
        opts.data ? p.s(opts.data) : 0,
      ], `mount ${m.type} on ${dest}`);
    }
    if (opts.recursive.set !== 0 || opts.recursive.clear !== 0) {
      const { set, clear } = opts.recursive;
      p.setMountAttributes(rel, set, clear, true, `set recursive attributes of ${dest}`);
    }
    if (opts.propagation.length > 0) {
      const target = p.target(rel, `reopen ${dest}`);
      for (const flag of opts.propagation) {
        p.op("mount", [0, target, 0, flag, 0], `set propagation of ${dest}`);
      }
    }
    mounted.push(dest);
  });
}

/**
 * `dest` with the rootfs' symlinks resolved inside the rootfs (absolute targets are
 * relative to the rootfs, ".." stops at its root). Below an earlier container mount
 * the host can't see what the container will: the rest is taken as it is.
 */
export function resolveInRootfs(rootfs: string, dest: string, mounted: string[] = []): string {
  const remaining = dest.split("/").filter((x) => x !== "" && x !== ".");
  const done: string[] = [];
  let links = 0;
  while (remaining.length > 0) {
    const part = remaining.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const cur = "/" + done.join("/");
    if (mounted.some((m) => m === "/" || cur === m || cur.startsWith(m + "/"))) {
      return cleanPath([cur, part, ...remaining].join("/"));
    }
    const hostPath = `${rootfs}${cur === "/" ? "" : cur}/${part}`;
    let target: string | undefined;
    try {
      if (Deno.lstatSync(hostPath).isSymlink) target = Deno.readLinkSync(hostPath);
    } catch {
      return cleanPath([cur, part, ...remaining].join("/"));
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > 255) throw new RuntsError(`mount destination ${dest}: too many symlinks`);
    if (target.startsWith("/")) done.length = 0;
    remaining.unshift(...target.split("/").filter((x) => x !== "" && x !== "."));
  }
  return "/" + done.join("/");
}

/**
 * Create the mountpoint unless it already exists as a plain directory (or file) in the
 * host's view of the rootfs and no earlier container mount covers it.
 */
function ensureMountpoint(
  p: ChildProgram,
  ctx: MountContext,
  rel: string,
  isFile: boolean,
  mounted: string[],
): void {
  const dest = "/" + rel;
  const covered = mounted.some((m) => m === "/" || dest.startsWith(m + "/"));
  if (!covered && existsWithoutSymlinks(ctx.rootfs, rel, isFile)) return;
  if (isFile) p.touchInRoot(rel);
  else p.mkdirAll(rel);
}

function existsWithoutSymlinks(rootfs: string, rel: string, isFile: boolean): boolean {
  const parts = rel.split("/").filter((x) => x);
  let path = rootfs;
  for (let i = 0; i < parts.length; i++) {
    path += "/" + parts[i];
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(path);
    } catch {
      return false;
    }
    const last = i === parts.length - 1;
    if (st.isSymlink) return false;
    if (!last && !st.isDirectory) return false;
    if (last) return isFile ? st.isFile : st.isDirectory;
  }
  return !isFile;
}
