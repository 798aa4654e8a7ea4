/**
 * cgroup v2 resources, with runc's conversions from the v1-shaped OCI fields
 * (shares -> cpu.weight, memory+swap -> memory.swap.max, blkio weight -> io.weight).
 */
import type { LinuxResources } from "../spec/types.ts";
import type { CgroupFs } from "./fs.ts";
import {
  blkioWeightToIOWeight,
  cpuMax,
  cpuSharesToWeight,
  limitToV2,
  memorySwapToV2,
} from "./convert.ts";
import { deviceFilterProgram } from "./devices_bpf.ts";
import { hugetlbProblems } from "./hugetlb.ts";
import { type CgroupWrite, intString, PlanBuilder } from "./plan.ts";
import { rdmaMaxLine } from "./v1.ts";

const R = "/linux/resources";

export interface V2PlanContext {
  /** The container's cgroup2 directory. */
  dir: string;
  fs: CgroupFs;
}

/** Plan every write for `resources` on v2; throws UnsupportedResourcesError first if any field can't be applied. */
export function planV2Writes(resources: LinuxResources, ctx: V2PlanContext): CgroupWrite[] {
  const { dir, fs } = ctx;
  const plan = new PlanBuilder();
  const has = (file: string) => fs.exists(`${dir}/${file}`);
  const controllers = new Set(
    (has("cgroup.controllers") ? fs.read(`${dir}/cgroup.controllers`) : "").split(/\s+/)
      .filter((c) => c),
  );
  const need = (controller: string, field: string): boolean => {
    if (controllers.has(controller)) return true;
    plan.refuse(field, `the ${controller} controller is not enabled for ${dir}`);
    return false;
  };
  const add = (file: string, value: string, field: string, extra: Partial<CgroupWrite> = {}) =>
    plan.add({ dir, file, value, field, ...extra });

  if (resources.devices) {
    // Installed by the manager as an eBPF program (devices_v2.ts), not a file write:
    // here the rules are only checked, so that a bad one refuses the whole update.
    try {
      deviceFilterProgram(resources.devices, `${R}/devices`);
    } catch (e) {
      plan.problems.push((e as Error).message);
    }
  }

  const m = resources.memory;
  if (m) {
    const limit = m.limit ?? 0;
    const swapField = `${R}/memory/swap`;
    let swap: number | undefined;
    try {
      swap = memorySwapToV2(m.swap ?? 0, limit);
    } catch (e) {
      plan.refuse(swapField, (e as Error).message);
    }
    if (swap !== undefined || limit !== 0 || (m.reservation ?? 0) !== 0) {
      need("memory", `${R}/memory`);
    }
    if (swap !== undefined) {
      let swapStr = limitToV2(swap);
      // memory == memory+swap: no swap at all.
      if (swapStr === "" && swap === 0 && (m.swap ?? 0) > 0) swapStr = "0";
      if (swapStr !== "") {
        if (has("memory.swap.max")) add("memory.swap.max", swapStr, swapField);
        else if (swapStr !== "max" && swapStr !== "0") {
          plan.refuse(swapField, "swap accounting is not enabled (no memory.swap.max)");
        }
      }
    }
    if (limit !== 0) {
      const limitStr = limit === -1 ? "max" : intString(limit);
      if (m.checkBeforeUpdate && limit > 0 && has("memory.current")) {
        // v1's kernel refuses a limit below usage; on v2 the OOM killer would run instead.
        const usage = Number(fs.read(`${dir}/memory.current`).trim());
        if (usage > limit) {
          plan.refuse(
            `${R}/memory/limit`,
            `new limit ${limit} is below the current usage ${usage} (checkBeforeUpdate)`,
          );
        }
      }
      add("memory.max", limitStr, `${R}/memory/limit`);
    }
    if (m.reservation !== undefined && m.reservation !== 0) {
      add("memory.low", limitToV2(m.reservation), `${R}/memory/reservation`);
    }
    if (m.kernel !== undefined && m.kernel !== 0) {
      plan.refuse(`${R}/memory/kernel`, "not supported on cgroup v2");
    }
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) {
      plan.refuse(`${R}/memory/kernelTCP`, "not supported on cgroup v2");
    }
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      plan.refuse(`${R}/memory/swappiness`, "not supported on cgroup v2");
    }
    if (m.disableOOMKiller === true) {
      plan.refuse(`${R}/memory/disableOOMKiller`, "not supported on cgroup v2");
    }
    if (m.useHierarchy === false) {
      plan.refuse(
        `${R}/memory/useHierarchy`,
        "false is not supported: cgroup v2 is always hierarchical",
      );
    }
  }

  const c = resources.cpu;
  if (c) {
    if (c.idle !== undefined) {
      if (has("cpu.idle")) add("cpu.idle", intString(c.idle), `${R}/cpu/idle`);
      else plan.refuse(`${R}/cpu/idle`, "not supported by this kernel (no cpu.idle)");
    }
    const weight = cpuSharesToWeight(c.shares ?? 0);
    if (weight !== 0 && need("cpu", `${R}/cpu/shares`)) {
      add("cpu.weight", String(weight), `${R}/cpu/shares`);
    }
    const max = cpuMax(c.quota ?? 0, c.period ?? 0);
    if (max !== undefined && need("cpu", `${R}/cpu/${c.quota ? "quota" : "period"}`)) {
      add("cpu.max", max, `${R}/cpu/${c.quota ? "quota" : "period"}`);
    }
    if (c.burst !== undefined) {
      if (has("cpu.max.burst")) add("cpu.max.burst", intString(c.burst), `${R}/cpu/burst`);
      else plan.refuse(`${R}/cpu/burst`, "not supported by this kernel (no cpu.max.burst)");
    }
    if ((c.realtimePeriod ?? 0) !== 0) {
      plan.refuse(`${R}/cpu/realtimePeriod`, "not supported on cgroup v2");
    }
    if ((c.realtimeRuntime ?? 0) !== 0) {
      plan.refuse(`${R}/cpu/realtimeRuntime`, "not supported on cgroup v2");
    }
    if (c.cpus && need("cpuset", `${R}/cpu/cpus`)) add("cpuset.cpus", c.cpus, `${R}/cpu/cpus`);
    if (c.mems && need("cpuset", `${R}/cpu/mems`)) add("cpuset.mems", c.mems, `${R}/cpu/mems`);
  }

  if (resources.pids && need("pids", `${R}/pids`)) {
    const limit = resources.pids.limit;
    add("pids.max", limit < 0 ? "max" : intString(limit), `${R}/pids/limit`);
  }

  const b = resources.blockIO;
  if (b) {
    const bfq = has("io.bfq.weight");
    const anyIO = b.weight || b.weightDevice?.length || b.throttleReadBpsDevice?.length ||
      b.throttleWriteBpsDevice?.length || b.throttleReadIOPSDevice?.length ||
      b.throttleWriteIOPSDevice?.length;
    if (anyIO) need("io", `${R}/blockIO`);
    if (b.weight !== undefined && b.weight !== 0) {
      // BFQ takes the v1 range as is; io.weight needs the conversion.
      if (bfq) add("io.bfq.weight", intString(b.weight), `${R}/blockIO/weight`);
      else add("io.weight", String(blkioWeightToIOWeight(b.weight)), `${R}/blockIO/weight`);
    }
    if (b.leafWeight !== undefined && b.leafWeight !== 0) {
      plan.refuse(`${R}/blockIO/leafWeight`, "not supported on cgroup v2");
    }
    (b.weightDevice ?? []).forEach((wd, i) => {
      const field = `${R}/blockIO/weightDevice/${i}`;
      if (wd.weight !== undefined && wd.weight !== 0) {
        if (bfq) add("io.bfq.weight", `${wd.major}:${wd.minor} ${wd.weight}`, `${field}/weight`);
        else {plan.refuse(
            `${field}/weight`,
            "per-device weights need the BFQ I/O scheduler (no io.bfq.weight)",
          );}
      }
      if (wd.leafWeight !== undefined && wd.leafWeight !== 0) {
        plan.refuse(`${field}/leafWeight`, "not supported on cgroup v2");
      }
    });
    const throttles = [
      ["throttleReadBpsDevice", "rbps"],
      ["throttleWriteBpsDevice", "wbps"],
      ["throttleReadIOPSDevice", "riops"],
      ["throttleWriteIOPSDevice", "wiops"],
    ] as const;
    for (const [key, name] of throttles) {
      (b[key] ?? []).forEach((td, i) => {
        add(
          "io.max",
          `${td.major}:${td.minor} ${name}=${intString(td.rate)}`,
          `${R}/blockIO/${key}/${i}`,
        );
      });
    }
  }

  (resources.hugepageLimits ?? []).forEach((h, i) => {
    const field = `${R}/hugepageLimits/${i}`;
    for (const p of hugetlbProblems(h.pageSize)) plan.refuse(`${field}/pageSize`, p);
    if (!need("hugetlb", field)) return;
    const file = `hugetlb.${h.pageSize}.max`;
    if (!has(file)) {
      plan.refuse(`${field}/pageSize`, `${dir}/${file} does not exist`);
      return;
    }
    add(file, intString(h.limit), `${field}/limit`);
    const rsvd = `hugetlb.${h.pageSize}.rsvd.max`;
    if (has(rsvd)) add(rsvd, intString(h.limit), `${field}/limit`);
  });

  if (resources.network?.classID !== undefined) {
    plan.refuse(`${R}/network/classID`, "net_cls is not supported on cgroup v2");
  }
  if ((resources.network?.priorities?.length ?? 0) > 0) {
    plan.refuse(`${R}/network/priorities`, "net_prio is not supported on cgroup v2");
  }

  for (const [device, limits] of Object.entries(resources.rdma ?? {})) {
    if (need("rdma", `${R}/rdma/${device}`)) {
      add("rdma.max", rdmaMaxLine(device, limits), `${R}/rdma/${device}`);
    }
  }

  for (const [key, value] of Object.entries(resources.unified ?? {})) {
    const field = `${R}/unified/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    if (key.includes("/") || key === "." || key === "..") {
      plan.refuse(field, "must be a file name (no slashes)");
      continue;
    }
    const controller = key.split(".")[0];
    if (!key.includes(".")) {
      plan.refuse(field, "must be in the form CONTROLLER.PARAMETER");
    } else if (controller !== "cgroup" && !controllers.has(controller)) {
      plan.refuse(field, `controller "${controller}" is not available for ${dir}`);
    } else if (!has(key)) {
      plan.refuse(field, `${dir}/${key} does not exist`);
    } else {
      add(key, value, field);
    }
  }
  return plan.finish();
}
