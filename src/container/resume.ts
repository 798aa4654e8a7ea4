/** `runts resume ID`: thaw a paused container's cgroup. */
import { RuntsError } from "../errors.ts";
import { StateStore } from "../state/store.ts";
import { cgroupOf, containerStatus } from "./status.ts";

export function resumeContainer(root: string, id: string): number {
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    const status = containerStatus(dir, record);
    if (status !== "paused") {
      throw new RuntsError(`container "${id}" is not paused (status ${status})`);
    }
    cgroupOf(record)!.thaw();
    return 0;
  } finally {
    dir.unlock();
  }
}
