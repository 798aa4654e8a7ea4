/**
 * A container's status, derived from the real process (never trusted from disk):
 * no init yet → creating; init gone (or its pid reused) → stopped; exec fifo still
 * there → created; cgroup frozen → paused; else running.
 */
import { type CgroupManager, openCgroupManager } from "../cgroups/mod.ts";
import type { ContainerStatus } from "../spec/types.ts";
import { type ContainerDir, type ContainerRecord, initAlive } from "../state/store.ts";

export type Status = ContainerStatus | "paused";

export function cgroupOf(record: ContainerRecord): CgroupManager | undefined {
  return record.cgroup ? openCgroupManager(record.cgroup) : undefined;
}

export function containerStatus(dir: ContainerDir, record: ContainerRecord): Status {
  if (record.pid === 0 && !record.stopped) return "creating";
  if (!initAlive(record)) return "stopped";
  try {
    Deno.lstatSync(dir.execFifo);
    return "created";
  } catch { /* started */ }
  try {
    if (cgroupOf(record)?.state() === "frozen") return "paused";
  } catch { /* no freezer: can't be paused */ }
  return "running";
}

/** The state document as `runc state` prints it. */
export function ociState(record: ContainerRecord, status: Status) {
  const state: Record<string, unknown> = {
    ociVersion: record.ociVersion,
    id: record.id,
    pid: status === "stopped" ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
  };
  if (record.annotations && Object.keys(record.annotations).length) {
    state.annotations = record.annotations;
  }
  return state;
}
