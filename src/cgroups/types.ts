/** Shared types of the cgroup manager (the public API lives in mod.ts). */
import type { LinuxResources } from "../spec/types.ts";
import type { CgroupStats } from "./stats_types.ts";

export type CgroupMode = "v1" | "hybrid" | "v2";

export interface CgroupConfig {
  /** Container id: the cgroup's leaf name when cgroupsPath is empty. */
  id: string;
  /** linux.cgroupsPath of config.json. */
  cgroupsPath?: string;
  resources?: LinuxResources;
  /** --systemd-cgroup: cgroupsPath is "slice:prefix:name". */
  systemd: boolean;
  rootless: boolean;
  /**
   * Parent for an empty cgroupsPath: "runts" gives /runts/<id>. Unset: like runc,
   * <id> relative to the runtime's own cgroup.
   */
  defaultParent?: string;
}

/** What the state dir stores so that later commands can reopen the cgroup. */
export interface SavedCgroup {
  mode: CgroupMode;
  /** controller (or "unified") -> absolute directory. */
  paths: Record<string, string>;
  rootless?: boolean;
  /** --systemd-cgroup: the systemd unit (scope or slice) that owns the cgroup. */
  systemdUnit?: string;
}

export type FreezerState = "frozen" | "thawed";

export interface CgroupManager {
  /** controller (or "unified") -> absolute directory. */
  readonly paths: Record<string, string>;
  readonly mode: CgroupMode;
  /** mkdir -p the cgroup(s); errors name the path. */
  create(): void;
  /** Write every supported field; refuses unsupported ones (by JSON path) before writing. */
  apply(resources: LinuxResources | undefined): void;
  /** Write pid into cgroup.procs of every hierarchy. */
  addProcess(pid: number): void;
  /** Pids in the cgroup and its sub-cgroups. */
  processes(): number[];
  freeze(): void;
  thaw(): void;
  state(): FreezerState;
  /** Signal every process (SIGKILL through cgroup.kill when available). */
  killAll(signal: number): void;
  stats(): CgroupStats;
  oomKillCount(): number;
  /** rmdir the cgroup(s); idempotent. The caller kills the processes first. */
  destroy(): void;
  toJSON(): SavedCgroup;
}

export type { CgroupStats };
