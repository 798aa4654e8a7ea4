/**
 * Process attributes checked from inside: capability sets, no_new_privs, rlimits,
 * oom_score_adj and sysctls.
 */
import { requireRoot } from "../helpers.ts";
import { assertEquals, assertMatch } from "../unit/assert.ts";
import { outputOf, sh } from "./run_helpers.ts";

const CAP: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_KILL: 5,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_RAW: 13,
  CAP_SYS_ADMIN: 21,
  CAP_AUDIT_WRITE: 29,
};

function mask(names: string[]): bigint {
  return names.reduce((m, n) => m | (1n << BigInt(CAP[n])), 0n);
}

function capLines(out: string): Record<string, bigint> {
  const r: Record<string, bigint> = {};
  for (const m of out.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)) r[m[1]] = BigInt("0x" + m[2]);
  return r;
}

const CAPS = {
  bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
  effective: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
  permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
  inheritable: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
  ambient: ["CAP_NET_BIND_SERVICE"],
};

Deno.test({
  name: "run: capability sets of a non-root process follow the config (execve rules)",
  ...requireRoot(),
  fn: async () => {
    // busybox has no file capabilities, so after execve as uid 1000 (kernel rules):
    // permitted = effective = ambient; inheritable, bounding and ambient are kept.
    const out = await outputOf({
      args: ["cat", "/proc/self/status"],
      edit: (s) => {
        s.process.user = { uid: 1000, gid: 1000 };
        s.process.capabilities = CAPS;
      },
    });
    assertEquals(capLines(out), {
      CapInh: mask(CAPS.inheritable),
      CapPrm: mask(CAPS.ambient),
      CapEff: mask(CAPS.ambient),
      CapBnd: mask(CAPS.bounding),
      CapAmb: mask(CAPS.ambient),
    });
  },
});

Deno.test({
  name: "run: capability sets of a root process follow the config (execve rules)",
  ...requireRoot(),
  fn: async () => {
    // uid 0: execve gives permitted = effective = bounding | inheritable (| ambient);
    // with no_new_privs the kernel caps that at the permitted set before execve.
    const gained = mask(CAPS.bounding) | mask(CAPS.inheritable) | mask(CAPS.ambient);
    for (const nnp of [true, false]) {
      const out = await outputOf({
        args: ["cat", "/proc/self/status"],
        edit: (s) => {
          s.process.capabilities = CAPS;
          s.process.noNewPrivileges = nnp;
        },
      });
      const prm = nnp ? gained & mask(CAPS.permitted) : gained;
      assertEquals(capLines(out), {
        CapInh: mask(CAPS.inheritable),
        CapPrm: prm,
        CapEff: prm,
        CapBnd: mask(CAPS.bounding),
        CapAmb: mask(CAPS.ambient),
      }, `noNewPrivileges ${nnp}`);
    }
  },
});

Deno.test({
  name: "run: the default config's capabilities (runc spec)",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({ args: ["cat", "/proc/self/status"] });
    const def = mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    // runc spec lists ambient caps without inheritable ones: raising them fails and is
    // ignored, as runc does.
    assertEquals(capLines(out), {
      CapInh: 0n,
      CapPrm: def,
      CapEff: def,
      CapBnd: def,
      CapAmb: 0n,
    });
  },
});

Deno.test({
  name: "run: an empty capability config drops everything",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: ["cat", "/proc/self/status"],
      edit: (s) => (s.process.capabilities = {}),
    });
    assertEquals(capLines(out), { CapInh: 0n, CapPrm: 0n, CapEff: 0n, CapBnd: 0n, CapAmb: 0n });
  },
});

Deno.test({
  name: "run: NoNewPrivs follows process.noNewPrivileges",
  ...requireRoot(),
  fn: async () => {
    const on = await outputOf({ args: ["grep", "NoNewPrivs", "/proc/self/status"] });
    assertEquals(on, "NoNewPrivs:\t1\n");
    const off = await outputOf({
      args: ["grep", "NoNewPrivs", "/proc/self/status"],
      edit: (s) => (s.process.noNewPrivileges = false),
    });
    assertEquals(off, "NoNewPrivs:\t0\n");
  },
});

Deno.test({
  name: "run: rlimits (lowered below the host's hard limits)",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh("ulimit -n; ulimit -Hn; cat /proc/self/limits"),
      edit: (s) => {
        s.process.rlimits = [
          { type: "RLIMIT_NOFILE", soft: 100, hard: 200 },
          { type: "RLIMIT_CORE", soft: 0, hard: 0 },
          { type: "RLIMIT_NPROC", soft: 500, hard: 600 },
        ];
      },
    });
    const lines = out.split("\n");
    assertEquals(lines[0], "100");
    assertEquals(lines[1], "200");
    assertMatch(out, /^Max open files\s+100\s+200\s+files\s*$/m);
    assertMatch(out, /^Max core file size\s+0\s+0\s+bytes\s*$/m);
    assertMatch(out, /^Max processes\s+500\s+600\s+processes\s*$/m);
  },
});

Deno.test({
  name: "run: oomScoreAdj (raised)",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: ["cat", "/proc/self/oom_score_adj"],
      edit: (s) => (s.process.oomScoreAdj = 567),
    });
    assertEquals(out, "567\n");
  },
});

Deno.test({
  name: "run: sysctl in the container's net and ipc namespaces; host untouched",
  ...requireRoot(),
  fn: async () => {
    const hostForward = await Deno.readTextFile("/proc/sys/net/ipv4/ip_forward");
    const hostShmmax = await Deno.readTextFile("/proc/sys/kernel/shmmax");
    const forward = hostForward.trim() === "1" ? "0" : "1";
    const out = await outputOf({
      args: sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax"),
      edit: (
        s,
      ) => (s.linux.sysctl = { "net.ipv4.ip_forward": forward, "kernel.shmmax": "12345678" }),
    });
    assertEquals(out, `${forward}\n12345678\n`);
    assertEquals(await Deno.readTextFile("/proc/sys/net/ipv4/ip_forward"), hostForward);
    assertEquals(await Deno.readTextFile("/proc/sys/kernel/shmmax"), hostShmmax);
  },
});
