/**
 * Removing a container: every process in its cgroup killed, the cgroup removed,
 * the state directory removed. Used by run (at exit) and delete.
 */
import type { CgroupManager } from "../cgroups/mod.ts";
import type { ContainerDir, ContainerRecord } from "../state/store.ts";
import { initAlive } from "../state/store.ts";
import { kill } from "../linux/syscalls.ts";

export function destroyContainer(
  dir: ContainerDir,
  record: ContainerRecord,
  cgroup?: CgroupManager,
): void {
  if (initAlive(record)) {
    try {
      kill(record.pid, 9);
    } catch { /* raced with its exit */ }
  }
  if (cgroup) {
    try {
      cgroup.killAll(9);
    } catch { /* the cgroup may already be gone */ }
    cgroup.destroy();
  }
  dir.remove();
}
