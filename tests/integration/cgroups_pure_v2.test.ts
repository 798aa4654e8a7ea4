/**
 * runts on a pure cgroup v2 layout, made for real on this hybrid host: in a private
 * mount namespace the v1 tree under /sys/fs/cgroup is unmounted and the (single)
 * cgroup2 hierarchy mounted there instead, so runts detects "v2" and takes its v2
 * paths end to end: the container's cgroup in the v2 tree, the eBPF device filter
 * enforcing runc's default device rules, and the cgroup removed afterwards.
 */
import { requireRoot, runtsPath, tempRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { makeBundle, run } from "../helpers.ts";

async function inPureV2(script: string, env: Record<string, string>) {
  const setup = "umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && ";
  return await run("unshare", ["-m", "--propagation", "private", "sh", "-c", setup + script], {
    env,
  });
}

Deno.test({
  name: "cgroups v2 layout: container in the v2 tree, eBPF device filter enforced, cgroup removed",
  ...requireRoot(),
  fn: async () => {
    const bundle = await makeBundle({
      args: [
        "sh",
        "-c",
        "cat /proc/self/cgroup; head -c1 /dev/zero >/dev/null && echo zero-ok; " +
        "mknod /tmp/mem c 1 1 && (head -c1 /tmp/mem >/dev/null 2>&1 && echo mem-open || echo mem-denied)",
      ],
      edit: (s) => {
        s.root.readonly = false;
        for (const set of ["bounding", "effective", "permitted"]) {
          s.process.capabilities[set].push("CAP_MKNOD");
        }
      },
    });
    const root = await tempRoot();
    const id = uniqueId("v2");
    try {
      const r = await inPureV2(
        `"$RUNTS" --root "$ROOT" features | grep -q '"v2": true' && ` +
          `"$RUNTS" --root "$ROOT" run --bundle "$BUNDLE" "$ID"; echo "exit=$?"; ` +
          `test -e "/sys/fs/cgroup/runts/$ID" && echo cgroup-left || echo cgroup-gone`,
        { RUNTS: runtsPath, ROOT: root, BUNDLE: bundle.dir, ID: id },
      );
      assertEquals(r.code, 0, r.stderr);
      // The v2 entry ("0::") is the container's cgroup under runts' default parent.
      assertMatch(r.stdout, new RegExp(`^0::/runts/${id}$`, "m"));
      assertMatch(r.stdout, /^zero-ok$/m);
      assertMatch(r.stdout, /^mem-denied$/m);
      assertMatch(r.stdout, /^exit=0$/m);
      assertMatch(r.stdout, /^cgroup-gone$/m);
      assert(!r.stdout.includes("mem-open"), r.stdout);
    } finally {
      await bundle.cleanup();
    }
  },
});

Deno.test({
  name: "cgroups v2 layout: pause/resume through cgroup.freeze, kill --all through cgroup.kill",
  ...requireRoot(),
  fn: async () => {
    const bundle = await makeBundle({ args: ["sh", "-c", "sleep 100 & sleep 100"] });
    const root = await tempRoot();
    const id = uniqueId("v2l");
    try {
      const r = await inPureV2(
        `R="$RUNTS --root $ROOT"; cg=/sys/fs/cgroup/runts/$ID; ` +
          `$R run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 || echo run-failed; ` +
          `$R pause "$ID"; echo "freeze=$(cat $cg/cgroup.freeze)"; ` +
          `$R state "$ID" | grep -o '"status": "[a-z]*"'; ` +
          `$R resume "$ID"; echo "freeze=$(cat $cg/cgroup.freeze)"; ` +
          `echo "procs=$(wc -l < $cg/cgroup.procs)"; ` +
          `$R kill --all "$ID" KILL; sleep 0.5; echo "procs=$(wc -l < $cg/cgroup.procs)"; ` +
          `$R state "$ID" | grep -o '"status": "[a-z]*"'; ` +
          `$R delete "$ID"; test -e "$cg" && echo cgroup-left || echo cgroup-gone`,
        { RUNTS: runtsPath, ROOT: root, BUNDLE: bundle.dir, ID: id },
      );
      assertEquals(r.code, 0, r.stderr);
      assert(!r.stdout.includes("run-failed"), r.stderr);
      assertEquals(r.stdout.trim().split("\n"), [
        "freeze=1",
        '"status": "paused"',
        "freeze=0",
        "procs=2", // the shell execs the last sleep: two processes
        "procs=0",
        '"status": "stopped"',
        "cgroup-gone",
      ], r.stderr);
    } finally {
      await bundle.cleanup();
    }
  },
});
