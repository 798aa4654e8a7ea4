/**
 * /dev inside the container, as runc sets it up when /dev is not bind-mounted from
 * the host: the default device nodes plus linux.devices, the /dev/fd & std* links,
 * and /dev/ptmx pointing at the container's own devpts.
 */
import { ERRNO } from "../linux/errno.ts";
import { AT, makedev, MS, O, S_IF } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";
import type { LinuxDevice, Mount } from "../spec/types.ts";
import { basename, cleanPath, dirname } from "./paths.ts";

/** The devices every container gets (runc's defaults). */
export const DEFAULT_DEVICES: LinuxDevice[] = [
  { path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/full", type: "c", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/random", type: "c", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/urandom", type: "c", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/tty", type: "c", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

/** runc sets up /dev itself unless the config bind-mounts /dev from elsewhere. */
export function needsDevSetup(mounts: Mount[] = []): boolean {
  return !mounts.some((m) =>
    cleanPath("/" + m.destination) === "/dev" &&
    (m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind"))
  );
}

/** Defaults merged with linux.devices (a config entry for the same path wins). */
export function containerDevices(configured: LinuxDevice[] = []): LinuxDevice[] {
  const paths = new Set(configured.map((d) => cleanPath(d.path)));
  return [...DEFAULT_DEVICES.filter((d) => !paths.has(d.path)), ...configured];
}

function typeBits(type: string): number {
  switch (type) {
    case "b":
      return S_IF.BLK;
    case "p":
      return S_IF.FIFO;
    default: // "c" and "u" (unbuffered character device)
      return S_IF.CHR;
  }
}

/**
 * Create the device nodes. In a user namespace mknod is not allowed, so the host's
 * node is bind-mounted instead, as runc does.
 */
export function emitDevices(p: ChildProgram, devices: LinuxDevice[], inUserNs: boolean): void {
  const dirfd = p.cell();
  for (const d of devices) {
    const path = cleanPath(d.path);
    const rel = path.slice(1);
    const dir = dirname(path).slice(1);
    const name = basename(path);
    const what = `create device ${path}`;
    if (inUserNs) {
      p.touchInRoot(rel);
      const target = p.target(rel, what);
      p.op("mount", [p.s(path), target, 0, MS.BIND, 0], `bind-mount host device ${path}`);
      continue;
    }
    p.mkdirAll(dir);
    p.openInRoot(dir, dirfd, what, O.PATH | O.DIRECTORY | O.CLOEXEC);
    const mode = typeBits(d.type) | ((d.fileMode ?? 0o666) & 0o7777);
    const dev = d.type === "p" ? 0n : makedev(d.major ?? 0, d.minor ?? 0);
    p.op("mknodat", [{ load: dirfd }, p.s(name), mode, dev], what, { ignore: ERRNO.EEXIST });
    p.op(
      "fchownat",
      [{ load: dirfd }, p.s(name), d.uid ?? 0, d.gid ?? 0, AT.SYMLINK_NOFOLLOW],
      `chown device ${path}`,
    );
    p.close(dirfd, what);
  }
}

/** /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx → pts/ptmx. */
export function emitDevLinks(p: ChildProgram, hasKcore: boolean): void {
  const dev = p.cell();
  p.openInRoot("dev", dev, "open /dev in the rootfs", O.PATH | O.DIRECTORY | O.CLOEXEC);
  const links: [string, string][] = [
    ["/proc/self/fd", "fd"],
    ["/proc/self/fd/0", "stdin"],
    ["/proc/self/fd/1", "stdout"],
    ["/proc/self/fd/2", "stderr"],
  ];
  if (hasKcore) links.push(["/proc/kcore", "core"]);
  for (const [target, name] of links) {
    p.op("symlinkat", [p.s(target), { load: dev }, p.s(name)], `symlink /dev/${name}`, {
      ignore: ERRNO.EEXIST,
    });
  }
  p.op("unlinkat", [{ load: dev }, p.s("ptmx"), 0], "remove /dev/ptmx", { ignore: ERRNO.ENOENT });
  p.op("symlinkat", [p.s("pts/ptmx"), { load: dev }, p.s("ptmx")], "symlink /dev/ptmx to pts/ptmx");
  p.close(dev, "close /dev");
}
