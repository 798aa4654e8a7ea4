/**
 * `runts update` inputs as a LinuxResources delta: runc's per-field flags (with runc's
 * value syntax: memory sizes like "64m", "-1" for unlimited), or a LinuxResources JSON
 * document (`--resources FILE|-`, which makes runc ignore every other flag), and the
 * merge of a delta into the resources saved in the container's state.
 */
import { RuntsError } from "../errors.ts";
import type { LinuxResources } from "../spec/types.ts";

/** Flag values as given on the command line (undefined = not given). */
export type UpdateFlagValues = Record<string, string | undefined>;

/** Flags runts refuses, with the reason. */
const REFUSED: Record<string, string> = {
  "kernel-memory": "kernel memory limits are deprecated and not supported by runts",
  "kernel-memory-tcp": "kernel memory limits are deprecated and not supported by runts",
  "l3-cache-schema": "Intel RDT (linux.intelRdt) is not supported by runts",
  "mem-bw-schema": "Intel RDT (linux.intelRdt) is not supported by runts",
};

const UNITS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

/** docker/go-units RAMInBytes: "1024", "64m", "1.5GiB" (binary units); runc's syntax. */
export function parseRamInBytes(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) throw new RuntsError(`invalid value for ${flag}: invalid size: '${text}'`);
  const unit = m[2] ? UNITS[m[2].toLowerCase()] : 0;
  return Math.trunc(Number(m[1]) * 1024 ** unit);
}

function parseInteger(text: string, flag: string, unsigned: boolean): number {
  const re = unsigned ? /^\+?\d+$/ : /^[+-]?\d+$/;
  if (!re.test(text)) {
    throw new RuntsError(
      `invalid value for ${flag}: ${
        unsigned ? "not an unsigned integer" : "not an integer"
      }: "${text}"`,
    );
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RuntsError(`invalid value for ${flag}: out of range`);
  return n;
}

function memoryValue(text: string, flag: string): number {
  return text === "-1" ? -1 : parseRamInBytes(text, flag);
}

/** The resources the flags ask for; only given flags appear. */
export function resourcesFromFlags(f: UpdateFlagValues): LinuxResources {
  for (const [flag, why] of Object.entries(REFUSED)) {
    if (f[flag] !== undefined && f[flag] !== "") throw new RuntsError(`--${flag}: ${why}`);
  }
  const r: LinuxResources = {};
  const memory = () => (r.memory ??= {});
  const cpu = () => (r.cpu ??= {});
  const given = (name: string) => f[name] !== undefined && f[name] !== "";

  if (given("memory")) memory().limit = memoryValue(f.memory!, "memory");
  if (given("memory-swap")) memory().swap = memoryValue(f["memory-swap"]!, "memory-swap");
  if (given("memory-reservation")) {
    memory().reservation = memoryValue(f["memory-reservation"]!, "memory-reservation");
  }
  // runc 1.1 spells it --cpu-share; --cpu-shares is accepted too (docker's name).
  const shares = given("cpu-share") ? f["cpu-share"] : f["cpu-shares"];
  if (shares !== undefined && shares !== "") {
    cpu().shares = parseInteger(shares, "cpu-share", true);
  }
  if (given("cpu-period")) cpu().period = parseInteger(f["cpu-period"]!, "cpu-period", true);
  if (given("cpu-quota")) cpu().quota = parseInteger(f["cpu-quota"]!, "cpu-quota", false);
  if (given("cpu-rt-period")) {
    cpu().realtimePeriod = parseInteger(f["cpu-rt-period"]!, "cpu-rt-period", true);
  }
  if (given("cpu-rt-runtime")) {
    cpu().realtimeRuntime = parseInteger(f["cpu-rt-runtime"]!, "cpu-rt-runtime", false);
  }
  if (given("cpuset-cpus")) cpu().cpus = f["cpuset-cpus"];
  if (given("cpuset-mems")) cpu().mems = f["cpuset-mems"];
  if (given("pids-limit")) {
    r.pids = { limit: parseInteger(f["pids-limit"]!, "pids-limit", false) };
  }
  if (given("blkio-weight")) {
    const w = parseInteger(f["blkio-weight"]!, "blkio-weight", true);
    // runc passes 0 through as "unset"; anything else must be in the kernel's range.
    if (w !== 0 && (w < 10 || w > 1000)) {
      throw new RuntsError(`invalid value for blkio-weight: must be 10-1000, got ${w}`);
    }
    if (w !== 0) r.blockIO = { weight: w };
  }
  return r;
}

const KNOWN_KEYS = new Set([
  "devices",
  "memory",
  "cpu",
  "pids",
  "blockIO",
  "hugepageLimits",
  "network",
  "rdma",
  "unified",
]);

/** A `--resources` document: a LinuxResources object (unknown keys refused by name). */
export function parseResourcesJSON(text: string, source: string): LinuxResources {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RuntsError(`${source}: invalid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RuntsError(`${source}: must be a JSON object (LinuxResources)`);
  }
  for (const key of Object.keys(value)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new RuntsError(`${source}: /${key}: unknown field of LinuxResources`);
    }
  }
  const r = value as LinuxResources;
  if (r.memory?.kernel !== undefined && r.memory.kernel !== 0) {
    throw new RuntsError(`${source}: /memory/kernel: ${REFUSED["kernel-memory"]}`);
  }
  if (r.memory?.kernelTCP !== undefined && r.memory.kernelTCP !== 0) {
    throw new RuntsError(`${source}: /memory/kernelTCP: ${REFUSED["kernel-memory-tcp"]}`);
  }
  return r;
}

/**
 * For cgroup v2 (cpu.max holds both), and as runc does on update: when only one of
 * quota/period is given, the other keeps its saved value.
 */
export function completeCpuMax(delta: LinuxResources, saved: LinuxResources | undefined) {
  const c = delta.cpu;
  if (!c) return delta;
  const old = saved?.cpu ?? {};
  const out = { ...delta, cpu: { ...c } };
  if (c.quota !== undefined && c.period === undefined && old.period !== undefined) {
    out.cpu.period = old.period;
  }
  if (c.period !== undefined && c.quota === undefined && old.quota !== undefined) {
    out.cpu.quota = old.quota;
  }
  return out;
}

/** The saved resources with the delta applied: objects merged field by field, lists replaced. */
export function mergeResources(
  saved: LinuxResources | undefined,
  delta: LinuxResources,
): LinuxResources {
  const out: LinuxResources = { ...(saved ?? {}) };
  const merge = <K extends "memory" | "cpu" | "blockIO" | "pids" | "network">(key: K) => {
    if (delta[key] !== undefined) out[key] = { ...(out[key] ?? {}), ...delta[key] } as never;
  };
  merge("memory");
  merge("cpu");
  merge("blockIO");
  merge("pids");
  merge("network");
  if (delta.devices !== undefined) out.devices = delta.devices;
  if (delta.hugepageLimits !== undefined) out.hugepageLimits = delta.hugepageLimits;
  if (delta.rdma !== undefined) out.rdma = { ...(out.rdma ?? {}), ...delta.rdma };
  if (delta.unified !== undefined) out.unified = { ...(out.unified ?? {}), ...delta.unified };
  return out;
}
