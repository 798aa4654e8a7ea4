/** `runts pause ID`: freeze every process of a running (or created) container's cgroup. */
import { RuntsError } from "../errors.ts";
import { StateStore } from "../state/store.ts";
import { cgroupOf, containerStatus } from "./status.ts";

export function pauseContainer(root: string, id: string): number {
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    const status = containerStatus(dir, record);
    // runc: only running and created containers can be paused.
    if (status !== "running" && status !== "created") {
      throw new RuntsError(`container "${id}" is not running (status ${status})`);
    }
    const cgroup = cgroupOf(record);
    if (!cgroup) throw new RuntsError(`container "${id}" has no cgroup to freeze`);
    cgroup.freeze();
    return 0;
  } finally {
    dir.unlock();
  }
}
