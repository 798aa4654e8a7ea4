/**
 * Run a spawn in another process' namespaces: setns on runts' main thread around
 * `fn`, then back. Deno.Command children inherit the spawning thread's namespaces.
 * A user namespace can't be entered by a multi-threaded process, so it is skipped;
 * the mount namespace needs this thread's fs unshared first (done once), and our cwd
 * is restored afterwards.
 */
import { CLONE, O } from "./constants.ts";
import { close, openat, setns } from "./syscalls.ts";
import { sys } from "./ffi.ts";
import { SYS } from "./sysno.ts";
import { NAMESPACE_PROC_NAME } from "./namespaces.ts";
import type { LinuxNamespaceType } from "../spec/types.ts";

let fsUnshared = false;

export function inNamespacesOf<T>(pid: number, types: LinuxNamespaceType[], fn: () => T): T {
  const wanted = types.filter((t) => t !== "user" && t !== "time");
  if (wanted.length === 0) return fn();
  if (!fsUnshared) {
    sys(SYS.unshare, [CLONE.FS], "unshare(CLONE_FS)");
    fsUnshared = true;
  }
  const cwd = openat(".", O.PATH | O.DIRECTORY | O.CLOEXEC);
  const entered: { own: number }[] = [];
  try {
    for (const t of wanted) {
      const name = NAMESPACE_PROC_NAME[t];
      const own = openat(`/proc/thread-self/ns/${name}`, O.RDONLY | O.CLOEXEC);
      const target = openat(`/proc/${pid}/ns/${name}`, O.RDONLY | O.CLOEXEC);
      try {
        setns(target, 0, `${t} namespace of pid ${pid}`);
        entered.push({ own });
      } catch (e) {
        close(own);
        throw e;
      } finally {
        close(target);
      }
    }
    return fn();
  } finally {
    for (const { own } of entered.reverse()) {
      setns(own, 0, "back to runts' namespace");
      close(own);
    }
    sys(SYS.fchdir, [cwd], "fchdir");
    close(cwd);
  }
}
