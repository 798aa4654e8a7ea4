/**
 * runts' side of `terminal: true` in the foreground: the host terminal in raw mode,
 * bytes copied both ways between it and the pty master, the window size kept in
 * sync (SIGWINCH), and the host terminal always restored.
 */
import { errno, libc, sys } from "../linux/ffi.ts";
import { SYS } from "../linux/sysno.ts";
import { close, setWindowSize } from "../linux/syscalls.ts";
import type { ConsoleSize } from "../spec/types.ts";

export interface TerminalRelay {
  /** Resolves when the container side of the pty is closed (all output copied). */
  output: Promise<void>;
  /** Stop copying, restore the host terminal, close the master. Idempotent. */
  stop(): void;
}

/** Write all of `data` to `fd` from a helper thread (a full pty must not block the loop). */
async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const chunk = data.subarray(off);
    const n = Number(await libc().writeAsync(fd, chunk, BigInt(chunk.length)));
    if (n < 0) {
      if (errno() === 4 /* EINTR */) continue;
      return;
    }
    off += n;
  }
}

function resize(master: number, fallback?: ConsoleSize): void {
  try {
    if (Deno.stdout.isTerminal()) {
      const { columns, rows } = Deno.consoleSize();
      setWindowSize(master, rows, columns);
    } else if (fallback && fallback.height > 0 && fallback.width > 0) {
      setWindowSize(master, fallback.height, fallback.width);
    }
  } catch { /* the terminal went away; nothing to size */ }
}

const TCGETS = 0x5401;
const TCSETS = 0x5402;
const OPOST = 0x1;

function clearOutputProcessing(fd: number): void {
  const termios = new Uint8Array(60);
  try {
    sys(SYS.ioctl, [fd, TCGETS, termios], "ioctl(TCGETS)");
    const v = new DataView(termios.buffer);
    v.setUint32(4, v.getUint32(4, true) & ~OPOST, true); // c_oflag
    sys(SYS.ioctl, [fd, TCSETS, termios], "ioctl(TCSETS)");
  } catch { /* not a terminal: nothing to change */ }
}

export function startTerminalRelay(master: number, consoleSize?: ConsoleSize): TerminalRelay {
  const raw = Deno.stdin.isTerminal();
  if (raw) {
    Deno.stdin.setRaw(true);
    // setRaw leaves output post-processing on: "\n" → "\r\n" would double the
    // container's own CRs. cfmakeraw (what runc uses) clears OPOST too.
    clearOutputProcessing(Deno.stdout.isTerminal() ? 1 : 0);
  }
  resize(master, consoleSize);
  const onWinch = () => resize(master);
  Deno.addSignalListener("SIGWINCH", onWinch);
  let stopped = false;

  const output = (async () => {
    const buf = new Uint8Array(32 * 1024);
    for (;;) {
      const n = Number(await libc().readAsync(master, buf, BigInt(buf.length)));
      if (n <= 0) {
        if (n < 0 && errno() === 4 /* EINTR */) continue;
        return; // EIO: every slave fd closed
      }
      try {
        await Deno.stdout.write(buf.subarray(0, n));
      } catch {
        return;
      }
    }
  })();

  (async () => {
    const buf = new Uint8Array(4096);
    while (!stopped) {
      let n: number | null;
      try {
        n = await Deno.stdin.read(buf);
      } catch {
        return;
      }
      if (n === null || stopped) return;
      await writeAll(master, buf.slice(0, n));
    }
  })();

  return {
    output,
    stop() {
      if (stopped) return;
      stopped = true;
      Deno.removeSignalListener("SIGWINCH", onWinch);
      if (raw) {
        try {
          Deno.stdin.setRaw(false);
        } catch { /* not a terminal any more */ }
      }
      try {
        close(master);
      } catch { /* already closed */ }
    },
  };
}
