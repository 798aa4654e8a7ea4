/**
 * The walkthrough's last step for real (opt-in: `deno task test:e2e`, which sets
 * RUNTS_E2E=1; needs root and Debian's package mirrors): a Debian rootfs made with
 * debootstrap, `runts spec --writable --host-network`, then inside the container
 * `apt-get update && apt-get install -y ruby && ruby -v`.
 */
import { assert, assertMatch } from "../unit/assert.ts";
import { isRoot, repoRoot, run, runts, uniqueId } from "../helpers.ts";

const enabled = Deno.env.get("RUNTS_E2E") === "1" && isRoot();
const cache = `${repoRoot}/tests/.work/e2e-debian`;

async function debianRootfs(): Promise<string> {
  const rootfs = `${cache}/rootfs`;
  try {
    Deno.statSync(`${rootfs}/usr/bin/apt-get`);
    return rootfs; // made by an earlier run
  } catch { /* build it */ }
  if ((await run("sh", ["-c", "command -v debootstrap"])).code !== 0) {
    const r = await run("apt-get", ["install", "-y", "debootstrap"], { timeoutMs: 600_000 });
    assert(r.code === 0, `install debootstrap: ${r.stderr}`);
  }
  await Deno.remove(cache, { recursive: true }).catch(() => {});
  await Deno.mkdir(cache, { recursive: true });
  const r = await run(
    "debootstrap",
    ["--variant=minbase", "bookworm", `${cache}/rootfs.tmp`, "http://deb.debian.org/debian"],
    { timeoutMs: 1_200_000 },
  );
  assert(r.code === 0, `debootstrap failed: ${r.stderr.slice(-2000)}`);
  await Deno.rename(`${cache}/rootfs.tmp`, rootfs);
  return rootfs;
}

Deno.test({
  name: "e2e: Debian rootfs, --writable --host-network, apt-get install ruby, ruby -v",
  ignore: !enabled,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await debianRootfs();
    const bundle = `${cache}/bundle-${uniqueId("b")}`;
    await Deno.mkdir(bundle);
    try {
      // A copy keeps the cached debootstrap result pristine between runs.
      const cp = await run("cp", ["-a", `${cache}/rootfs`, `${bundle}/rootfs`], {
        timeoutMs: 300_000,
      });
      assert(cp.code === 0, cp.stderr);
      const spec = await runts([
        "spec",
        "--bundle",
        bundle,
        "--writable",
        "--host-network",
        "--no-tty",
        "--args",
        "sh",
        "-c",
        "apt-get update && apt-get install -y ruby && ruby -v",
      ]);
      assert(spec.code === 0, spec.stderr);
      const r = await runts(["run", "--bundle", bundle, uniqueId("ruby")], {
        timeoutMs: 1_200_000,
      });
      console.log(r.stdout.split("\n").slice(-8).join("\n"));
      assert(r.code === 0, `exit ${r.code}: ${r.stderr.slice(-2000)}`);
      assertMatch(r.stdout, /ruby \d+\.\d+\.\d+/);
    } finally {
      await Deno.remove(bundle, { recursive: true }).catch(() => {});
    }
  },
});
