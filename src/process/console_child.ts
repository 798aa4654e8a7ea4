/**
 * The container side of `terminal: true`: a pty from the container's own devpts
 * (/dev/pts/ptmx), its master sent to runts with SCM_RIGHTS, the slave becoming the
 * controlling terminal, stdio and /dev/console, as runc does.
 */
import {
  MS,
  O,
  SCM_RIGHTS,
  SOL_SOCKET,
  TIOCGPTPEER,
  TIOCSCTTY,
  TIOCSPTLCK,
} from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";
import { Sync, syncRecord } from "../container/sync.ts";

export function emitConsole(p: ChildProgram, o: { bindConsole: boolean }): void {
  const syncFd = p.fd.sync;
  const master = p.cell();
  const slave = p.cell();
  p.op(
    "openat",
    [-100, p.s("/dev/pts/ptmx"), O.RDWR | O.NOCTTY | O.CLOEXEC],
    "open /dev/pts/ptmx for the console",
    {
      store: master,
    },
  );
  p.op("ioctl", [{ load: master }, TIOCSPTLCK, p.alloc(8)], "unlock the console pty");
  p.op("ioctl", [{ load: master }, TIOCGPTPEER, O.RDWR | O.NOCTTY], "open the console pty slave", {
    store: slave,
  });
  // A fixed fd number, so the SCM_RIGHTS message can be laid out in advance.
  p.op("dup3", [{ load: master }, p.fd.pty, O.CLOEXEC], "dup the console master");
  p.op(
    "sendmsg",
    [syncFd, fdMessage(p, p.fd.pty, syncRecord(Sync.PTY)), 0],
    "send the console pty to runts",
  );
  p.close(p.fd.pty, "close the console master copy");
  p.close(master, "close the console master");
  p.op("setsid", [], "start a session for the console");
  p.op("ioctl", [{ load: slave }, TIOCSCTTY, 0], "make the pty the controlling terminal");
  for (const fd of [0, 1, 2]) {
    p.op("dup3", [{ load: slave }, fd, 0], `attach the console to fd ${fd}`);
  }
  if (o.bindConsole) {
    p.op("dup3", [{ load: slave }, p.fd.source, O.CLOEXEC], "dup the console slave");
    p.op(
      "openat",
      [-100, p.s("/dev/console"), O.CREAT | O.WRONLY | O.CLOEXEC | O.NOCTTY, 0o600],
      "create /dev/console",
      { store: p.scratch },
    );
    p.close(p.scratch, "close /dev/console");
    p.op(
      "mount",
      [p.s(`/proc/self/fd/${p.fd.source}`), p.s("/dev/console"), 0, MS.BIND, 0],
      "bind the console pty on /dev/console",
    );
  }
  p.close(slave, "close the console slave fd");
}

/** A struct msghdr carrying `payload` and one fd as SCM_RIGHTS. */
function fdMessage(p: ChildProgram, fd: number, payload: Uint8Array) {
  const cmsg = new Uint8Array(24); // cmsghdr {u64 len; i32 level; i32 type} + int fd
  const cv = new DataView(cmsg.buffer);
  cv.setBigUint64(0, 20n, true);
  cv.setInt32(8, SOL_SOCKET, true);
  cv.setInt32(12, SCM_RIGHTS, true);
  cv.setInt32(16, fd, true);
  const cmsgRef = p.bytes(cmsg);
  const data = p.bytes(payload);
  const iov = p.u64s([0, payload.length]);
  p.pointerAt(iov, 0, data);
  // msghdr {name, namelen, iov, iovlen, control, controllen, flags}
  const msg = p.u64s([0, 0, 0, 1, 0, 24, 0]);
  p.pointerAt(msg, 16, iov);
  p.pointerAt(msg, 32, cmsgRef);
  return msg;
}
