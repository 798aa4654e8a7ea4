/**
 * Switch the child's root to the rootfs: pivot_root(".", ".") then detach the old
 * root (runc's trick, no temporary directory needed), or MS_MOVE + chroot with
 * --no-pivot (for rootfs on ramfs, where pivot_root is impossible).
 */
import { MNT_DETACH, MS } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";

export function emitPivotRoot(p: ChildProgram, rootfs: string, noPivot: boolean): void {
  p.op("chdir", [p.s(rootfs)], `chdir to rootfs ${rootfs}`);
  if (noPivot) {
    p.op("mount", [p.s(rootfs), p.s("/"), 0, MS.MOVE, 0], "move the rootfs onto / (--no-pivot)");
    p.op("chroot", [p.s(".")], "chroot into the rootfs (--no-pivot)");
  } else {
    p.op("pivot_root", [p.s("."), p.s(".")], "pivot_root into the rootfs");
    // Keep the unmount of the old root from propagating back to the host.
    p.op("mount", [0, p.s("."), 0, MS.SLAVE | MS.REC, 0], "make the old root a slave");
    p.op("umount2", [p.s("."), MNT_DETACH], "detach the old root");
  }
  p.op("chdir", [p.s("/")], "chdir to / in the container");
}
