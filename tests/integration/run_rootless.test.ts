/**
 * Rootless: runts run by an unprivileged user (uid 1000) with `runts spec --rootless`:
 * a user namespace mapping container root to that user, no cgroup of its own, setgroups
 * denied — the container runs as root inside and as uid 1000 outside.
 */
import { requireRoot, run, runts, runtsPath, tempDir, uniqueId } from "../helpers.ts";
import { assertEquals, assertMatch } from "../unit/assert.ts";

Deno.test({
  name: "run: rootless (uid 1000, runts spec --rootless): root inside, uid 1000 outside",
  ...requireRoot(),
  fn: async () => {
    await runts(["--version"]); // the bundle exists before an unprivileged user runs it
    const dir = await tempDir("rootless");
    const bundle = `${dir}/bundle`;
    const root = `${dir}/state`;
    const mk = await run(`${runtsPath.replace(/runts$/, "make-busybox-bundle.sh")}`, [bundle]);
    assertEquals(mk.code, 0, mk.stderr);
    await run("chown", ["-R", "1000:1000", dir]);
    const asUser = (args: string[]) =>
      run("setpriv", ["--reuid", "1000", "--regid", "1000", "--clear-groups", runtsPath, ...args], {
        env: { HOME: dir },
      });
    const spec = await asUser([
      "spec",
      "--bundle",
      bundle,
      "--rootless",
      "--no-tty",
      "--args",
      "sh",
      "-c",
      "id -u; cat /proc/self/uid_map; touch /tmp/x && stat -c %u /tmp/x",
    ]);
    assertEquals(spec.code, 0, spec.stderr);
    // The rootless spec's root is read-only; /tmp is in the rootfs here, so make it writable.
    const cfg = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`));
    cfg.root.readonly = false;
    await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(cfg));
    const r = await asUser(["--root", root, "run", "--bundle", bundle, uniqueId("rl")]);
    assertEquals(r.code, 0, r.stderr);
    const [uid, map, owner] = r.stdout.trim().split("\n");
    assertEquals(uid, "0");
    assertMatch(map, /^\s*0\s+1000\s+1$/);
    assertEquals(owner, "0");
    // Outside, the file belongs to the unprivileged user.
    assertEquals(Deno.statSync(`${bundle}/rootfs/tmp/x`).uid, 1000);
  },
});
