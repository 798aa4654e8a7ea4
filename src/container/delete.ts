/**
 * `runts delete [--force] ID`: a stopped (or created) container is removed: processes
 * killed, cgroup and state gone. A running one needs --force. With --force even a
 * half-created container (runts killed mid-create) is cleaned up.
 */
import { RuntsError } from "../errors.ts";
import { StateStore, validateId } from "../state/store.ts";
import { destroyContainer } from "./destroy.ts";
import { cgroupOf, containerStatus, ociState } from "./status.ts";
import { runPoststop } from "./hooks.ts";

export async function deleteContainer(
  root: string,
  id: string,
  force: boolean,
  warn: (m: string) => void,
): Promise<number> {
  validateId(id);
  const store = new StateStore(root);
  let dir;
  try {
    dir = store.open(id);
  } catch (e) {
    if (!force) throw e;
    // A directory without state.json: an aborted create; remove whatever is there.
    try {
      Deno.removeSync(store.dir(id), { recursive: true });
    } catch { /* nothing there */ }
    return 0;
  }
  const record = dir.read();
  const status = containerStatus(dir, record);
  if ((status === "running" || status === "paused") && !force) {
    dir.unlock();
    throw new RuntsError(`cannot delete container "${id}" that is not stopped: ${status}`);
  }
  const cgroup = cgroupOf(record);
  if (status === "paused" && cgroup) cgroup.thaw();
  destroyContainer(dir, record, cgroup);
  await runPoststop(record.spec.hooks, ociState(record, "stopped"), warn);
  return 0;
}
