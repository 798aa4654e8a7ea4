/**
 * Static checks of linux.resources for config validation (no file system access):
 * value ranges, and fields the given cgroup mode can never apply. Host-specific
 * gaps (a controller that is not mounted, a missing file) are refused by apply().
 */
import type { LinuxResources } from "../spec/types.ts";
import { memorySwapToV2 } from "./convert.ts";
import { deviceRuleProblems } from "./devices.ts";
import { hugetlbProblems } from "./hugetlb.ts";
import type { CgroupMode } from "./types.ts";

const R = "/linux/resources";

/** Problems, each starting with the JSON path of the field it is about. */
export function validateResources(resources: LinuxResources, mode: CgroupMode): string[] {
  const problems: string[] = [];
  const refuse = (field: string, why: string) => problems.push(`${R}/${field}: ${why}`);
  const v2 = mode === "v2";

  (resources.devices ?? []).forEach((rule, i) => {
    problems.push(...deviceRuleProblems(rule, `${R}/devices/${i}`));
    const type = rule.type ?? "a";
    const access = rule.access || "rwm";
    if (!v2 && type === "a" && access.split("").sort().join("") !== "mrw") {
      refuse(`devices/${i}/access`, `a rule for all devices must have access "rwm" on cgroup v1`);
    }
  });
  (resources.devices ?? []).forEach((rule, i) => {
    // The v2 eBPF filter compares 32-bit immediates (devices_bpf.ts).
    for (const key of ["major", "minor"] as const) {
      const n = rule[key];
      if (v2 && n !== undefined && n > 0x7fffffff) {
        refuse(`devices/${i}/${key}`, `must be below 2^31 on cgroup v2, got ${n}`);
      }
    }
  });

  const m = resources.memory;
  if (m) {
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      if (v2) refuse("memory/swappiness", "not supported on cgroup v2");
      else if (!(Number.isInteger(m.swappiness) && m.swappiness >= 0 && m.swappiness <= 100)) {
        refuse("memory/swappiness", `must be 0-100, got ${m.swappiness}`);
      }
    }
    if (m.useHierarchy === false) {
      refuse("memory/useHierarchy", "false is not supported by this kernel");
    }
    if (v2) {
      if ((m.kernel ?? 0) !== 0) refuse("memory/kernel", "not supported on cgroup v2");
      if ((m.kernelTCP ?? 0) !== 0) refuse("memory/kernelTCP", "not supported on cgroup v2");
      if (m.disableOOMKiller === true) {
        refuse("memory/disableOOMKiller", "not supported on cgroup v2");
      }
      try {
        memorySwapToV2(m.swap ?? 0, m.limit ?? 0);
      } catch (e) {
        refuse("memory/swap", (e as Error).message);
      }
    } else if ((m.swap ?? 0) > 0 && (m.limit ?? 0) > 0 && m.swap! < m.limit!) {
      refuse("memory/swap", "memory+swap limit should be >= memory limit");
    }
  }

  const c = resources.cpu;
  if (c) {
    if (c.burst !== undefined && c.quota !== undefined && c.quota > 0 && c.burst > c.quota) {
      refuse("cpu/burst", `must not be larger than quota (${c.quota}), got ${c.burst}`);
    }
    if (c.shares !== undefined && c.shares !== 0 && (c.shares < 2 || c.shares > 262144) && v2) {
      refuse("cpu/shares", `must be 2-262144 to convert to cpu.weight, got ${c.shares}`);
    }
    if (v2 && (c.realtimePeriod ?? 0) !== 0) {
      refuse("cpu/realtimePeriod", "not supported on cgroup v2");
    }
    if (v2 && (c.realtimeRuntime ?? 0) !== 0) {
      refuse("cpu/realtimeRuntime", "not supported on cgroup v2");
    }
    for (const key of ["cpus", "mems"] as const) {
      const v = c[key];
      if (v !== undefined && v !== "" && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) {
        refuse(`cpu/${key}`, `must be a list like "0-3,7", got ${JSON.stringify(v)}`);
      }
    }
  }

  const b = resources.blockIO;
  if (b) {
    const weightRange = (field: string, w: number | undefined) => {
      if (w !== undefined && w !== 0 && (w < 10 || w > 1000)) {
        refuse(field, `must be 10-1000, got ${w}`);
      }
    };
    weightRange("blockIO/weight", b.weight);
    weightRange("blockIO/leafWeight", b.leafWeight);
    (b.weightDevice ?? []).forEach((wd, i) => {
      weightRange(`blockIO/weightDevice/${i}/weight`, wd.weight);
      weightRange(`blockIO/weightDevice/${i}/leafWeight`, wd.leafWeight);
      if (wd.weight === undefined && wd.leafWeight === undefined) {
        refuse(`blockIO/weightDevice/${i}`, "needs weight or leafWeight");
      }
      if (v2 && (wd.leafWeight ?? 0) !== 0) {
        refuse(`blockIO/weightDevice/${i}/leafWeight`, "not supported on cgroup v2");
      }
    });
    if (v2 && (b.leafWeight ?? 0) !== 0) refuse("blockIO/leafWeight", "not supported on cgroup v2");
  }

  (resources.hugepageLimits ?? []).forEach((h, i) => {
    for (const p of hugetlbProblems(h.pageSize)) refuse(`hugepageLimits/${i}/pageSize`, p);
  });

  if (v2 && resources.network?.classID !== undefined) {
    refuse("network/classID", "net_cls is not supported on cgroup v2");
  }
  if (v2 && (resources.network?.priorities?.length ?? 0) > 0) {
    refuse("network/priorities", "net_prio is not supported on cgroup v2");
  }
  for (const [device, limits] of Object.entries(resources.rdma ?? {})) {
    if (limits.hcaHandles === undefined && limits.hcaObjects === undefined) {
      refuse(`rdma/${device}`, "needs hcaHandles or hcaObjects");
    }
  }

  const unified = resources.unified ?? {};
  if (Object.keys(unified).length > 0 && !v2) {
    refuse("unified", `not supported on cgroup v1${mode === "hybrid" ? " (hybrid host)" : ""}`);
  } else {
    for (const key of Object.keys(unified)) {
      if (key.includes("/")) {
        refuse(`unified/${key.replaceAll("/", "~1")}`, "must be a file name (no slashes)");
      } else if (!key.includes(".")) {
        refuse(`unified/${key}`, "must be in the form CONTROLLER.PARAMETER");
      }
    }
  }
  return problems;
}
