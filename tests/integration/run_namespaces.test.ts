/**
 * Namespaces seen from inside: pid 1, ipc/uts/net isolation (and sharing when a
 * namespace is not listed), joining another container's namespaces by path, the
 * cgroup namespace, and a user namespace with id mappings.
 */
import { requireRoot, run } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { outputOf, runDetached, runIn, sh } from "./run_helpers.ts";

// deno-lint-ignore no-explicit-any
type AnySpec = any;

function hostNs(name: string): string {
  return Deno.readLinkSync(`/proc/self/ns/${name}`);
}

function without(types: string[]) {
  return (s: AnySpec) => {
    s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) =>
      !types.includes(n.type)
    );
  };
}

const NS_SCRIPT = "for n in pid ipc uts net mnt cgroup; do readlink /proc/self/ns/$n; done";

Deno.test({
  name: "run: the process is pid 1 in its own pid namespace",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh("echo $$; cut -d' ' -f1,2 /proc/1/stat; ls /proc | grep -cE '^[0-9]+$'"),
    });
    const lines = out.split("\n");
    assertEquals(lines[0], "1");
    assertEquals(lines[1], "1 (sh)");
    // Only the shell and the few commands it runs are visible.
    assert(parseInt(lines[2], 10) <= 4, `too many processes visible: ${lines[2]}`);
  },
});

Deno.test({
  name: "run: new pid, ipc, uts, net and mount namespaces; host ones when not listed",
  ...requireRoot(),
  fn: async () => {
    const own = (await outputOf({ args: sh(NS_SCRIPT) })).trim().split("\n");
    ["pid", "ipc", "uts", "net", "mnt"].forEach((n, i) => {
      assert(own[i] !== hostNs(n), `${n} namespace is the host's: ${own[i]}`);
    });
    // runc spec has no cgroup namespace: it is the host's.
    assertEquals(own[5], hostNs("cgroup"));
    const shared = (await outputOf({
      args: sh(NS_SCRIPT),
      edit: (s: AnySpec) => {
        without(["pid", "ipc", "uts", "network"])(s);
        delete s.hostname; // needs a uts namespace
      },
    })).trim().split("\n");
    ["pid", "ipc", "uts", "net"].forEach((n, i) => {
      assertEquals(shared[i], hostNs(n), `${n} namespace`);
    });
    assert(shared[4] !== hostNs("mnt"), "mount namespace is the host's");
  },
});

Deno.test({
  name: "run: a network namespace has only lo; without one the host's interfaces show",
  ...requireRoot(),
  fn: async () => {
    const ifaces = (text: string) =>
      text.split("\n").slice(2).map((l) => l.split(":")[0].trim()).filter((x) => x).sort();
    const inside = await outputOf({ args: ["cat", "/proc/net/dev"] });
    assertEquals(ifaces(inside), ["lo"]);
    const host = await outputOf({ args: ["cat", "/proc/net/dev"], edit: without(["network"]) });
    assertEquals(ifaces(host), ifaces(await Deno.readTextFile("/proc/net/dev")));
  },
});

Deno.test({
  name: "run: ipc namespace isolates System V IPC",
  ...requireRoot(),
  fn: async () => {
    // A segment made on the host is not visible inside; it is with the host's ipc ns.
    const made = await run("ipcmk", ["-M", "4096"]);
    const shmid = made.stdout.match(/id: (\d+)/)?.[1];
    assert(made.code === 0 && shmid, `ipcmk: ${made.stdout}${made.stderr}`);
    try {
      const script = "awk 'NR > 1 {print $2}' /proc/sysvipc/shm";
      const inside = await outputOf({ args: sh(script) });
      assert(!inside.split("\n").includes(shmid), `host segment ${shmid} visible: ${inside}`);
      const shared = await outputOf({ args: sh(script), edit: without(["ipc"]) });
      assert(shared.split("\n").includes(shmid), `host segment ${shmid} not visible: ${shared}`);
    } finally {
      await run("ipcrm", ["-m", shmid]);
    }
  },
});

Deno.test({
  name: "run: joining another container's net, uts and ipc namespaces by path",
  ...requireRoot(),
  fn: async () => {
    const first = await runDetached({
      args: ["sleep", "600"],
      edit: (s: AnySpec) => (s.hostname = "first-box"),
    });
    try {
      const ns = (n: string) => Deno.readLinkSync(`/proc/${first.pid}/ns/${n}`);
      const out = await outputOf({
        args: sh("for n in net uts ipc; do readlink /proc/self/ns/$n; done; hostname"),
        edit: (s: AnySpec) => {
          delete s.hostname; // the joined uts namespace keeps its name
          for (const n of s.linux.namespaces) {
            if (n.type === "network") n.path = `/proc/${first.pid}/ns/net`;
            if (n.type === "uts") n.path = `/proc/${first.pid}/ns/uts`;
            if (n.type === "ipc") n.path = `/proc/${first.pid}/ns/ipc`;
          }
        },
      });
      assertEquals(out, `${ns("net")}\n${ns("uts")}\n${ns("ipc")}\nfirst-box\n`);
      // The first container is still running.
      assert(Deno.readTextFileSync(`/proc/${first.pid}/stat`).includes("(sleep)"));
    } finally {
      await first.cleanup();
    }
  },
});

Deno.test({
  name: "run: joining a pid namespace by path",
  ...requireRoot(),
  fn: async () => {
    const first = await runDetached({ args: ["sleep", "600"] });
    try {
      const out = await outputOf({
        args: sh("readlink /proc/self/ns/pid; cat /proc/1/comm; echo $$"),
        edit: (s: AnySpec) => {
          for (const n of s.linux.namespaces) {
            if (n.type === "pid") n.path = `/proc/${first.pid}/ns/pid`;
          }
        },
      });
      const lines = out.split("\n");
      assertEquals(lines[0], Deno.readLinkSync(`/proc/${first.pid}/ns/pid`));
      assertEquals(lines[1], "sleep");
      assert(lines[2] !== "1", "the joining process must not be pid 1");
    } finally {
      await first.cleanup();
    }
  },
});

Deno.test({
  name: "run: cgroup namespace: /proc/self/cgroup shows /",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: ["cat", "/proc/self/cgroup"],
      edit: (s: AnySpec) => s.linux.namespaces.push({ type: "cgroup" }),
    });
    const lines = out.trim().split("\n");
    assert(lines.length > 0, "empty /proc/self/cgroup");
    for (const l of lines) assertMatch(l, /^\d+:[^:]*:\/$/);
    // Without one, the container's cgroup path shows.
    const r = await runIn({ args: ["cat", "/proc/self/cgroup"] });
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, new RegExp(`:/runts/${r.id}$`, "m"));
  },
});

Deno.test({
  name: "run: user namespace with uid/gid mappings (root inside is 100000 outside)",
  ...requireRoot(),
  fn: async () => {
    let rootfs = "";
    const r = await runIn({
      args: sh(
        "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/made-inside && " +
          "stat -c '%u:%g' /tmp/made-inside; stat -c '%u:%g' /bin/busybox",
      ),
      keepBundle: true,
      prepare: async (dir) => {
        rootfs = dir;
        // The mapped root must be able to reach the rootfs (makeTempDir makes 0700 dirs).
        await Deno.chmod(`${dir}/..`, 0o755);
      },
      edit: (s: AnySpec) => {
        s.root.readonly = false;
        s.linux.namespaces.push({ type: "user" });
        s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      },
    });
    try {
      assertEquals(r.code, 0, r.stderr);
      const lines = r.stdout.split("\n").map((l) => l.trim().split(/\s+/).join(" "));
      assertEquals(lines.slice(0, 5), [
        "0 100000 65536",
        "0 100000 65536",
        "0",
        "0:0",
        "65534:65534",
      ]);
      const st = await Deno.stat(`${rootfs}/tmp/made-inside`);
      assertEquals([st.uid, st.gid], [100000, 100000]);
    } finally {
      await r.bundle.cleanup();
    }
  },
});
