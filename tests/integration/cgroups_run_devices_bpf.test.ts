/**
 * The cgroup v2 device filter in the real kernel: the hybrid host's cgroup2 hierarchy
 * has no controllers, but BPF_CGROUP_DEVICE programs attach to any cgroup2 directory.
 * A shell moved into the cgroup opens devices; denied ones fail with EPERM
 * ("Operation not permitted"). Goes through the manager's v2 apply() path.
 */
import { assert, assertEquals, assertThrows } from "../unit/assert.ts";
import {
  createCgroupManager,
  detectCgroupHost,
  detectCgroupMode,
  effectiveDeviceRules,
  openCgroupManager,
  UnsupportedResourcesError,
} from "../../src/cgroups/mod.ts";
import { attachDeviceFilter, attachedDeviceFilterIds } from "../../src/cgroups/devices_v2.ts";
import {
  DEVICE_FILTER_LICENSE,
  deviceFilterProgram,
  encodeProgram,
} from "../../src/cgroups/devices_bpf.ts";
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgAttach,
  bpfProgLoad,
} from "../../src/linux/bpf.ts";
import { O } from "../../src/linux/constants.ts";
import { close, openat } from "../../src/linux/syscalls.ts";
import type { LinuxDeviceCgroup } from "../../src/spec/types.ts";

const host = detectCgroupMode();
const ignore = Deno.uid() !== 0 || host.unifiedMount === undefined;

async function withV2Cgroup(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = `${host.unifiedMount}/runts-bpf-test-${crypto.randomUUID().slice(0, 8)}`;
  Deno.mkdirSync(dir);
  try {
    await fn(dir);
  } finally {
    try {
      Deno.writeTextFileSync(`${dir}/cgroup.kill`, "1");
    } catch { /* empty */ }
    for (let i = 0; i < 200; i++) {
      try {
        Deno.removeSync(dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
}

/** A shell that joins `dir`, then reports which opens work. */
async function probe(dir: string, tmp: string): Promise<Record<string, string>> {
  const script = `echo $$ > ${dir}/cgroup.procs || exit 9
try() { if eval "$2" 2>/dev/fd/3; then echo "$1=ok"; else echo "$1=denied"; fi; }
exec 3>&2
try read-null 'true < /dev/null'
try write-null 'true > /dev/null'
try read-zero 'true < /dev/zero'
try write-zero 'true > /dev/zero'
try read-full 'true < /dev/full'
try mknod-full 'mknod ${tmp}/full c 1 7'
try read-kmsg 'true < /dev/kmsg'
`;
  const out = await new Deno.Command("sh", { args: ["-c", script], stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const result: Record<string, string> = {};
  for (const line of text.trim().split("\n")) {
    const [k, v] = line.split("=");
    result[k] = v;
  }
  result.stderr = new TextDecoder().decode(out.stderr);
  return result;
}

Deno.test({
  name: "v2 device filter: denied devices fail with EPERM, allowed ones open; update replaces it",
  ignore,
  async fn() {
    const tmp = Deno.makeTempDirSync();
    try {
      await withV2Cgroup(async (dir) => {
        const m = openCgroupManager({ mode: "v2", paths: { unified: dir } });
        const rules: LinuxDeviceCgroup[] = [
          { allow: false, access: "rwm" },
          { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
          { allow: true, type: "c", major: 1, minor: 5, access: "r" },
        ];
        m.apply({ devices: rules });
        assertEquals(attachedDeviceFilterIds(dir).length, 1);
        const first = await probe(dir, tmp);
        assertEquals(first["read-null"], "ok");
        assertEquals(first["write-null"], "ok");
        assertEquals(first["read-zero"], "ok");
        assertEquals(first["write-zero"], "denied");
        assertEquals(first["read-full"], "denied");
        assertEquals(first["mknod-full"], "denied");
        assert(first.stderr.includes("Operation not permitted"), first.stderr);

        // An update installs the new rules in place of the old program.
        const before = attachedDeviceFilterIds(dir);
        m.apply({ devices: [...rules, { allow: true, type: "c", major: 1, minor: 7 }] });
        const after = attachedDeviceFilterIds(dir);
        assertEquals(after.length, 1, `attached: ${after}`);
        assert(after[0] !== before[0], "a new program replaced the old one");
        const second = await probe(dir, tmp);
        assertEquals(second["read-full"], "ok");
        assertEquals(second["mknod-full"], "ok");
        assertEquals(second["write-zero"], "denied");

        // Allow-all lifts every restriction (a program that allows everything).
        m.apply({ devices: [{ allow: true, access: "rwm" }] });
        assertEquals(attachedDeviceFilterIds(dir).length, 1);
        assertEquals((await probe(dir, tmp))["write-zero"], "ok");
      });
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "v2 manager as on a pure-v2 host: create, refuse missing controllers, devices, freeze, kill",
  ignore,
  async fn() {
    const real = detectCgroupHost();
    // This host's cgroup2 tree seen as a pure-v2 host (it has no controllers to enable).
    const host = { ...real, mode: "v2" as const, v1Controllers: new Map<string, string>() };
    const parent = `/runts-v2-test-${crypto.randomUUID().slice(0, 8)}`;
    const tmp = Deno.makeTempDirSync();
    const m = createCgroupManager({
      id: "c1",
      cgroupsPath: `${parent}/c1`,
      systemd: false,
      rootless: false,
    }, { host });
    const dir = `${host.unifiedMount}${parent}/c1`;
    try {
      assertEquals(m.paths, { unified: dir });
      m.create();
      assert(Deno.statSync(dir).isDirectory);
      // No controller may be enabled here: resources needing one are refused by name.
      const err = assertThrows(() => m.apply({ pids: { limit: 5 } }), UnsupportedResourcesError);
      assertEquals(err.problems, [
        `/linux/resources/pids: the pids controller is not enabled for ${dir}`,
      ]);
      // runc's default device list, as setup passes it.
      m.apply({ devices: effectiveDeviceRules([{ allow: false, access: "rwm" }], undefined) });
      const seen = await probe(dir, tmp);
      assertEquals(seen["read-null"], "ok");
      assertEquals(seen["write-zero"], "ok");
      assertEquals(seen["read-full"], "ok");
      assertEquals(seen["mknod-full"], "ok", "c *:* m is in runc's defaults");
      assertEquals(seen["read-kmsg"], "denied", "/dev/kmsg (1:11) is not");

      const shell = new Deno.Command("sh", {
        args: ["-c", `echo $$ > ${dir}/cgroup.procs; sleep 100 & sleep 100 & wait`],
      }).spawn();
      for (let i = 0; i < 200 && m.processes().length < 3; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assertEquals(m.processes().length, 3);
      m.freeze();
      assertEquals(m.state(), "frozen");
      m.thaw();
      m.killAll(9);
      assertEquals((await shell.status).signal, "SIGKILL");
      for (let i = 0; i < 200 && m.processes().length > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      m.destroy();
      assert(!exists(dir), "destroyed");
    } finally {
      try {
        Deno.removeSync(dir);
      } catch { /* destroyed */ }
      Deno.removeSync(`${host.unifiedMount}${parent}`);
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "v2 device filter: with several old programs, attach then detach every old one",
  ignore,
  async fn() {
    await withV2Cgroup(async (dir) => {
      // Two programs attached by someone else (BPF_F_REPLACE cannot swap two for one).
      const fd = openat(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC);
      try {
        for (let i = 0; i < 2; i++) {
          const prog = bpfProgLoad(
            BPF_PROG_TYPE_CGROUP_DEVICE,
            encodeProgram(deviceFilterProgram([{ allow: true, access: "rwm" }])),
            DEVICE_FILTER_LICENSE,
            BPF_CGROUP_DEVICE,
          );
          bpfProgAttach(fd, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
          close(prog);
        }
      } finally {
        close(fd);
      }
      const old = attachedDeviceFilterIds(dir);
      assertEquals(old.length, 2);
      attachDeviceFilter(dir, [{ allow: false, access: "rwm" }, {
        allow: true,
        type: "c",
        major: 1,
        minor: 3,
      }]);
      const now = attachedDeviceFilterIds(dir);
      assertEquals(now.length, 1);
      assert(!old.includes(now[0]));
      const tmp = Deno.makeTempDirSync();
      try {
        const seen = await probe(dir, tmp);
        assertEquals(seen["read-null"], "ok");
        assertEquals(seen["read-zero"], "denied");
      } finally {
        Deno.removeSync(tmp, { recursive: true });
      }
    });
  },
});
