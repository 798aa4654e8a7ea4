/**
 * The cgroup commands on real detached containers: pause/resume, update, events
 * (--stats and the OOM stream), kill --all and delete --force with processes that
 * escape the init (no pid namespace), and what is left in every hierarchy afterwards.
 */
import { isRoot, runts, runtsPath } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { cgroupDirsOf, type Detached, runDetached, sh } from "./run_helpers.ts";

const ignore = !isRoot();
const MiB = 1024 * 1024;
const CG = "/sys/fs/cgroup";

// deno-lint-ignore no-explicit-any
type Spec = any;

async function status(c: Detached): Promise<string> {
  const r = await runts(["state", c.id], { root: c.root });
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).status;
}

function procState(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/status`).match(/^State:\s+(\S)/m)?.[1] ?? "?";
}

function alive(pid: number): boolean {
  try {
    return procState(pid) !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function procsOf(dir: string): number[] {
  return Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").filter((l) => l).map(Number);
}

/** A container without a pid namespace whose init leaves two background sleeps behind. */
function withoutPidNs(spec: Spec): void {
  spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== "pid");
}
const SPAWNER = sh("sleep 1000 & sleep 1000 & exec sleep 1000");

Deno.test({
  name: "cgroups commands: pause freezes (status paused, tasks frozen), resume continues",
  ignore,
  async fn() {
    const c = await runDetached({
      args: sh("i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done"),
      edit: (spec) => spec.mounts.push({ destination: "/dev/shm", type: "tmpfs", source: "shm" }),
    });
    try {
      const count = async () => {
        const r = await runts(["exec", c.id, "cat", "/dev/shm/count"], { root: c.root });
        return Number(r.stdout.trim());
      };
      const freezer = `${CG}/freezer/runts/${c.id}`;
      assertEquals((await runts(["pause", c.id], { root: c.root })).code, 0);
      assertEquals(await status(c), "paused");
      assertEquals(Deno.readTextFileSync(`${freezer}/freezer.state`).trim(), "FROZEN");
      // Frozen tasks sleep uninterruptibly (D) on v1.
      for (const pid of procsOf(freezer)) assertEquals(procState(pid), "D", `pid ${pid}`);
      const again = await runts(["pause", c.id], { root: c.root });
      assertEquals(again.code, 1);
      assertMatch(again.stderr, /is not running \(status paused\)/);

      assertEquals((await runts(["resume", c.id], { root: c.root })).code, 0);
      assertEquals(await status(c), "running");
      const first = await count();
      await waitFor("the loop to go on after resume", async () => (await count()) > first);
      const notPaused = await runts(["resume", c.id], { root: c.root });
      assertEquals(notPaused.code, 1);
      assertMatch(notPaused.stderr, /is not paused/);
    } finally {
      await c.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups commands: update changes limits live and records them; refused when stopped",
  ignore,
  async fn() {
    const c = await runDetached({
      args: ["sleep", "1000"],
      edit: (spec) => {
        spec.linux.resources.memory = { limit: 64 * MiB };
        spec.linux.namespaces.push({ type: "cgroup" });
      },
    });
    try {
      const mem = `${CG}/memory/runts/${c.id}/memory.limit_in_bytes`;
      assertEquals(Deno.readTextFileSync(mem).trim(), String(64 * MiB));
      const r = await runts(
        ["update", "--memory", "32m", "--pids-limit", "50", "--cpu-quota", "30000", c.id],
        { root: c.root },
      );
      assertEquals(r.code, 0, r.stderr);
      assertEquals(Deno.readTextFileSync(mem).trim(), String(32 * MiB));
      assertEquals(Deno.readTextFileSync(`${CG}/pids/runts/${c.id}/pids.max`).trim(), "50");
      assertEquals(
        Deno.readTextFileSync(`${CG}/cpu/runts/${c.id}/cpu.cfs_quota_us`).trim(),
        "30000",
      );
      // Inside, through the cgroup namespace.
      const inside = await runts(
        ["exec", c.id, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"],
        { root: c.root },
      );
      assertEquals(inside.stdout.trim(), String(32 * MiB), inside.stderr);
      // --resources from stdin.
      const viaJson = await runts(["update", "--resources", "-", c.id], {
        root: c.root,
        stdin: JSON.stringify({ memory: { limit: 40 * MiB } }),
      });
      assertEquals(viaJson.code, 0, viaJson.stderr);
      assertEquals(Deno.readTextFileSync(mem).trim(), String(40 * MiB));
      // Recorded in the state.
      const record = JSON.parse(Deno.readTextFileSync(`${c.root}/${c.id}/state.json`));
      assertEquals(record.spec.linux.resources.memory, { limit: 40 * MiB });
      assertEquals(record.spec.linux.resources.pids, { limit: 50 });
      assertEquals(record.spec.linux.resources.cpu.quota, 30000);
      // Refusals name the flag.
      const kmem = await runts(["update", "--kernel-memory", "1m", c.id], { root: c.root });
      assertEquals(kmem.code, 1);
      assertMatch(kmem.stderr, /--kernel-memory: .*deprecated/);
      const rdt = await runts(["update", "--l3-cache-schema", "L3:0=f", c.id], { root: c.root });
      assertMatch(rdt.stderr, /--l3-cache-schema: Intel RDT/);

      // Stopped: the init is gone.
      Deno.kill(c.pid, "SIGKILL");
      await waitFor("the init to die", () => !alive(c.pid));
      const stopped = await runts(["update", "--memory", "16m", c.id], { root: c.root });
      assertEquals(stopped.code, 1);
      assertMatch(stopped.stderr, /cannot update container .*: it is stopped/);
    } finally {
      await c.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups commands: events --stats prints one stats event in runc's shape",
  ignore,
  async fn() {
    const c = await runDetached({
      args: ["sleep", "1000"],
      edit: (spec) => spec.linux.resources.memory = { limit: 64 * MiB },
    });
    try {
      const r = await runts(["events", "--stats", c.id], { root: c.root });
      assertEquals(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assertEquals(lines.length, 1);
      const ev = JSON.parse(lines[0]);
      assertEquals(ev.type, "stats");
      assertEquals(ev.id, c.id);
      const d = ev.data;
      for (const key of ["cpu", "memory", "pids", "blkio", "hugetlb", "intel_rdt"]) {
        assert(key in d, `data.${key} in ${lines[0]}`);
      }
      assertEquals(d.network_interfaces, null);
      assert(d.cpu.usage.total > 0, "cpu usage");
      assertEquals(d.memory.usage.limit, 64 * MiB);
      assert(d.memory.usage.usage > 0, "memory usage");
      assertEquals(d.pids.current, 1);
      assert(typeof d.memory.raw.total_rss === "number", "raw memory.stat");
    } finally {
      await c.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups commands: events reports an OOM kill in the container",
  ignore,
  async fn() {
    const limit = 16 * MiB;
    const c = await runDetached({
      args: sh(
        "while [ ! -e /dev/shm/go ]; do sleep 0.05; done; " +
          "dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 1000",
      ),
      edit: (spec) => {
        spec.linux.resources.memory = { limit, swap: limit };
        spec.mounts.push({ destination: "/dev/shm", type: "tmpfs", source: "shm" });
      },
    });
    const events = new Deno.Command(runtsPath, {
      args: ["--root", c.root, "events", "--interval", "1s", c.id],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const lines: string[] = [];
    const reading = (async () => {
      let buf = "";
      for await (const chunk of events.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          lines.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      }
    })();
    try {
      // The first stats event: events is watching; now let the hog run.
      await waitFor("a stats event", () => lines.some((l) => l.startsWith('{"type":"stats"')));
      const go = await runts(["exec", c.id, "touch", "/dev/shm/go"], { root: c.root });
      assertEquals(go.code, 0, go.stderr);
      await waitFor("an oom event", () => lines.includes(`{"type":"oom","id":"${c.id}"}`));
      const mem = `${CG}/memory/runts/${c.id}`;
      const oomControl = Deno.readTextFileSync(`${mem}/memory.oom_control`);
      assertMatch(oomControl, /oom_kill [1-9]/);
      const max = Number(Deno.readTextFileSync(`${mem}/memory.max_usage_in_bytes`));
      console.log(`OOM: limit ${limit} bytes, max usage ${max} bytes`);
      assert(max <= limit, `max usage ${max} <= limit ${limit}`);
      assertEquals(await status(c), "running", "the init (sh) survived; dd was killed");
    } finally {
      try {
        events.kill("SIGKILL");
      } catch { /* exited */ }
      await events.status;
      await reading;
      await c.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups commands: events ends when the container stops",
  ignore,
  async fn() {
    const c = await runDetached({ args: ["sleep", "1000"] });
    try {
      const events = new Deno.Command(runtsPath, {
        args: ["--root", c.root, "events", "--interval", "1h", c.id],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Give events a moment to start, then stop the container; events must exit 0.
      await new Promise((r) => setTimeout(r, 500));
      Deno.kill(c.pid, "SIGKILL");
      const out = await events.output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      const gone = await runts(["events", "--stats", c.id], { root: c.root });
      assertEquals(gone.code, 1);
      assertMatch(gone.stderr, /is not running/);
    } finally {
      await c.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups commands: kill --all reaches processes outside the init (no pid namespace)",
  ignore,
  async fn() {
    const c = await runDetached({ args: SPAWNER, edit: withoutPidNs });
    try {
      const pidsDir = `${CG}/pids/runts/${c.id}`;
      await waitFor("three processes", () => procsOf(pidsDir).length === 3);
      const all = procsOf(pidsDir);
      // The init alone: the children survive it (they are re-parented, not killed).
      Deno.kill(c.pid, "SIGKILL");
      await waitFor("the init to die", () => !alive(c.pid));
      const orphans = all.filter((p) => p !== c.pid);
      assert(orphans.every(alive), "the background sleeps outlive the init");
      const r = await runts(["kill", "--all", c.id, "KILL"], { root: c.root });
      assertEquals(r.code, 0, r.stderr);
      await waitFor("every process to die", () => !orphans.some(alive));
      await waitFor("the cgroup to empty", () => procsOf(pidsDir).length === 0);
    } finally {
      await c.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups commands: delete --force kills everything and leaves no cgroup dir anywhere",
  ignore,
  async fn() {
    const c = await runDetached({ args: SPAWNER, edit: withoutPidNs });
    try {
      const pidsDir = `${CG}/pids/runts/${c.id}`;
      await waitFor("three processes", () => procsOf(pidsDir).length === 3);
      const all = procsOf(pidsDir);
      const dirs = cgroupDirsOf(c.id);
      assert(dirs.includes(`${CG}/unified/runts/${c.id}`), `unified dir: ${dirs}`);
      assert(dirs.length >= 6, `a dir per hierarchy: ${dirs}`);
      const r = await runts(["delete", "--force", c.id], { root: c.root });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(cgroupDirsOf(c.id), []);
      await waitFor("every process to die", () => !all.some(alive));
      const st = await runts(["state", c.id], { root: c.root });
      assertEquals(st.code, 1);
    } finally {
      await c.cleanup();
    }
  },
});
