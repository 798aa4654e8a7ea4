/** --console-socket: hand the pty master to the caller (conmon, containerd) over a unix socket. */
import { RuntsError } from "../errors.ts";
import { close, connectUnix, sendWithFd } from "../linux/syscalls.ts";

export function sendConsole(socketPath: string, master: number): void {
  let sock = -1;
  try {
    sock = connectUnix(socketPath);
    // runc sends the pty's name as the message payload; receivers only use the fd.
    sendWithFd(sock, new TextEncoder().encode("/dev/ptmx"), master);
  } catch (e) {
    throw new RuntsError(`send the console to ${socketPath}: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    if (sock >= 0) close(sock);
    close(master);
  }
}
