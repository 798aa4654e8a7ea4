/**
 * After pivot_root: read-only paths, masked paths and the read-only root, as runc.
 * Paths are container paths now; resolution can't leave the new root.
 */
import { ERRNO } from "../linux/errno.ts";
import { AT, MOUNT_ATTR, MS } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";

function setReadOnly(p: ChildProgram, path: string, flags: number, what: string, ignore?: number) {
  const attr = p.u64s([MOUNT_ATTR.RDONLY, 0, 0, 0]);
  p.op("mount_setattr", [AT.FDCWD, p.s(path), flags, attr, 32], what, { ignore });
}

export function emitReadonlyPaths(p: ChildProgram, paths: string[]): void {
  for (const path of paths) {
    p.op(
      "mount",
      [p.s(path), p.s(path), 0, MS.BIND | MS.REC, 0],
      `bind ${path} for readonlyPaths`,
      {
        ignore: ERRNO.ENOENT,
      },
    );
    setReadOnly(p, path, 0, `make ${path} read-only`, ERRNO.ENOENT);
  }
}

/** /dev/null over files, a read-only empty tmpfs over directories; missing paths skipped. */
export function emitMaskedPaths(p: ChildProgram, paths: string[]): void {
  for (const path of paths) {
    const isDir = p.label();
    const done = p.label();
    p.op("mount", [p.s("/dev/null"), p.s(path), 0, MS.BIND, 0], `mask ${path}`, {
      ignore: ERRNO.ENOENT,
      onErrno: { errno: ERRNO.ENOTDIR, to: isDir },
    });
    // getpid() is never 0: an unconditional jump over the directory case.
    p.op("getpid", [], "masked path done", { jumpIfNonzero: done });
    p.bind(isDir);
    p.op("mount", [p.s("tmpfs"), p.s(path), p.s("tmpfs"), MS.RDONLY, 0], `mask directory ${path}`);
    p.bind(done);
  }
}

export function emitReadonlyRoot(p: ChildProgram): void {
  setReadOnly(p, "/", 0, "make the root file system read-only");
}
