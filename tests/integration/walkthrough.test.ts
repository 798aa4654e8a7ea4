/**
 * The runc README walkthrough, end to end, in one bundle directory used as the cwd:
 * `runts spec` → `runts run` in a terminal (read-only root: a write fails; own network
 * namespace: only lo) → `runts spec --writable` (a write works) → `runts spec
 * --host-network` (the host's interfaces and /etc/resolv.conf).
 */
import { hasCommand, isRoot, makeBundle, runts, runtsOk, tempRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { assertNothingLeft, ttySession } from "./run_helpers.ts";

function interfaces(procNetDev: string): string[] {
  return procNetDev.replaceAll("\r", "").split("\n").filter((l) => /^\s*[\w.-]+:/.test(l))
    .map((l) => l.split(":")[0].trim()).sort();
}

Deno.test({
  name: "walkthrough: spec, run read-only, --writable, network namespace, --host-network",
  ignore: !isRoot() || !hasCommand("script"),
  fn: async () => {
    // A bundle with only the busybox rootfs: the config comes from `runts spec` below.
    const bundle = await makeBundle();
    const dir = bundle.dir;
    const root = await tempRoot();
    try {
      await Deno.remove(bundle.config);
      const spec = async (...flags: string[]) => {
        await Deno.remove(bundle.config).catch(() => {});
        await runtsOk(["spec", ...flags], { cwd: dir, root });
        return JSON.parse(await Deno.readTextFile(bundle.config));
      };
      const runIt = async (id: string) => {
        const r = await runts(["run", id], { cwd: dir, root });
        await assertNothingLeft(root, id, dir);
        return r;
      };

      // 1. `runts spec` + `runts run` in a terminal, as a user would.
      const def = await spec();
      assertEquals(def.process.terminal, true);
      assertEquals(def.process.args, ["sh"]);
      assertEquals(def.root, { path: "rootfs", readonly: true });
      let id = uniqueId("walk");
      const s = await ttySession({
        dir,
        runtsArgs: ["--root", root, "run", id],
        input: "touch /x; echo touch-rc=$?; cat /proc/net/dev; exit\n",
      });
      await assertNothingLeft(root, id, dir);
      const out = s.output.replaceAll("\r", "");
      assertMatch(out, /Read-only file system/);
      assertMatch(out, /^touch-rc=1$/m);
      assertEquals(interfaces(out.slice(out.indexOf("Inter-|"))), ["lo"]);
      assertEquals(s.runtsCode, "0", s.output);
      assertEquals(s.after, s.before, "terminal settings restored");

      // 2. --writable: the same write works and lands in the rootfs.
      const w = await spec("--writable", "--no-tty", "--args", "sh", "-c", "touch /x && echo ok");
      assertEquals(w.root.readonly, false);
      id = uniqueId("walk");
      let r = await runIt(id);
      assertEquals([r.code, r.stdout], [0, "ok\n"], r.stderr);
      assert((await Deno.lstat(`${dir}/rootfs/x`)).isFile, "/x not in the rootfs");

      // 3. The default network namespace: only lo.
      await spec("--no-tty", "--args", "cat", "/proc/net/dev");
      id = uniqueId("walk");
      r = await runIt(id);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(interfaces(r.stdout), ["lo"]);

      // 4. --host-network: the host's interfaces and resolv.conf.
      const hn = await spec(
        "--host-network",
        "--no-tty",
        "--args",
        "sh",
        "-c",
        "cat /proc/net/dev; echo ---; cat /etc/resolv.conf",
      );
      assert(
        !hn.linux.namespaces.some((n: { type: string }) => n.type === "network"),
        "--host-network kept a network namespace",
      );
      id = uniqueId("walk");
      r = await runIt(id);
      assertEquals(r.code, 0, r.stderr);
      const [netDev, resolv] = r.stdout.split("---\n");
      assertEquals(interfaces(netDev), interfaces(await Deno.readTextFile("/proc/net/dev")));
      assertEquals(resolv, await Deno.readTextFile("/etc/resolv.conf"));
    } finally {
      await bundle.cleanup();
    }
  },
});
