/** `runts state ID` and `runts list`: the OCI state of one or all containers. */
import { RuntsError } from "../errors.ts";
import { type ContainerRecord, StateStore } from "../state/store.ts";
import { containerStatus, ociState, type Status } from "./status.ts";

export function stateOf(root: string, id: string): Record<string, unknown> {
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    return ociState(record, containerStatus(dir, record));
  } finally {
    dir.unlock();
  }
}

export function listContainers(root: string): { record: ContainerRecord; status: Status }[] {
  const store = new StateStore(root);
  const out: { record: ContainerRecord; status: Status }[] = [];
  for (const id of store.list()) {
    let dir;
    try {
      dir = store.open(id);
    } catch (e) {
      if (e instanceof RuntsError) continue; // deleted meanwhile
      throw e;
    }
    try {
      const record = dir.read();
      out.push({ record, status: containerStatus(dir, record) });
    } finally {
      dir.unlock();
    }
  }
  return out;
}

/** runc's `list` table: tab-aligned columns. */
export function formatTable(rows: { record: ContainerRecord; status: Status }[]): string {
  const lines = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]];
  for (const { record, status } of rows) {
    lines.push([
      record.id,
      String(status === "stopped" ? 0 : record.pid),
      status,
      record.bundle,
      record.created,
      record.owner,
    ]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) =>
    l.map((c, i) => (i < l.length - 1 ? c.padEnd(widths[i] + 3) : c)).join("")
  ).join("\n") +
    "\n";
}
