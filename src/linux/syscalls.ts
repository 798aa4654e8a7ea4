/** Typed wrappers for the syscalls runts itself (the parent) makes. */
import { cstr, errno, libc, sys, SyscallError, sysRaw } from "./ffi.ts";
import { SYS } from "./sysno.ts";

const O_CLOEXEC_FLAG = 0o2000000;
import { AF_UNIX, AT, SCM_RIGHTS, SOCK_CLOEXEC, SOL_SOCKET, TIOCSWINSZ } from "./constants.ts";

export function socketpair(type: number): [number, number] {
  const fds = new Int32Array(2);
  sys(SYS.socketpair, [AF_UNIX, type | SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer)], "socketpair");
  return [fds[0], fds[1]];
}

/** A close-on-exec pipe: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  sys(SYS.pipe2, [new Uint8Array(fds.buffer), O_CLOEXEC_FLAG], "pipe2");
  return [fds[0], fds[1]];
}

export function close(fd: number): void {
  sys(SYS.close, [fd], "close");
}

export function openat(path: string, flags: number, mode = 0, dirfd = AT.FDCWD): number {
  return Number(sys(SYS.openat, [dirfd, cstr(path), flags, mode], "open", path));
}

export function write(fd: number, data: Uint8Array): number {
  return Number(sys(SYS.write, [fd, data, data.length], "write"));
}

export function mknod(path: string, mode: number, dev = 0): void {
  sys(SYS.mknodat, [AT.FDCWD, cstr(path), mode, dev], "mknod", path);
}

export function flock(fd: number, op: number): void {
  sys(SYS.flock, [fd, op], "flock");
}

export function setns(fd: number, nstype: number, what: string): void {
  sys(SYS.setns, [fd, nstype], "setns", what);
}

/** Read once; returns bytes read (0 at EOF), -1 for EAGAIN. */
export function readFd(fd: number, buf: Uint8Array): number {
  const r = sysRaw(SYS.read, [fd, buf, buf.length]);
  if (r === -11n) return -1;
  if (r < 0n) throw new SyscallError("read", Number(-r));
  return Number(r);
}

/** poll(POLLIN) one fd on this thread; true when readable (or hung up). */
export function pollIn(fd: number, timeoutMs: number): boolean {
  const pfd = new Uint8Array(8);
  const v = new DataView(pfd.buffer);
  v.setInt32(0, fd, true);
  v.setInt16(4, 1, /* POLLIN */ true);
  const ts = new BigInt64Array([
    BigInt(Math.floor(timeoutMs / 1000)),
    BigInt((timeoutMs % 1000) * 1e6),
  ]);
  const n = sys(SYS.ppoll, [pfd, 1, new Uint8Array(ts.buffer), 0, 0], "ppoll");
  return n > 0n;
}

/** Move `fd` to the lowest free number >= `min` (close-on-exec); the old number is closed. */
export function moveFdAbove(fd: number, min: number): number {
  if (fd >= min) return fd;
  const moved = Number(
    sys(SYS.fcntl, [fd, 1030, /* F_DUPFD_CLOEXEC */ min], "fcntl(F_DUPFD_CLOEXEC)"),
  );
  close(fd);
  return moved;
}

export function kill(pid: number, signal: number): void {
  sys(SYS.kill, [pid, signal], "kill", `pid ${pid}`);
}

export function prctl(option: number, arg2: number | bigint = 0): bigint {
  return sys(SYS.prctl, [option, arg2, 0, 0, 0], "prctl");
}

export interface WaitResult {
  pid: number;
  /** Exit code, or 128 + signal when killed (the shell convention runc follows). */
  exitCode: number;
  signal?: number;
}

export function decodeWaitStatus(pid: number, status: number): WaitResult {
  const sig = status & 0x7f;
  if (sig === 0) return { pid, exitCode: (status >> 8) & 0xff };
  return { pid, exitCode: 128 + sig, signal: sig };
}

/** Blocking waitpid on this thread (for children known to exit promptly). */
export function waitpid(pid: number, flags = 0): WaitResult | undefined {
  const status = new Int32Array(1);
  const r = sys(SYS.wait4, [pid, new Uint8Array(status.buffer), flags, 0], "wait4", `pid ${pid}`);
  if (r === 0n) return undefined;
  return decodeWaitStatus(Number(r), status[0]);
}

/** waitpid on a helper thread, so the event loop (signals, tty relay) keeps running. */
export async function waitpidAsync(pid: number): Promise<WaitResult> {
  const status = new Int32Array(1);
  for (;;) {
    const r = await libc().wait4Async(
      pid,
      new Uint8Array(status.buffer),
      0x40000000, /* __WALL */
      null,
    );
    if (r >= 0) return decodeWaitStatus(r, status[0]);
    const e = errno();
    if (e !== 4 /* EINTR */) throw new SyscallError("wait4", e, `pid ${pid}`);
  }
}

/** Receive one message (up to `size` bytes) and any SCM_RIGHTS fds with it. */
export function recvWithFds(fd: number, size: number): { data: Uint8Array; fds: number[] } {
  const data = new Uint8Array(size);
  const control = new Uint8Array(64);
  const iov = new BigUint64Array([ptr(data), BigInt(size)]);
  const msg = new BigUint64Array([0n, 0n, ptr(iov), 1n, ptr(control), BigInt(control.length), 0n]);
  const n = Number(
    sys(
      SYS.recvmsg,
      [fd, new Uint8Array(msg.buffer), 0x40000000 /* MSG_CMSG_CLOEXEC */],
      "recvmsg",
    ),
  );
  const fds: number[] = [];
  const controlLen = Number(msg[5]);
  const v = new DataView(control.buffer);
  for (let off = 0; off + 16 <= controlLen;) {
    const len = Number(v.getBigUint64(off, true));
    if (len < 16) break;
    if (v.getInt32(off + 8, true) === SOL_SOCKET && v.getInt32(off + 12, true) === SCM_RIGHTS) {
      for (let i = off + 16; i + 4 <= off + len; i += 4) fds.push(v.getInt32(i, true));
    }
    off += (len + 7) & ~7;
  }
  return { data: data.subarray(0, n), fds };
}

/** Send `data` with one fd as SCM_RIGHTS. */
export function sendWithFd(sock: number, data: Uint8Array, fdToSend: number): void {
  const control = new Uint8Array(24);
  const v = new DataView(control.buffer);
  v.setBigUint64(0, 20n, true);
  v.setInt32(8, SOL_SOCKET, true);
  v.setInt32(12, SCM_RIGHTS, true);
  v.setInt32(16, fdToSend, true);
  const iov = new BigUint64Array([ptr(data), BigInt(data.length)]);
  const msg = new BigUint64Array([0n, 0n, ptr(iov), 1n, ptr(control), 24n, 0n]);
  sys(SYS.sendmsg, [sock, new Uint8Array(msg.buffer), 0], "sendmsg");
}

/** Connect a stream socket to a unix socket path (--console-socket). */
export function connectUnix(path: string): number {
  const fd = Number(sys(SYS.socket, [AF_UNIX, 1 /* SOCK_STREAM */ | SOCK_CLOEXEC, 0], "socket"));
  const addr = new Uint8Array(110);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  const p = new TextEncoder().encode(path);
  if (p.length >= 108) throw new SyscallError("connect", 36, /* ENAMETOOLONG */ path);
  addr.set(p, 2);
  try {
    sys(SYS.connect, [fd, addr, 2 + p.length + 1], "connect", path);
  } catch (e) {
    close(fd);
    throw e;
  }
  return fd;
}

export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  sys(SYS.ioctl, [fd, TIOCSWINSZ, new Uint8Array(ws.buffer)], "ioctl(TIOCSWINSZ)");
}

function ptr(buf: ArrayBufferView): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf as Uint8Array)));
}
