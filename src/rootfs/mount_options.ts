/**
 * Turns a mount's `options` list into what the kernel takes: mount(2) flags, the
 * fs-specific data string, propagation changes and mount_setattr(2) attributes.
 * Pure: unit-tested without root.
 */
import { RuntsError } from "../errors.ts";
import { MOUNT_ATTR, MS } from "../linux/constants.ts";

export interface ParsedMountOptions {
  /** Flags for mount(2). */
  flags: number;
  /** Comma-joined options the kernel passes to the filesystem (e.g. "mode=755,size=65536k"). */
  data: string;
  /** MS_SHARED/MS_PRIVATE/... (| MS_REC), applied one after another after mounting. */
  propagation: number[];
  /** Attributes for the recursive ("rro", "rnosuid", ...) options, via mount_setattr(AT_RECURSIVE). */
  recursive: { set: number; clear: number };
  bind: boolean;
}

/** [set, clear] pairs for mount(2) flag options, as runc's table. */
export const FLAG_OPTIONS: Record<string, [number, number]> = {
  async: [0, MS.SYNCHRONOUS],
  atime: [0, MS.NOATIME],
  bind: [MS.BIND, 0],
  defaults: [0, 0],
  dev: [0, MS.NODEV],
  diratime: [0, MS.NODIRATIME],
  dirsync: [MS.DIRSYNC, 0],
  exec: [0, MS.NOEXEC],
  lazytime: [MS.LAZYTIME, 0],
  loud: [0, MS.SILENT],
  mand: [MS.MANDLOCK, 0],
  noatime: [MS.NOATIME, 0],
  nodev: [MS.NODEV, 0],
  nodiratime: [MS.NODIRATIME, 0],
  noexec: [MS.NOEXEC, 0],
  nolazytime: [0, MS.LAZYTIME],
  nomand: [0, MS.MANDLOCK],
  norelatime: [0, MS.RELATIME],
  nostrictatime: [0, MS.STRICTATIME],
  nosuid: [MS.NOSUID, 0],
  nosymfollow: [MS.NOSYMFOLLOW, 0],
  rbind: [MS.BIND | MS.REC, 0],
  relatime: [MS.RELATIME, 0],
  remount: [MS.REMOUNT, 0],
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  silent: [MS.SILENT, 0],
  strictatime: [MS.STRICTATIME, 0],
  suid: [0, MS.NOSUID],
  symfollow: [0, MS.NOSYMFOLLOW],
  sync: [MS.SYNCHRONOUS, 0],
};

export const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** [set, clear] mount_setattr attributes of the recursive options (runtime-spec 1.1+). */
export const RECURSIVE_OPTIONS: Record<string, [number, number]> = {
  rro: [MOUNT_ATTR.RDONLY, 0],
  rrw: [0, MOUNT_ATTR.RDONLY],
  rnosuid: [MOUNT_ATTR.NOSUID, 0],
  rsuid: [0, MOUNT_ATTR.NOSUID],
  rnodev: [MOUNT_ATTR.NODEV, 0],
  rdev: [0, MOUNT_ATTR.NODEV],
  rnoexec: [MOUNT_ATTR.NOEXEC, 0],
  rexec: [0, MOUNT_ATTR.NOEXEC],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, 0],
  rdiratime: [0, MOUNT_ATTR.NODIRATIME],
  rrelatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR.ATIME_MASK],
  rnorelatime: [0, 0],
  rnoatime: [MOUNT_ATTR.NOATIME, MOUNT_ATTR.ATIME_MASK],
  ratime: [0, MOUNT_ATTR.NOATIME],
  rstrictatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR.ATIME_MASK],
  rnostrictatime: [0, 0],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0],
  rsymfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
};

/** Options runc knows that runts refuses rather than ignores. */
const REFUSED: Record<string, string> = {
  tmpcopyup: "copying the image content into a tmpfs is not supported by runts",
  idmap: "idmapped mounts are not supported by runts",
  ridmap: "idmapped mounts are not supported by runts",
};

export function parseMountOptions(options: string[] = [], where = "mount"): ParsedMountOptions {
  let flags = 0;
  const data: string[] = [];
  const propagation: number[] = [];
  const recursive = { set: 0, clear: 0 };
  for (const o of options) {
    if (o in REFUSED) throw new RuntsError(`${where}: option "${o}": ${REFUSED[o]}`);
    const f = FLAG_OPTIONS[o];
    if (f) {
      flags = (flags | f[0]) & ~f[1];
      continue;
    }
    const p = PROPAGATION_OPTIONS[o];
    if (p !== undefined) {
      propagation.push(p);
      continue;
    }
    const r = RECURSIVE_OPTIONS[o];
    if (r) {
      recursive.set = (recursive.set & ~r[1]) | r[0];
      // The kernel takes the atime bits of attr_clr only all together (else EINVAL),
      // and a set bit must not be cleared again.
      const atime = (r[0] | r[1]) & MOUNT_ATTR.ATIME_MASK ? MOUNT_ATTR.ATIME_MASK : 0;
      recursive.clear = (recursive.clear | r[1] | atime) & ~(r[0] & ~atime);
      continue;
    }
    data.push(o);
  }
  return { flags, data: data.join(","), propagation, recursive, bind: (flags & MS.BIND) !== 0 };
}

/** mount_setattr attributes equivalent to the per-mount flags of a bind remount. */
export function bindAttributes(flags: number): { set: number; clear: number } {
  let set = 0;
  if (flags & MS.RDONLY) set |= MOUNT_ATTR.RDONLY;
  if (flags & MS.NOSUID) set |= MOUNT_ATTR.NOSUID;
  if (flags & MS.NODEV) set |= MOUNT_ATTR.NODEV;
  if (flags & MS.NOEXEC) set |= MOUNT_ATTR.NOEXEC;
  if (flags & MS.NODIRATIME) set |= MOUNT_ATTR.NODIRATIME;
  if (flags & MS.NOSYMFOLLOW) set |= MOUNT_ATTR.NOSYMFOLLOW;
  let clear = 0;
  if (flags & (MS.NOATIME | MS.STRICTATIME | MS.RELATIME)) {
    clear |= MOUNT_ATTR.ATIME_MASK;
    if (flags & MS.NOATIME) set |= MOUNT_ATTR.NOATIME;
    else if (flags & MS.STRICTATIME) set |= MOUNT_ATTR.STRICTATIME;
  }
  return { set, clear };
}

const ROOTFS_PROPAGATION: Record<string, number> = {
  ...PROPAGATION_OPTIONS,
};

/** linux.rootfsPropagation → flags for mount("", "/", ...); runc's default is rslave. */
export function rootfsPropagationFlags(value: string | undefined): number {
  if (value === undefined || value === "") return MS.SLAVE | MS.REC;
  const f = ROOTFS_PROPAGATION[value];
  if (f === undefined) throw new RuntsError(`linux.rootfsPropagation: unknown value "${value}"`);
  return f;
}
