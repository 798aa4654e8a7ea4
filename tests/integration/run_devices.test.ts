/**
 * /dev inside the container: the default nodes (type, major:minor, mode), the
 * /dev/fd and std* links, /dev/ptmx → pts/ptmx, linux.devices entries, and the device
 * cgroup refusing a node that was not allowed.
 */
import { requireRoot } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { outputOf, runIn, sh } from "./run_helpers.ts";

// deno-lint-ignore no-explicit-any
type AnySpec = any;

const STAT = "stat -c '%n %F %t:%T %a %u:%g'";

Deno.test({
  name: "run: default devices with their numbers and modes",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh(
        `${STAT} /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; ` +
          "head -c 4 /dev/zero | od -An -tx1; echo hi > /dev/null && echo null-ok",
      ),
    });
    // stat prints major:minor in hex.
    assertEquals(
      out,
      [
        "/dev/null character special file 1:3 666 0:0",
        "/dev/zero character special file 1:5 666 0:0",
        "/dev/full character special file 1:7 666 0:0",
        "/dev/random character special file 1:8 666 0:0",
        "/dev/urandom character special file 1:9 666 0:0",
        "/dev/tty character special file 5:0 666 0:0",
        " 00 00 00 00",
        "null-ok",
        "",
      ].join("\n"),
    );
  },
});

Deno.test({
  name: "run: /dev/fd, /dev/std* and /dev/ptmx links",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh("for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done"),
    });
    assertEquals(
      out,
      "fd /proc/self/fd\nstdin /proc/self/fd/0\nstdout /proc/self/fd/1\n" +
        "stderr /proc/self/fd/2\nptmx pts/ptmx\n",
    );
  },
});

Deno.test({
  name: "run: linux.devices entries are created and usable",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh(
        `${STAT} /dev/fuse /dev/custom/sub/mynull /dev/custom/fifo; ` +
          "echo x > /dev/custom/sub/mynull && echo mynull-ok; exec 3<>/dev/fuse && echo fuse-ok",
      ),
      edit: (s: AnySpec) => {
        s.linux.devices = [
          { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
          {
            path: "/dev/custom/sub/mynull",
            type: "c",
            major: 1,
            minor: 3,
            fileMode: 0o620, // root writes through gid 0 (no CAP_DAC_OVERRIDE)
            uid: 1000,
            gid: 0,
          },
          { path: "/dev/custom/fifo", type: "p", fileMode: 0o600 },
        ];
      },
    });
    assertEquals(
      out,
      [
        "/dev/fuse character special file a:e5 666 0:0",
        "/dev/custom/sub/mynull character special file 1:3 620 1000:0",
        "/dev/custom/fifo fifo 0:0 600 0:0",
        "mynull-ok",
        "fuse-ok",
        "",
      ].join("\n"),
    );
  },
});

Deno.test({
  name: "run: the device cgroup refuses a node made with mknod unless it is allowed",
  ...requireRoot(),
  fn: async () => {
    const caps = ["CAP_MKNOD", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"];
    const script = "mknod /dev/myfuse c 10 229 && echo made; exec 3<>/dev/myfuse && echo opened";
    const denied = await runIn({
      args: sh(script),
      edit: (s: AnySpec) => {
        s.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
      },
    });
    assertEquals(denied.stdout, "made\n", denied.stderr);
    assert(denied.code !== 0, "opening a disallowed device must fail");
    assertMatch(denied.stderr, /Operation not permitted/);
    // The same node, allowed by a resources.devices rule, opens: the refusal was the cgroup.
    const allowed = await outputOf({
      args: sh(script),
      edit: (s: AnySpec) => {
        s.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
        s.linux.resources.devices.push({ allow: true, type: "c", major: 10, minor: 229 });
      },
    });
    assertEquals(allowed, "made\nopened\n");
  },
});
