/**
 * `runts update ID`: apply a LinuxResources delta to a live container's cgroup and
 * record the result in its state (spec.linux.resources), so later commands see the
 * current limits. Refused for stopped (and not yet created) containers. Device rules,
 * when given, replace the old ones (runts' defaults and linux.devices are re-added).
 */
import { RuntsError } from "../errors.ts";
import { effectiveDeviceRules, validateResources } from "../cgroups/mod.ts";
import type { LinuxResources } from "../spec/types.ts";
import { StateStore } from "../state/store.ts";
import { cgroupOf, containerStatus } from "./status.ts";
import { completeCpuMax, mergeResources } from "./update_resources.ts";

export function updateContainer(root: string, id: string, delta: LinuxResources): number {
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    const status = containerStatus(dir, record);
    if (status === "stopped" || status === "creating") {
      throw new RuntsError(`cannot update container "${id}": it is ${status}`);
    }
    const cgroup = cgroupOf(record);
    if (!cgroup) throw new RuntsError(`container "${id}" has no cgroup to update`);
    const problems = validateResources(delta, cgroup.mode);
    if (problems.length > 0) throw new RuntsError(problems.join("\n"));
    const saved = record.spec.linux?.resources;
    const full = completeCpuMax(delta, saved);
    cgroup.apply(
      full.devices === undefined
        ? full
        : { ...full, devices: effectiveDeviceRules(full.devices, record.spec.linux?.devices) },
    );
    record.spec.linux = { ...record.spec.linux, resources: mergeResources(saved, full) };
    dir.write(record);
    return 0;
  } finally {
    dir.unlock();
  }
}
