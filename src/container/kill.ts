/** `runts kill ID [SIGNAL]` (default SIGTERM); --all signals every process of the cgroup. */
import { RuntsError } from "../errors.ts";
import { kill } from "../linux/syscalls.ts";
import { StateStore } from "../state/store.ts";
import { cgroupOf, containerStatus } from "./status.ts";
import { parseSignal } from "./signals.ts";

export function killContainer(root: string, id: string, signal: string, all: boolean): number {
  const sig = parseSignal(signal);
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    const status = containerStatus(dir, record);
    if (all) {
      const cgroup = cgroupOf(record);
      if (!cgroup) throw new RuntsError(`container "${id}" has no cgroup to signal`);
      cgroup.killAll(sig);
      return 0;
    }
    if (status === "stopped" || status === "creating") {
      throw new RuntsError(`container "${id}" is not running`);
    }
    kill(record.pid, sig);
    return 0;
  } finally {
    dir.unlock();
  }
}
