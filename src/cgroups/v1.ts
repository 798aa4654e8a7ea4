/**
 * cgroup v1 resources: runc's file names, value conventions and order (cpuset,
 * devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma).
 */
import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxDeviceCgroup,
  LinuxMemory,
  LinuxResources,
} from "../spec/types.ts";
import type { CgroupFs } from "./fs.ts";
import { deviceRuleProblems, deviceRuleText } from "./devices.ts";
import { hugetlbProblems } from "./hugetlb.ts";
import { type CgroupWrite, intString, PlanBuilder } from "./plan.ts";

const R = "/linux/resources";

export interface V1PlanContext {
  /** controller -> absolute cgroup dir (only controllers mounted on this host). */
  paths: Record<string, string>;
  fs: CgroupFs;
  /** "hybrid" only changes the wording of refusals. */
  hybrid?: boolean;
}

/** Plan every write for `resources` on v1; throws UnsupportedResourcesError first if any field can't be applied. */
export function planV1Writes(resources: LinuxResources, ctx: V1PlanContext): CgroupWrite[] {
  const plan = new PlanBuilder();
  const dirOf = (controller: string, field: string): string | undefined => {
    const dir = ctx.paths[controller];
    if (dir === undefined) {
      plan.refuse(field, `the ${controller} cgroup controller is not mounted on this host`);
    }
    return dir;
  };
  const has = (dir: string, file: string) => ctx.fs.exists(`${dir}/${file}`);

  if (resources.cpu && (resources.cpu.cpus || resources.cpu.mems)) {
    const dir = dirOf("cpuset", `${R}/cpu/${resources.cpu.cpus ? "cpus" : "mems"}`);
    if (dir) planCpuset(plan, dir, resources.cpu);
  }
  if (resources.devices && resources.devices.length > 0) {
    const dir = dirOf("devices", `${R}/devices`);
    if (dir) planDevices(plan, dir, resources.devices);
  }
  if (resources.memory && hasMemorySettings(resources.memory)) {
    const dir = dirOf("memory", `${R}/memory`);
    if (dir) planMemory(plan, dir, resources.memory, ctx.fs);
  }
  if (resources.cpu && hasCpuSchedulerSettings(resources.cpu)) {
    const dir = dirOf("cpu", `${R}/cpu`);
    if (dir) planCpu(plan, dir, resources.cpu, has);
  }
  if (resources.pids) {
    const dir = dirOf("pids", `${R}/pids`);
    if (dir) {
      const limit = resources.pids.limit;
      // Spec 1.3.0: 0 is a real limit (runc 1.1 treated it as unset); negative is "max".
      plan.add({
        dir,
        file: "pids.max",
        value: limit < 0 ? "max" : intString(limit),
        field: `${R}/pids/limit`,
      });
    }
  }
  if (resources.blockIO && hasBlockIOSettings(resources.blockIO)) {
    const dir = dirOf("blkio", `${R}/blockIO`);
    if (dir) planBlkio(plan, dir, resources.blockIO, has);
  }
  if (resources.hugepageLimits && resources.hugepageLimits.length > 0) {
    const dir = dirOf("hugetlb", `${R}/hugepageLimits`);
    resources.hugepageLimits.forEach((h, i) => {
      const field = `${R}/hugepageLimits/${i}`;
      for (const p of hugetlbProblems(h.pageSize)) plan.refuse(`${field}/pageSize`, p);
      if (!dir) return;
      const file = `hugetlb.${h.pageSize}.limit_in_bytes`;
      if (!has(dir, file)) {
        plan.refuse(`${field}/pageSize`, `${dir}/${file} does not exist`);
        return;
      }
      plan.add({ dir, file, value: intString(h.limit), field: `${field}/limit` });
      const rsvd = `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`;
      if (has(dir, rsvd)) {
        plan.add({ dir, file: rsvd, value: intString(h.limit), field: `${field}/limit` });
      }
    });
  }
  const network = resources.network;
  if (network?.classID !== undefined) {
    const dir = dirOf("net_cls", `${R}/network/classID`);
    if (dir) {
      plan.add({
        dir,
        file: "net_cls.classid",
        value: intString(network.classID),
        field: `${R}/network/classID`,
      });
    }
  }
  if (network?.priorities && network.priorities.length > 0) {
    const dir = dirOf("net_prio", `${R}/network/priorities`);
    network.priorities.forEach((p, i) => {
      if (dir) {
        plan.add({
          dir,
          file: "net_prio.ifpriomap",
          value: `${p.name} ${intString(p.priority)}`,
          field: `${R}/network/priorities/${i}`,
        });
      }
    });
  }
  if (resources.rdma && Object.keys(resources.rdma).length > 0) {
    const dir = dirOf("rdma", `${R}/rdma`);
    for (const [device, limits] of Object.entries(resources.rdma)) {
      const value = rdmaMaxLine(device, limits);
      if (dir) plan.add({ dir, file: "rdma.max", value, field: `${R}/rdma/${device}` });
    }
  }
  if (resources.unified && Object.keys(resources.unified).length > 0) {
    plan.refuse(
      `${R}/unified`,
      ctx.hybrid
        ? "not supported on cgroup v1 (this hybrid host binds the controllers to v1 hierarchies)"
        : "not supported on cgroup v1",
    );
  }
  return plan.finish();
}

/** "mlx5_1 hca_handle=3 hca_object=max" (rdma.max line, v1 and v2). */
export function rdmaMaxLine(device: string, limits: { hcaHandles?: number; hcaObjects?: number }) {
  const v = (n: number | undefined) => (n === undefined ? "max" : intString(n));
  return `${device} hca_handle=${v(limits.hcaHandles)} hca_object=${v(limits.hcaObjects)}`;
}

function planCpuset(plan: PlanBuilder, dir: string, cpu: LinuxCPU): void {
  if (cpu.cpus) plan.add({ dir, file: "cpuset.cpus", value: cpu.cpus, field: `${R}/cpu/cpus` });
  if (cpu.mems) plan.add({ dir, file: "cpuset.mems", value: cpu.mems, field: `${R}/cpu/mems` });
}

/** Rules go to the kernel one by one, in the listed order (spec: "MUST apply in order"). */
function planDevices(plan: PlanBuilder, dir: string, rules: LinuxDeviceCgroup[]): void {
  rules.forEach((rule, i) => {
    const field = `${R}/devices/${i}`;
    const problems = deviceRuleProblems(rule, field);
    if (problems.length > 0) {
      for (const p of problems) plan.problems.push(p);
      return;
    }
    let text: string;
    try {
      text = deviceRuleText(rule);
    } catch (e) {
      plan.refuse(field, (e as Error).message);
      return;
    }
    plan.add({ dir, file: rule.allow ? "devices.allow" : "devices.deny", value: text, field });
  });
}

function hasMemorySettings(m: LinuxMemory): boolean {
  return m.limit !== undefined || m.reservation !== undefined || m.swap !== undefined ||
    m.kernel !== undefined || m.kernelTCP !== undefined || m.swappiness !== undefined ||
    m.disableOOMKiller !== undefined || m.useHierarchy !== undefined;
}

function planMemory(plan: PlanBuilder, dir: string, m: LinuxMemory, fs: CgroupFs): void {
  const has = (file: string) => fs.exists(`${dir}/${file}`);
  const memsw = "memory.memsw.limit_in_bytes";
  // runc: 0 means "not set" for every memory limit.
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  // Unlimited memory with swap unset means unlimited memory+swap too (when swap accounting exists).
  if (limit === -1 && swap === 0 && has(memsw)) swap = -1;
  if (swap !== 0 && !has(memsw)) {
    plan.refuse(
      `${R}/memory/swap`,
      `swap accounting is not enabled (${dir}/${memsw} does not exist)`,
    );
  }
  const limitWrite: CgroupWrite = {
    dir,
    file: "memory.limit_in_bytes",
    value: intString(limit),
    field: `${R}/memory/limit`,
    // EBUSY: the new limit is below what the cgroup already uses (runc's wording).
    explain: (code) => {
      if (code !== "EBUSY") return undefined;
      const read = (f: string) => fs.exists(`${dir}/${f}`) ? fs.read(`${dir}/${f}`).trim() : "?";
      return `unable to set memory limit to ${limit} (current usage: ${
        read("memory.usage_in_bytes")
      }, peak usage: ${read("memory.max_usage_in_bytes")})`;
    },
  };
  const swapWrite: CgroupWrite = {
    dir,
    file: memsw,
    value: intString(swap),
    field: `${R}/memory/swap`,
  };
  // The kernel keeps limit <= memsw limit at every step, so order the two writes accordingly.
  let swapFirst = false;
  if (limit !== 0 && swap !== 0) {
    const current = BigInt(fs.read(`${dir}/memory.limit_in_bytes`).trim());
    swapFirst = swap === -1 || current < BigInt(intString(swap));
  }
  if (swapFirst) {
    plan.add(swapWrite);
    plan.add(limitWrite);
  } else {
    if (limit !== 0) plan.add(limitWrite);
    if (swap !== 0) plan.add(swapWrite);
  }
  if (m.reservation !== undefined && m.reservation !== 0) {
    plan.add({
      dir,
      file: "memory.soft_limit_in_bytes",
      value: intString(m.reservation),
      field: `${R}/memory/reservation`,
    });
  }
  if (m.kernel !== undefined && m.kernel !== 0) {
    if (!has("memory.kmem.limit_in_bytes")) {
      plan.refuse(`${R}/memory/kernel`, "kernel memory accounting is not available on this kernel");
    } else {
      plan.add({
        dir,
        file: "memory.kmem.limit_in_bytes",
        value: intString(m.kernel),
        field: `${R}/memory/kernel`,
      });
    }
  }
  if (m.kernelTCP !== undefined && m.kernelTCP !== 0) {
    if (!has("memory.kmem.tcp.limit_in_bytes")) {
      plan.refuse(
        `${R}/memory/kernelTCP`,
        "kernel TCP memory accounting is not available on this kernel",
      );
    } else {
      plan.add({
        dir,
        file: "memory.kmem.tcp.limit_in_bytes",
        value: intString(m.kernelTCP),
        field: `${R}/memory/kernelTCP`,
      });
    }
  }
  if (m.disableOOMKiller === true) {
    plan.add({
      dir,
      file: "memory.oom_control",
      value: "1",
      field: `${R}/memory/disableOOMKiller`,
    });
  }
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (!(Number.isInteger(m.swappiness) && m.swappiness >= 0 && m.swappiness <= 100)) {
      plan.refuse(`${R}/memory/swappiness`, `must be 0-100, got ${m.swappiness}`);
    } else {
      plan.add({
        dir,
        file: "memory.swappiness",
        value: String(m.swappiness),
        field: `${R}/memory/swappiness`,
      });
    }
  }
  if (m.useHierarchy === false) {
    plan.refuse(
      `${R}/memory/useHierarchy`,
      "false is not supported: this kernel always accounts hierarchically",
    );
  }
}

function hasCpuSchedulerSettings(c: LinuxCPU): boolean {
  return c.shares !== undefined || c.quota !== undefined || c.period !== undefined ||
    c.burst !== undefined || c.realtimeRuntime !== undefined || c.realtimePeriod !== undefined ||
    c.idle !== undefined;
}

function planCpu(
  plan: PlanBuilder,
  dir: string,
  c: LinuxCPU,
  has: (dir: string, file: string) => boolean,
): void {
  if (c.shares !== undefined && c.shares !== 0) {
    const shares = c.shares;
    plan.add({
      dir,
      file: "cpu.shares",
      value: intString(shares),
      field: `${R}/cpu/shares`,
      // The kernel clamps silently; runc reports the clamp.
      verify: (read) => {
        const got = Number(read);
        if (shares > got) return `the maximum allowed cpu-shares is ${got}`;
        if (shares < got) return `the minimum allowed cpu-shares is ${got}`;
        return undefined;
      },
    });
  }
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  if (period !== 0) {
    // A shorter period can be refused (EINVAL) until the new quota is in: retried below.
    plan.add({
      dir,
      file: "cpu.cfs_period_us",
      value: intString(period),
      field: `${R}/cpu/period`,
      tolerate: quota !== 0 ? ["EINVAL"] : undefined,
    });
  }
  if (quota !== 0) {
    plan.add({ dir, file: "cpu.cfs_quota_us", value: intString(quota), field: `${R}/cpu/quota` });
    if (period !== 0) {
      plan.add({
        dir,
        file: "cpu.cfs_period_us",
        value: intString(period),
        field: `${R}/cpu/period`,
      });
    }
  }
  // Optional kernel features: written when the file exists, else refused by name.
  const optional = (value: number | undefined, file: string, name: string) => {
    if (value === undefined) return;
    const field = `${R}/cpu/${name}`;
    if (!has(dir, file)) plan.refuse(field, `not supported by this kernel (no ${file})`);
    else plan.add({ dir, file, value: intString(value), field });
  };
  optional(c.burst, "cpu.cfs_burst_us", "burst");
  // Realtime: period before runtime, as runc (runtime must fit the period); 0 is unset.
  optional(c.realtimePeriod || undefined, "cpu.rt_period_us", "realtimePeriod");
  optional(c.realtimeRuntime || undefined, "cpu.rt_runtime_us", "realtimeRuntime");
  optional(c.idle, "cpu.idle", "idle");
}

function hasBlockIOSettings(b: LinuxBlockIO): boolean {
  return b.weight !== undefined || b.leafWeight !== undefined ||
    (b.weightDevice?.length ?? 0) > 0 ||
    (b.throttleReadBpsDevice?.length ?? 0) > 0 || (b.throttleWriteBpsDevice?.length ?? 0) > 0 ||
    (b.throttleReadIOPSDevice?.length ?? 0) > 0 || (b.throttleWriteIOPSDevice?.length ?? 0) > 0;
}

function planBlkio(
  plan: PlanBuilder,
  dir: string,
  b: LinuxBlockIO,
  has: (dir: string, file: string) => boolean,
): void {
  // runc: CFQ's blkio.weight when present, else BFQ's blkio.bfq.weight.
  const cfq = has(dir, "blkio.weight");
  const bfq = !cfq && has(dir, "blkio.bfq.weight");
  const weightFile = cfq ? "blkio.weight" : bfq ? "blkio.bfq.weight" : undefined;
  const weightDeviceFile = cfq
    ? "blkio.weight_device"
    : bfq
    ? "blkio.bfq.weight_device"
    : undefined;
  const noWeights = "no blkio.weight or blkio.bfq.weight (the CFQ/BFQ I/O scheduler is not in use)";
  if (b.weight !== undefined && b.weight !== 0) {
    if (weightFile) {
      plan.add({ dir, file: weightFile, value: intString(b.weight), field: `${R}/blockIO/weight` });
    } else plan.refuse(`${R}/blockIO/weight`, `not supported on this host: ${noWeights}`);
  }
  if (b.leafWeight !== undefined && b.leafWeight !== 0) {
    if (has(dir, "blkio.leaf_weight")) {
      plan.add({
        dir,
        file: "blkio.leaf_weight",
        value: intString(b.leafWeight),
        field: `${R}/blockIO/leafWeight`,
      });
    } else {plan.refuse(
        `${R}/blockIO/leafWeight`,
        "not supported on this host: no blkio.leaf_weight",
      );}
  }
  (b.weightDevice ?? []).forEach((wd, i) => {
    const field = `${R}/blockIO/weightDevice/${i}`;
    const dev = `${wd.major}:${wd.minor}`;
    if (wd.weight !== undefined && wd.weight !== 0) {
      if (weightDeviceFile) {
        plan.add({
          dir,
          file: weightDeviceFile,
          value: `${dev} ${wd.weight}`,
          field: `${field}/weight`,
        });
      } else plan.refuse(`${field}/weight`, `not supported on this host: ${noWeights}`);
    }
    if (wd.leafWeight !== undefined && wd.leafWeight !== 0) {
      if (has(dir, "blkio.leaf_weight_device")) {
        plan.add({
          dir,
          file: "blkio.leaf_weight_device",
          value: `${dev} ${wd.leafWeight}`,
          field: `${field}/leafWeight`,
        });
      } else {plan.refuse(
          `${field}/leafWeight`,
          "not supported on this host: no blkio.leaf_weight_device",
        );}
    }
  });
  const throttles = [
    ["throttleReadBpsDevice", "blkio.throttle.read_bps_device"],
    ["throttleWriteBpsDevice", "blkio.throttle.write_bps_device"],
    ["throttleReadIOPSDevice", "blkio.throttle.read_iops_device"],
    ["throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"],
  ] as const;
  for (const [key, file] of throttles) {
    (b[key] ?? []).forEach((td, i) => {
      const field = `${R}/blockIO/${key}/${i}`;
      if (!has(dir, file)) plan.refuse(field, `not supported on this host: no ${file}`);
      else plan.add({ dir, file, value: `${td.major}:${td.minor} ${intString(td.rate)}`, field });
    });
  }
}
