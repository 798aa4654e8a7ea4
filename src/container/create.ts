/**
 * `runts create`: everything but the user's program — the init waits on the exec
 * fifo — then return. No runts process stays behind.
 */
import { close } from "../linux/syscalls.ts";
import { sendConsole } from "../process/console_socket.ts";
import { type CreateFlags, setupContainer } from "./setup.ts";
import { writePidFile } from "./run.ts";

export type CreateOptions = CreateFlags;

export async function createContainer(o: CreateOptions): Promise<number> {
  const c = await setupContainer({
    ...o,
    mode: "create",
    terminalAllowed: o.consoleSocket !== undefined,
    onPty: (fd) => {
      sendConsole(o.consoleSocket!, fd);
    },
  });
  close(c.syncFd);
  if (o.pidFile) writePidFile(o.pidFile, c.record.pid);
  c.dir.unlock();
  return 0;
}
