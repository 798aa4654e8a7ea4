/**
 * `runts events ID`: runc's event stream, one JSON object per line:
 *   {"type":"stats","id":ID,"data":{...}}  every --interval (or once with --stats)
 *   {"type":"oom","id":ID}                 each time the kernel OOM-kills in the cgroup
 * OOM kills are read from the cgroup's counter (memory.oom_control `oom_kill` on v1,
 * memory.events `oom_kill` on v2), polled; the stream ends when the container stops.
 */
import { RuntsError } from "../errors.ts";
import { type CgroupManager, type CgroupStats, statsToJSON } from "../cgroups/mod.ts";
import { type ContainerRecord, initAlive, StateStore } from "../state/store.ts";
import { cgroupOf, containerStatus } from "./status.ts";

/** How often the OOM counter and the init are checked between stats events. */
const POLL_MS = 100;

export interface EventsOptions {
  /** Print one stats event and exit. */
  stats: boolean;
  intervalMs: number;
  /** Receives each event line (without the newline). */
  emit(line: string): void;
  /** Receives errors that do not end the stream (a failed stats read). */
  warn(message: string): void;
}

/** The `data` of a stats event: runc's types.Stats shape (intel_rdt and network too). */
export function statsEventData(stats: CgroupStats): Record<string, unknown> {
  return { ...stats, intel_rdt: {}, network_interfaces: null };
}

function statsLine(id: string, cgroup: CgroupManager): string {
  return statsToJSON({ type: "stats", id, data: statsEventData(cgroup.stats()) });
}

function openRunning(root: string, id: string): { record: ContainerRecord; cgroup: CgroupManager } {
  const dir = new StateStore(root).open(id);
  try {
    const record = dir.read();
    const status = containerStatus(dir, record);
    if (status === "stopped" || status === "creating") {
      throw new RuntsError(`container with id ${id} is not running`);
    }
    const cgroup = cgroupOf(record);
    if (!cgroup) throw new RuntsError(`container "${id}" has no cgroup`);
    return { record, cgroup };
  } finally {
    // Not held while streaming: other commands (pause, update, kill) must go on.
    dir.unlock();
  }
}

export async function containerEvents(root: string, id: string, o: EventsOptions): Promise<number> {
  if (!o.stats && !(o.intervalMs > 0)) {
    throw new RuntsError("duration interval must be greater than 0");
  }
  const { record, cgroup } = openRunning(root, id);
  if (o.stats) {
    o.emit(statsLine(id, cgroup));
    return 0;
  }
  let ooms = cgroup.oomKillCount();
  let nextStats = performance.now() + o.intervalMs;
  for (;;) {
    const wait = Math.max(0, Math.min(POLL_MS, nextStats - performance.now()));
    await new Promise((r) => setTimeout(r, wait));
    let count: number;
    try {
      count = cgroup.oomKillCount();
    } catch {
      return 0; // the cgroup is gone: the container was deleted
    }
    for (; ooms < count; ooms++) o.emit(JSON.stringify({ type: "oom", id }));
    if (!initAlive(record)) return 0;
    if (performance.now() >= nextStats) {
      nextStats += o.intervalMs;
      try {
        o.emit(statsLine(id, cgroup));
      } catch (e) {
        o.warn((e as Error).message);
      }
    }
  }
}
