/**
 * Switch the child's root to the rootfs: pivot_root(".", ".") then detach the old
 * root (runc's trick, no temporary directory needed), or MS_MOVE + chroot with
 * --no-pivot (for rootfs on ramfs, where pivot_root is impossible). Then the
 * configured rootfsPropagation is applied to the new "/", as runc does.
 */
import { MNT_DETACH, MS, O } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";

export function emitPivotRoot(p: ChildProgram, rootfs: string, noPivot: boolean): void {
  if (noPivot) {
    p.op("chdir", [p.s(rootfs)], `chdir to rootfs ${rootfs}`);
    p.op("mount", [p.s(rootfs), p.s("/"), 0, MS.MOVE, 0], "move the rootfs onto / (--no-pivot)");
    p.op("chroot", [p.s(".")], "chroot into the rootfs (--no-pivot)");
  } else {
    // After pivot_root(".", ".") the old root is stacked on the new one, and "." (the
    // cwd) is the *new* root: the rslave + detach must go through a reference to the
    // old root, or the new root's mounts would all be turned into slaves.
    const oldRoot = p.cell();
    p.op("openat", [-100, p.s("/"), O.PATH | O.DIRECTORY | O.CLOEXEC], "open the old root", {
      store: oldRoot,
    });
    p.op("chdir", [p.s(rootfs)], `chdir to rootfs ${rootfs}`);
    p.op("pivot_root", [p.s("."), p.s(".")], "pivot_root into the rootfs");
    p.op("fchdir", [{ load: oldRoot }], "chdir to the old root");
    p.close(oldRoot, "close the old root");
    // Keep the unmount of the old root from propagating back to the host.
    p.op("mount", [0, p.s("."), 0, MS.SLAVE | MS.REC, 0], "make the old root a slave");
    p.op("umount2", [p.s("."), MNT_DETACH], "detach the old root");
  }
  p.op("chdir", [p.s("/")], "chdir to / in the container");
  // Done here, on the final "/", so a shared root can't affect the host's mounts;
  // private was already arranged before the rootfs bind (runc skips it too).
  const flags = p.rootfsPropagation;
  if (flags !== undefined && (flags & MS.PRIVATE) === 0) {
    p.op("mount", [0, p.s("/"), 0, flags, 0], "set propagation of the container's /");
  }
}
