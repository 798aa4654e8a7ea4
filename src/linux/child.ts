/**
 * Higher-level steps for a container child, each a few Program ops: path-safe
 * opens inside the rootfs, mkdir -p, mounting onto an fd, writing a file.
 * Resolution inside the rootfs uses openat2(RESOLVE_IN_ROOT), so a symlink in the
 * rootfs can never make a mount or a device node land outside it.
 */
import { ERRNO } from "./errno.ts";
import { AT, O, RESOLVE } from "./constants.ts";
import { type Arg, Program, type Ref } from "./program.ts";

/**
 * Fd numbers the child uses, fixed when the program is built so that paths like
 * "/proc/self/fd/N" and SCM_RIGHTS messages can be laid out in advance. They start
 * right above the preserved fds (3 + preserveFds): everything from `sync` up except
 * sync and fifo is closed before execve, and those two are close-on-exec.
 */
export interface ChildFds {
  /** The sync socket (also where failures are reported). */
  sync: number;
  /** The exec fifo (create). */
  fifo: number;
  /** A resolved mount target. */
  target: number;
  /** A bind source (the console slave for /dev/console). */
  source: number;
  /** The console master while it is sent to runts. */
  pty: number;
  /** The first fd the final cleanup closes. */
  firstTransient: number;
}

export function childFds(preserveFds: number): ChildFds {
  const base = 3 + preserveFds;
  return {
    sync: base,
    fifo: base + 1,
    target: base + 2,
    source: base + 3,
    pty: base + 4,
    firstTransient: base + 2,
  };
}

export class ChildProgram extends Program {
  readonly fd: ChildFds;

  constructor(preserveFds = 0) {
    super();
    this.fd = childFds(preserveFds);
  }

  /** Cell holding an O_PATH fd of the rootfs, once `openRootfs` ran. */
  rootfd?: Ref;
  private readonly strings = new Map<string, Ref>();
  private howCache = new Map<number, Ref>();
  /**
   * linux.rootfsPropagation as mount(2) flags, recorded by the rootfs bind so the
   * pivot can apply it to the container's final "/".
   */
  rootfsPropagation?: number;
  /** Scratch cell reused for short-lived fds. */
  readonly scratch = this.cell();

  /** Interned string: the same path used by several ops is stored once. */
  s(value: string): Ref {
    let r = this.strings.get(value);
    if (!r) {
      r = this.str(value);
      this.strings.set(value, r);
    }
    return r;
  }

  /** struct open_how {u64 flags, u64 mode, u64 resolve}. */
  private openHow(flags: number): Ref {
    let r = this.howCache.get(flags);
    if (!r) {
      r = this.u64s([flags, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS]);
      this.howCache.set(flags, r);
    }
    return r;
  }

  openRootfs(rootfs: string): void {
    this.rootfd = this.cell();
    this.op(
      "openat",
      [AT.FDCWD, this.s(rootfs), O.PATH | O.DIRECTORY | O.CLOEXEC],
      `open rootfs ${rootfs}`,
      {
        store: this.rootfd,
      },
    );
  }

  /** openat2(rootfd, rel, RESOLVE_IN_ROOT) into `into`; `rel` is relative to the rootfs. */
  openInRoot(rel: string, into: Ref, what: string, flags = O.PATH | O.CLOEXEC): void {
    const path = rel === "" ? "." : rel;
    this.op("openat2", [{ load: this.root() }, this.s(path), this.openHow(flags), 24], what, {
      store: into,
    });
  }

  /** mkdir -p inside the rootfs, every component resolved inside it. */
  mkdirAll(rel: string, mode = 0o755): void {
    const parts = rel.split("/").filter((p) => p !== "");
    for (let i = 0; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const what = `create directory /${parts.slice(0, i + 1).join("/")} in the rootfs`;
      if (i === 0) {
        this.op("mkdirat", [{ load: this.root() }, this.s(parts[0]), mode], what, {
          ignore: ERRNO.EEXIST,
        });
        continue;
      }
      this.openInRoot(parent, this.scratch, what);
      this.op("mkdirat", [{ load: this.scratch }, this.s(parts[i]), mode], what, {
        ignore: ERRNO.EEXIST,
      });
      this.close(this.scratch, what);
    }
  }

  /** Create an empty regular file (a bind-mount target for a file), parents first. */
  touchInRoot(rel: string): void {
    const parts = rel.split("/").filter((p) => p !== "");
    const dir = parts.slice(0, -1).join("/");
    this.mkdirAll(dir);
    const what = `create file /${rel} in the rootfs`;
    this.openInRoot(dir, this.scratch, what);
    this.op(
      "mknodat",
      [{ load: this.scratch }, this.s(parts[parts.length - 1]), 0o100644, 0],
      what,
      {
        ignore: ERRNO.EEXIST,
      },
    );
    this.close(this.scratch, what);
  }

  /** Resolve `rel` inside the rootfs and dup it to TARGET_FD; returns "/proc/self/fd/N". */
  target(rel: string, what: string): Ref {
    this.openInRoot(rel, this.scratch, what);
    this.op("dup3", [{ load: this.scratch }, this.fd.target, O.CLOEXEC], what);
    this.close(this.scratch, what);
    return this.s(`/proc/self/fd/${this.fd.target}`);
  }

  /**
   * mount_setattr on the mount now at `rel` (re-resolved, so it is the mount just made
   * there): attribute bits to set and clear, recursively or not.
   */
  setMountAttributes(
    rel: string,
    set: number,
    clear: number,
    recursive: boolean,
    what: string,
  ): void {
    this.target(rel, what);
    const flags = AT.EMPTY_PATH | (recursive ? AT.RECURSIVE : 0);
    const attr = this.u64s([set, clear, 0, 0]); // struct mount_attr
    this.op("mount_setattr", [this.fd.target, this.s(""), flags, attr, 32], what);
  }

  close(fd: Ref | number, what: string): void {
    const arg: Arg = typeof fd === "number" ? fd : { load: fd };
    this.op("close", [arg], what);
  }

  private root(): Ref {
    if (!this.rootfd) throw new Error("openRootfs must come first");
    return this.rootfd;
  }

  /** open + write + close of a small file (sysctl, oom_score_adj). */
  writeFile(path: string, content: string, what: string, dirfd: Arg = AT.FDCWD): void {
    const data = new TextEncoder().encode(content);
    this.op("openat", [dirfd, this.s(path), O.WRONLY | O.CLOEXEC], what, { store: this.scratch });
    this.op("write", [{ load: this.scratch }, this.bytes(data), data.length], what, {
      expect: data.length,
    });
    this.close(this.scratch, what);
  }
}
