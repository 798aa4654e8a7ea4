/**
 * The cgroup v2 device filter in the real kernel: the hybrid host's cgroup2 hierarchy
 * has no controllers, but BPF_CGROUP_DEVICE programs attach to any cgroup2 directory.
 * A shell moved into the cgroup opens devices; denied ones fail with EPERM
 * ("Operation not permitted"). Goes through the manager's v2 apply() path.
 */
import { assert, assertEquals } from "../unit/assert.ts";
import { detectCgroupMode, openCgroupManager } from "../../src/cgroups/mod.ts";
import { attachedDeviceFilterIds } from "../../src/cgroups/devices_v2.ts";
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
