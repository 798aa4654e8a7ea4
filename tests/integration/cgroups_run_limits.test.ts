/**
 * Resource limits of real containers (`runts run`, default cgroup /runts/<id>), seen
 * from inside the container and in the cgroup files: memory (a tiny limit still starts
 * the container; a hog is OOM-killed), pids, cpu quota, device denial, the cgroup
 * namespace view.
 */
import { isRoot, run } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { outputOf, runDetached, runIn, sh } from "./run_helpers.ts";

const ignore = !isRoot();
const MiB = 1024 * 1024;
const CG = "/sys/fs/cgroup";

// deno-lint-ignore no-explicit-any
type Spec = any;

function setResources(spec: Spec, resources: Spec): void {
  spec.linux.resources = { ...spec.linux.resources, ...resources };
}

function readNumber(path: string): number {
  return Number(Deno.readTextFileSync(path).trim());
}

Deno.test({
  name: "cgroups run: an 8 MiB memory limit still starts the container (runts is not charged)",
  ignore,
  async fn() {
    const out = await outputOf({
      args: sh("echo ok; cat /sys/fs/cgroup/memory/memory.limit_in_bytes"),
      edit: (spec) => {
        setResources(spec, { memory: { limit: 8 * MiB } });
        spec.linux.namespaces.push({ type: "cgroup" });
      },
    });
    assertEquals(out, `ok\n${8 * MiB}\n`);
  },
});

Deno.test({
  name: "cgroups run: a memory hog is OOM-killed at the limit (exit status 137)",
  ignore,
  async fn() {
    // No swap on the limit (memory+swap = memory): the hog cannot escape to swap.
    const r = await runIn({
      args: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
      edit: (spec) => setResources(spec, { memory: { limit: 16 * MiB, swap: 16 * MiB } }),
    });
    assertEquals(r.code, 137, r.stderr);
  },
});

Deno.test({
  name: "cgroups run: the pids limit stops a fork bomb (can't fork)",
  ignore,
  async fn() {
    const r = await runIn({
      args: sh(
        "cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 20); do sleep 5 & done; echo all-forked",
      ),
      edit: (spec) => {
        setResources(spec, { pids: { limit: 10 } });
        spec.linux.namespaces.push({ type: "cgroup" });
      },
    });
    // busybox sh gives up at the first failed fork (exit status 2).
    assertEquals(r.stdout, "10\n", r.stderr);
    assertMatch(r.stderr, /can't fork: Resource temporarily unavailable/);
    assertEquals(r.code, 2);
  },
});

Deno.test({
  name: "cgroups run: cpu quota is written and enforced (busy loop ≈ quota/period of a CPU)",
  ignore,
  async fn() {
    const c = await runDetached({
      args: sh("while :; do :; done"),
      edit: (spec) => setResources(spec, { cpu: { quota: 20000, period: 100000 } }),
    });
    try {
      const dir = `${CG}/cpu/runts/${c.id}`;
      const acct = `${CG}/cpuacct/runts/${c.id}`;
      assertEquals(readNumber(`${dir}/cpu.cfs_quota_us`), 20000);
      assertEquals(readNumber(`${dir}/cpu.cfs_period_us`), 100000);
      const u0 = readNumber(`${acct}/cpuacct.usage`);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 2000));
      const u1 = readNumber(`${acct}/cpuacct.usage`);
      const t1 = performance.now();
      const share = (u1 - u0) / 1e6 / (t1 - t0);
      console.log(`cpu quota 0.2 CPU: busy loop used ${share.toFixed(3)} CPU`);
      // Unthrottled it would use a whole CPU; a busy machine may give it less than the quota.
      assert(share < 0.5, `used ${share} of a CPU with a 0.2 quota`);
      assert(share > 0.01, `the loop ran at all (${share})`);
      const stat = Deno.readTextFileSync(`${dir}/cpu.stat`);
      assert(Number(/nr_throttled (\d+)/.exec(stat)?.[1]) > 0, stat);
    } finally {
      await c.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups run: a device without an allow rule cannot be opened; an allowed one can",
  ignore,
  async fn() {
    const out = await outputOf({
      args: sh(
        "head -c 1 /mem-node 2>&1 >/dev/null && echo mem=open; " +
          "head -c 1 /zero-node >/dev/null && echo zero=open",
      ),
      prepare: async (rootfs) => {
        for (const [name, minor] of [["mem-node", 1], ["zero-node", 5]]) {
          const r = await run("mknod", [`${rootfs}/${name}`, "c", "1", String(minor)]);
          assertEquals(r.code, 0, r.stderr);
        }
      },
      edit: (spec) => {
        // Run as root with every capability: only the device cgroup can refuse /dev/mem.
        spec.process.capabilities = undefined;
      },
    });
    assertMatch(out, /^head: \/mem-node: Operation not permitted\n/);
    assert(!out.includes("mem=open"), out);
    assertMatch(out, /zero=open/);
  },
});

Deno.test({
  name: "cgroups run: in a cgroup namespace the container sees / and its own cgroup files",
  ignore,
  async fn() {
    const out = await outputOf({
      args: sh(
        "cat /proc/self/cgroup; echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); " +
          "echo pids=$(cat /sys/fs/cgroup/pids/pids.max)",
      ),
      edit: (spec) => {
        setResources(spec, { memory: { limit: 48 * MiB }, pids: { limit: 33 } });
        spec.linux.namespaces.push({ type: "cgroup" });
      },
    });
    const cgroupLines = out.split("\n").filter((l) => /^\d+:/.test(l));
    assert(cgroupLines.length > 3, out);
    for (const line of cgroupLines) assert(line.endsWith(":/"), `${line} (all:\n${out})`);
    assertMatch(out, new RegExp(`limit=${48 * MiB}\n`));
    assertMatch(out, /pids=33\n/);
  },
});
