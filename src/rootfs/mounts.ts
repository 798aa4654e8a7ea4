/**
 * The container's mounts, emitted as child ops before pivot_root: root propagation,
 * the rootfs bind, each `mounts[]` entry in order (mountpoints created inside the
 * rootfs), the special `cgroup` type.
 */
import { RuntsError } from "../errors.ts";
import { AT, MS } from "../linux/constants.ts";
import { type ChildProgram, TARGET_FD } from "../linux/child.ts";
import type { Mount } from "../spec/types.ts";
import { bindAttributes, parseMountOptions, rootfsPropagationFlags } from "./mount_options.ts";
import { joinPath, normalizeDestination } from "./paths.ts";

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
function mountAttr(p: ChildProgram, set: number, clear: number) {
  return p.u64s([set, clear, 0, 0]);
}

/** Prepare the mount namespace: root propagation and the rootfs bind onto itself. */
export function emitRootfsBind(p: ChildProgram, ctx: MountContext): void {
  const flags = rootfsPropagationFlags(ctx.rootfsPropagation);
  p.op(
    "mount",
    [0, p.s("/"), 0, flags, 0],
    "set propagation of / in the container mount namespace",
  );
  if ((flags & MS.SHARED) !== 0) {
    // pivot_root refuses a shared parent mount; runc makes the rootfs' parent private.
    const parent = mountPointOf(ctx.rootfs);
    p.op("mount", [0, p.s(parent), 0, MS.PRIVATE, 0], `make ${parent} private for pivot_root`);
  }
  p.op(
    "mount",
    [p.s(ctx.rootfs), p.s(ctx.rootfs), p.s("bind"), MS.BIND | MS.REC, 0],
    `bind-mount rootfs ${ctx.rootfs}`,
  );
  p.openRootfs(ctx.rootfs);
}

/** Where `path` lives in the mount tree: the longest mount point that prefixes it. */
function mountPointOf(path: string): string {
  let best = "/";
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const mp = line.split(" ")[4];
    if (!mp) continue;
    const point = mp.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if (
      (path === point || path.startsWith(point.endsWith("/") ? point : point + "/")) &&
      point.length > best.length
    ) {
      best = point;
    }
  }
  return best;
}

/** Each mounts[] entry, in order. */
export function emitMounts(p: ChildProgram, mounts: Mount[], ctx: MountContext): void {
  const mounted: string[] = [];
  mounts.forEach((m, i) => {
    const dest = normalizeDestination(m.destination);
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
      p.target(rel, `reopen ${dest}`);
      p.op("mount_setattr", [
        TARGET_FD,
        p.s(""),
        AT.EMPTY_PATH | AT.RECURSIVE,
        mountAttr(p, bindAttributes(opts.flags).set, 0),
        32,
      ], `set attributes of ${dest}`);
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
        p.target(rel, `reopen ${dest}`);
        p.op("mount_setattr", [
          TARGET_FD,
          p.s(""),
          AT.EMPTY_PATH,
          mountAttr(p, attrs.set, attrs.clear),
          32,
        ], `remount ${dest} with ${(m.options ?? []).join(",")}`);
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
      p.target(rel, `reopen ${dest}`);
      p.op("mount_setattr", [
        TARGET_FD,
        p.s(""),
        AT.EMPTY_PATH | AT.RECURSIVE,
        mountAttr(p, opts.recursive.set, opts.recursive.clear),
        32,
      ], `set recursive attributes of ${dest}`);
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
