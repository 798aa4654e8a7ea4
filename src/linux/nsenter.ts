/**
 * Entering another process' pid namespace for a spawn: a joined pid namespace only
 * applies to children, so runts' main thread enters it around the clone() and goes
 * back at once (the thread must not create threads meanwhile, and does not).
 */
import { CLONE, O } from "./constants.ts";
import { close, openat, setns } from "./syscalls.ts";

export function withPidNamespace<T>(path: string | undefined, fn: () => T): T {
  if (!path) return fn();
  const own = openat("/proc/thread-self/ns/pid", O.RDONLY | O.CLOEXEC);
  try {
    const target = openat(path, O.RDONLY | O.CLOEXEC);
    try {
      setns(target, CLONE.NEWPID, `pid namespace ${path}`);
    } finally {
      close(target);
    }
    try {
      return fn();
    } finally {
      setns(own, CLONE.NEWPID, "own pid namespace");
    }
  } finally {
    close(own);
  }
}
