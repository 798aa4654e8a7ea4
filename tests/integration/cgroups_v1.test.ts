/**
 * The cgroup manager on this (v1 or hybrid) host, as root: every test uses its own
 * parent cgroup, runts-test-<random>, and removes it.
 */
import { assert, assertEquals, assertThrows } from "../unit/assert.ts";
import {
  type CgroupManager,
  createCgroupManager,
  detectCgroupMode,
  effectiveDeviceRules,
  openCgroupManager,
  statsToJSON,
} from "../../src/cgroups/mod.ts";
import { removeCgroupTree } from "../../src/cgroups/manager.ts";
import { realCgroupFs } from "../../src/cgroups/fs.ts";
import { RuntsError } from "../../src/errors.ts";

const host = detectCgroupMode();
const ignore = Deno.uid() !== 0 || host.mode === "v2";

/** Let a shell waiting in `read go` continue. */
async function releaseShell(shell: Deno.ChildProcess): Promise<void> {
  const writer = shell.stdin.getWriter();
  await writer.write(new TextEncoder().encode("go\n"));
  await writer.close();
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A manager under a private parent; the parent is removed afterwards in every hierarchy. */
async function withManager(
  fn: (m: CgroupManager, parent: string) => Promise<void> | void,
): Promise<void> {
  const parent = `runts-test-${crypto.randomUUID().slice(0, 8)}`;
  const m = createCgroupManager({
    id: "c1",
    systemd: false,
    rootless: false,
    defaultParent: parent,
  });
  try {
    await fn(m, parent);
  } finally {
    try {
      m.killAll(9);
    } catch { /* already gone */ }
    for (const dir of new Set(Object.values(m.paths))) {
      const parentDir = dir.slice(0, dir.lastIndexOf("/"));
      for (let i = 0; i < 50 && exists(dir); i++) {
        try {
          removeCgroupTree(realCgroupFs, dir);
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      if (exists(parentDir)) Deno.removeSync(parentDir);
    }
  }
}

function spawnSleep(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["100"], stdout: "null", stderr: "null" }).spawn();
}

function procState(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/status`).match(/^State:\s+(\S)/m)?.[1] ?? "?";
}

Deno.test({
  name: "v1: create, apply memory/cpu/pids/devices, addProcess, freeze, stats, killAll, destroy",
  ignore,
  async fn() {
    await withManager(async (m, parent) => {
      m.create();
      for (const dir of Object.values(m.paths)) assert(exists(dir), dir);
      m.apply({
        memory: { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 },
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0" },
        pids: { limit: 16 },
        devices: effectiveDeviceRules([{ allow: false, access: "rwm" }], [
          { type: "c", path: "/dev/fuse", major: 10, minor: 229 },
        ]),
      });
      const read = (c: string, f: string) => Deno.readTextFileSync(`${m.paths[c]}/${f}`).trim();
      assertEquals(read("memory", "memory.limit_in_bytes"), String(64 * 1024 * 1024));
      assertEquals(read("cpu", "cpu.shares"), "512");
      assertEquals(read("cpu", "cpu.cfs_quota_us"), "50000");
      assertEquals(read("cpuset", "cpuset.cpus"), "0");
      assertEquals(read("pids", "pids.max"), "16");
      const devices = read("devices", "devices.list").split("\n");
      assert(!devices.includes("a *:* rwm"), "default deny is in place");
      assert(devices.includes("c 1:3 rwm") && devices.includes("c 10:229 rwm"), devices.join(","));
      assert(devices.includes("c 136:* rwm"));

      const child = spawnSleep();
      try {
        m.addProcess(child.pid);
        const cgroups = Deno.readTextFileSync(`/proc/${child.pid}/cgroup`);
        assert(cgroups.includes(`:memory:/${parent}/c1\n`), cgroups);
        if (host.mode === "hybrid") assert(cgroups.includes(`0::/${parent}/c1\n`), cgroups);
        assertEquals(m.processes(), [child.pid]);

        m.freeze();
        assertEquals(m.state(), "frozen");
        assertEquals(read("freezer", "freezer.state"), "FROZEN");
        m.thaw();
        assertEquals(m.state(), "thawed");
        assert(procState(child.pid) !== "D", "thawed process is not stuck in the freezer");

        const stats = m.stats();
        assertEquals(stats.pids.current, 1);
        assertEquals(stats.pids.limit, 16);
        assertEquals(stats.memory.usage.limit, 64 * 1024 * 1024);
        assertEquals(stats.cpuset?.cpus, [0]);
        const json = JSON.parse(statsToJSON(stats));
        assertEquals(Object.keys(json), ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb"]);
        assertEquals(m.oomKillCount(), 0);

        // A reopened manager (as `runts kill` would) reaches the same processes.
        const reopened = openCgroupManager(JSON.parse(JSON.stringify(m.toJSON())));
        reopened.killAll(15);
        const status = await child.status;
        assertEquals(status.signal, "SIGTERM");
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }
      // The kernel may need a moment after the last exit before rmdir succeeds: destroy retries.
      m.destroy();
      for (const dir of Object.values(m.paths)) assert(!exists(dir), `${dir} removed`);
      m.destroy(); // idempotent
    });
  },
});

Deno.test({
  name: "v1: the pids limit is enforced; pids limit 0 is a real limit",
  ignore,
  async fn() {
    await withManager(async (m) => {
      m.create();
      m.apply({ pids: { limit: 1 } });
      const shell = new Deno.Command("sh", {
        args: ["-c", "read x; sleep 0 & wait; echo forked=$?"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      m.addProcess(shell.pid);
      const w = shell.stdin.getWriter();
      await w.write(new TextEncoder().encode("go\n"));
      await w.close();
      const out = await shell.output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert(!text.includes("forked=0"), `fork should fail under pids.max=1: ${text}`);
      m.apply({ pids: { limit: 0 } });
      assertEquals(Deno.readTextFileSync(`${m.paths.pids}/pids.max`).trim(), "0");
    });
  },
});

Deno.test({
  name: "v1: killAll(SIGKILL) kills every process, including forks; destroy leaves no dirs",
  ignore,
  async fn() {
    await withManager(async (m) => {
      m.create();
      const shell = new Deno.Command("sh", {
        args: ["-c", "read go; sleep 100 & sleep 100 & wait"],
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
      m.addProcess(shell.pid);
      // Fork only once the shell is in the cgroup: children inherit it.
      await releaseShell(shell);
      // Children forked after addProcess are in the cgroup too.
      for (let i = 0; i < 100 && m.processes().length < 3; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const pids = m.processes();
      assertEquals(pids.length, 3);
      m.killAll(9);
      assertEquals((await shell.status).signal, "SIGKILL");
      for (let i = 0; i < 100 && m.processes().length > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assertEquals(m.processes(), []);
      m.destroy();
      for (const dir of Object.values(m.paths)) assert(!exists(dir), dir);
    });
  },
});

Deno.test({
  name: "v1: unsupported fields are refused by JSON path and nothing is written",
  ignore,
  async fn() {
    await withManager((m) => {
      m.create();
      const before = Deno.readTextFileSync(`${m.paths.pids}/pids.max`).trim();
      assertThrows(
        () => m.apply({ pids: { limit: 5 }, unified: { "memory.high": "1G" } }),
        RuntsError,
        "/linux/resources/unified: not supported on cgroup v1",
      );
      assertEquals(Deno.readTextFileSync(`${m.paths.pids}/pids.max`).trim(), before);
    });
  },
});

Deno.test({
  name: "v1: a value the kernel rejects is reported with the field name",
  ignore,
  async fn() {
    await withManager((m) => {
      m.create();
      const err = assertThrows(
        () => m.apply({ memory: { limit: 4096, swap: 2048 } }),
        RuntsError,
      );
      assert(err.message.includes("/linux/resources/memory/"), err.message);
    });
  },
});
