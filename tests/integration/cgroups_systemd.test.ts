/**
 * The systemd cgroup driver against a private dbus-daemon (tests/helpers_dbus/bus.conf) and a
 * mock org.freedesktop.systemd1 (tests/helpers_dbus/mock_systemd.py, python3-dbus + GLib), as
 * root on a v1/hybrid host. Every test uses its own slice, runtstest<random>.slice, and
 * removes it in every hierarchy.
 */
import { assert, assertEquals, assertThrows } from "../unit/assert.ts";
import { createCgroupManager, detectCgroupMode, openCgroupManager } from "../../src/cgroups/mod.ts";
import { RuntsError } from "../../src/errors.ts";

const HELPERS = new URL("../helpers_dbus/", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";

function hasPythonDbus(): boolean {
  try {
    const r = new Deno.Command(PYTHON, {
      args: ["-c", "import dbus, dbus.service, gi.repository.GLib"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return r.success;
  } catch {
    return false;
  }
}

function hasDbusDaemon(): boolean {
  try {
    return new Deno.Command("dbus-daemon", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

const ignore = Deno.uid() !== 0 || detectCgroupMode().mode === "v2" || !hasDbusDaemon() ||
  !hasPythonDbus();

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(path: string, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (exists(path)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what} (${path})`);
}

interface Bus {
  address: string;
  tmp: string;
  log: () => Record<string, unknown>[];
}

/** A private bus with the mock systemd on it, and the env the driver reads pointing at them. */
async function withMockSystemd(fn: (bus: Bus) => Promise<void>): Promise<void> {
  const tmp = Deno.makeTempDirSync({ prefix: "runts-sd-" });
  const address = `unix:path=${tmp}/bus`;
  const daemon = new Deno.Command("dbus-daemon", {
    args: ["--nofork", `--config-file=${HELPERS}bus.conf`, `--address=${address}`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let mock: Deno.ChildProcess | undefined;
  const env = ["DBUS_SYSTEM_BUS_ADDRESS", "RUNTS_SYSTEMD_RUNTIME_DIR"];
  const old = env.map((k) => Deno.env.get(k));
  try {
    await waitFor(`${tmp}/bus`, "dbus-daemon's socket");
    mock = new Deno.Command(PYTHON, {
      args: [`${HELPERS}mock_systemd.py`, address, `${tmp}/log`, `${tmp}/ready`],
      stdout: "null",
    }).spawn();
    await waitFor(`${tmp}/ready`, "the mock systemd");
    Deno.mkdirSync(`${tmp}/systemd`);
    Deno.env.set("DBUS_SYSTEM_BUS_ADDRESS", address);
    Deno.env.set("RUNTS_SYSTEMD_RUNTIME_DIR", `${tmp}/systemd`);
    const log = () =>
      exists(`${tmp}/log`)
        ? Deno.readTextFileSync(`${tmp}/log`).trim().split("\n").map((l) => JSON.parse(l))
        : [];
    await fn({ address, tmp, log });
  } finally {
    env.forEach((k, i) => old[i] === undefined ? Deno.env.delete(k) : Deno.env.set(k, old[i]!));
    if (mock) {
      mock.kill("SIGTERM");
      await mock.status;
    }
    daemon.kill("SIGTERM");
    await daemon.status;
    Deno.removeSync(tmp, { recursive: true });
  }
}

/** rmdir <mount>/<slice> (and anything below) in every hierarchy. */
function removeSlice(slice: string): void {
  for (const e of Deno.readDirSync("/sys/fs/cgroup")) {
    const dir = `/sys/fs/cgroup/${e.name}/${slice}`;
    if (!exists(dir)) continue;
    for (const sub of Deno.readDirSync(dir)) {
      if (sub.isDirectory) Deno.removeSync(`${dir}/${sub.name}`);
    }
    Deno.removeSync(dir);
  }
}

const rand = () => Math.random().toString(36).slice(2, 8);

Deno.test({
  name: "systemd driver: StartTransientUnit puts the pid in the unit's cgroup; destroy stops it",
  ignore,
  fn: () =>
    withMockSystemd(async (bus) => {
      const slice = `runtstest${rand()}.slice`;
      const id = `c${rand()}`;
      const sleeper = new Deno.Command("sleep", { args: ["60"] }).spawn();
      try {
        const m = createCgroupManager({
          id,
          cgroupsPath: `${slice}:runts:${id}`,
          systemd: true,
          rootless: false,
        });
        const unit = `runts-${id}.scope`;
        assertEquals(m.paths.pids, `/sys/fs/cgroup/pids/${slice}/${unit}`);
        m.create();
        m.apply({ pids: { limit: 12 }, memory: { limit: 64 << 20 } });
        assertEquals(bus.log(), []);
        m.addProcess(sleeper.pid);

        const [start] = bus.log();
        assertEquals(start.call, "StartTransientUnit");
        assertEquals(start.name, unit);
        assertEquals(start.mode, "replace");
        const props = start.props as Record<string, unknown>;
        assertEquals(props.PIDs, [sleeper.pid]);
        assertEquals(props.Slice, slice);
        assertEquals(props.Delegate, true);
        assertEquals(props.DefaultDependencies, false);
        assertEquals(props.TasksMax, 12);
        assertEquals(props.MemoryLimit, 64 << 20);

        // Every hierarchy: the systemd-managed ones by the mock, cpuset/freezer by runts.
        const own = Deno.readTextFileSync(`/proc/${sleeper.pid}/cgroup`);
        for (const line of own.trim().split("\n")) {
          assert(line.endsWith(`:/${slice}/${unit}`), line);
        }
        for (const dir of new Set(Object.values(m.paths))) {
          assert(
            Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").includes(String(sleeper.pid)),
            dir,
          );
        }
        assertEquals(Deno.readTextFileSync(`${m.paths.pids}/pids.max`).trim(), "12");
        assertEquals(
          Deno.readTextFileSync(`${m.paths.memory}/memory.limit_in_bytes`).trim(),
          String(64 << 20),
        );

        // What the state dir keeps reopens the same unit; destroy stops it.
        const saved = JSON.parse(JSON.stringify(m.toJSON()));
        assertEquals(saved.systemdUnit, unit);
        const again = openCgroupManager(saved);
        assertEquals(again.paths, m.paths);
        assertEquals(again.processes(), [sleeper.pid]);
        again.destroy();
        assertEquals(bus.log().map((e) => [e.call, e.name]), [
          ["StartTransientUnit", unit],
          ["StopUnit", unit],
        ]);
        assertEquals((await sleeper.status).signal, "SIGKILL"); // the mock's stop kills
        for (const dir of Object.values(m.paths)) assert(!exists(dir), `${dir} left behind`);
        // Idempotent: a unit systemd no longer knows is fine.
        again.destroy();
      } finally {
        try {
          sleeper.kill("SIGKILL");
        } catch { /* already gone */ }
        await sleeper.status;
        removeSlice(slice);
      }
    }),
});

Deno.test({
  name: "systemd driver: no bus behind the address → error naming the D-Bus socket",
  ignore,
  fn: () =>
    withMockSystemd((bus) => {
      Deno.env.set("DBUS_SYSTEM_BUS_ADDRESS", `unix:path=${bus.tmp}/nothing`);
      assertThrows(
        () => createCgroupManager({ id: "x", cgroupsPath: "", systemd: true, rootless: false }),
        RuntsError,
        `needs systemd's D-Bus API (unit runts-x.scope): dbus: cannot connect to the system bus at ${bus.tmp}/nothing`,
      );
      return Promise.resolve();
    }),
});
