/**
 * The cgroup v2 device filter, run in tests/unit/bpf_device_interp.ts over (type,
 * major, minor, access) requests and compared with a direct model of the semantics.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { type DeviceRequest, runDeviceProgram } from "./bpf_device_interp.ts";
import {
  decodeProgram,
  deviceFilterProgram,
  encodeProgram,
} from "../../src/cgroups/devices_bpf.ts";
import { defaultAllowedDeviceRules, effectiveDeviceRules } from "../../src/cgroups/devices.ts";
import { openCgroupManager } from "../../src/cgroups/manager.ts";
import { MemCgroupFs } from "../../src/cgroups/memfs.ts";
import { UnsupportedResourcesError } from "../../src/cgroups/plan.ts";
import { planV2Writes } from "../../src/cgroups/v2.ts";
import type { LinuxDeviceCgroup } from "../../src/spec/types.ts";

const BLOCK = 1, CHAR = 2;
const M = 1, R = 2, W = 4;

function allowed(rules: LinuxDeviceCgroup[], req: DeviceRequest): boolean {
  return runDeviceProgram(encodeProgram(deviceFilterProgram(rules)), req) === 1;
}

function req(type: number, major: number, minor: number, access: number): DeviceRequest {
  return { type, major, minor, access };
}

/** The semantics, written directly: per access bit, the last matching rule naming it decides. */
function model(rules: LinuxDeviceCgroup[], r: DeviceRequest): boolean {
  for (const bit of [M, R, W]) {
    if ((r.access & bit) === 0) continue;
    let decision = false;
    for (const rule of rules) {
      const type = rule.type ?? "a";
      if (type !== "a" && (type === "b" ? BLOCK : CHAR) !== r.type) continue;
      if (rule.major !== undefined && rule.major !== -1 && rule.major !== r.major) continue;
      if (rule.minor !== undefined && rule.minor !== -1 && rule.minor !== r.minor) continue;
      const access = rule.access || "rwm";
      const bits = (access.includes("r") ? R : 0) | (access.includes("w") ? W : 0) |
        (access.includes("m") ? M : 0);
      if (bits & bit) decision = rule.allow;
    }
    if (!decision) return false;
  }
  return true;
}

/** runc's default config: deny all, then runc's allowed devices. */
const DEFAULT = effectiveDeviceRules([{ allow: false, access: "rwm" }], undefined);

Deno.test("device filter: runc's default rules", () => {
  assert(allowed(DEFAULT, req(CHAR, 1, 3, R | W)), "/dev/null rw");
  assert(allowed(DEFAULT, req(CHAR, 1, 9, R)), "/dev/urandom r");
  assert(allowed(DEFAULT, req(CHAR, 136, 7, R | W)), "/dev/pts/7");
  assert(allowed(DEFAULT, req(CHAR, 10, 200, R | W)), "/dev/net/tun");
  assert(allowed(DEFAULT, req(CHAR, 4, 0, M)), "mknod of any char device");
  assert(allowed(DEFAULT, req(BLOCK, 8, 0, M)), "mknod of any block device");
  assert(!allowed(DEFAULT, req(BLOCK, 8, 0, R)), "read of /dev/sda");
  assert(!allowed(DEFAULT, req(CHAR, 4, 0, R | W)), "/dev/tty0");
  assert(!allowed(DEFAULT, req(CHAR, 1, 1, R)), "/dev/mem");
  assert(!allowed(DEFAULT, req(CHAR, 10, 229, R | W)), "/dev/fuse");
});

Deno.test("device filter: no rules deny everything; allow-all allows everything", () => {
  for (const r of [req(CHAR, 1, 3, R), req(BLOCK, 8, 0, M | R | W)]) {
    assert(!allowed([], r));
    assert(allowed([{ allow: true, access: "rwm" }], r));
    assert(allowed([{ allow: true }], r), "absent access means rwm");
  }
});

Deno.test("device filter: last match wins, per access bit", () => {
  const rwThenDenyW: LinuxDeviceCgroup[] = [
    { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
    { allow: false, type: "c", major: 1, minor: 3, access: "w" },
  ];
  assert(allowed(rwThenDenyW, req(CHAR, 1, 3, R)));
  assert(!allowed(rwThenDenyW, req(CHAR, 1, 3, W)));
  assert(!allowed(rwThenDenyW, req(CHAR, 1, 3, R | W)), "rw needs w too");
  // A later allow re-opens it.
  const reopened = [...rwThenDenyW, { allow: true, type: "c", major: 1, access: "w" }];
  assert(allowed(reopened, req(CHAR, 1, 3, R | W)));
  // Permissions of separate rules add up.
  const split: LinuxDeviceCgroup[] = [
    { allow: true, type: "c", major: 1, minor: 3, access: "r" },
    { allow: true, type: "c", major: 1, minor: 3, access: "w" },
  ];
  assert(allowed(split, req(CHAR, 1, 3, R | W)));
  assert(!allowed(split, req(CHAR, 1, 3, M)));
  // Type and numbers must match; -1 is a wildcard.
  const wild: LinuxDeviceCgroup[] = [{ allow: true, type: "b", major: 8, minor: -1, access: "r" }];
  assert(allowed(wild, req(BLOCK, 8, 17, R)));
  assert(!allowed(wild, req(CHAR, 8, 17, R)));
  assert(!allowed(wild, req(BLOCK, 9, 0, R)));
  // A deny after an allow-all.
  const denyOne: LinuxDeviceCgroup[] = [
    { allow: true, access: "rwm" },
    { allow: false, type: "c", major: 1, minor: 1, access: "rwm" },
  ];
  assert(allowed(denyOne, req(CHAR, 1, 3, R | W)));
  assert(!allowed(denyOne, req(CHAR, 1, 1, R)));
});

Deno.test("device filter: matches the model on random rule lists and requests", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(xs: T[]) => xs[rand(xs.length)];
  for (let round = 0; round < 300; round++) {
    const rules: LinuxDeviceCgroup[] = [];
    for (let i = rand(8); i > 0; i--) {
      const rule: LinuxDeviceCgroup = { allow: rand(2) === 0 };
      const type = pick(["a", "b", "c", undefined]);
      if (type !== undefined) rule.type = type;
      const major = pick([undefined, -1, 1, 8, 136]);
      if (major !== undefined) rule.major = major;
      const minor = pick([undefined, -1, 0, 3]);
      if (minor !== undefined) rule.minor = minor;
      const access = pick([undefined, "", "r", "w", "m", "rw", "rm", "wm", "rwm"]);
      if (access !== undefined) rule.access = access;
      rules.push(rule);
    }
    const program = encodeProgram(deviceFilterProgram(rules));
    for (let k = 0; k < 20; k++) {
      const r = req(pick([BLOCK, CHAR]), pick([1, 8, 136, 4]), pick([0, 3, 5]), 1 + rand(7));
      assertEquals(
        runDeviceProgram(program, r) === 1,
        model(rules, r),
        `rules ${JSON.stringify(rules)} request ${JSON.stringify(r)}`,
      );
    }
  }
});

Deno.test("device filter: instruction encoding", () => {
  const bytes = encodeProgram(deviceFilterProgram([]));
  // ldxw r2, [r1+0]: code 0x61, dst 2 (low nibble), src 1 (high nibble).
  assertEquals([...bytes.subarray(0, 8)], [0x61, 0x12, 0, 0, 0, 0, 0, 0]);
  // and32 r2, 0xffff.
  assertEquals([...bytes.subarray(8, 16)], [0x54, 0x02, 0, 0, 0xff, 0xff, 0, 0]);
  // The program ends "deny: r0 = 0; exit; allow: r0 = 1; exit".
  const insns = decodeProgram(bytes);
  assertEquals(insns.slice(-4).map((i) => [i.code, i.dst, i.imm]), [
    [0xb4, 0, 0],
    [0x95, 0, 0],
    [0xb4, 0, 1],
    [0x95, 0, 0],
  ]);
  assertEquals(decodeProgram(encodeProgram(insns)), insns);
});

Deno.test("device filter: rules after an unconditional rule are not emitted", () => {
  const short = deviceFilterProgram([{ allow: false, access: "rwm" }]).length;
  const long = deviceFilterProgram([
    ...defaultAllowedDeviceRules(),
    { allow: false, access: "rwm" },
  ]).length;
  assertEquals(long, short);
});

Deno.test("device filter: invalid rules are refused by JSON path", () => {
  assertThrows(
    () => deviceFilterProgram([{ allow: true, type: "c", major: 2 ** 40, access: "r" }]),
    Error,
    "/linux/resources/devices/0/major",
  );
  assertThrows(
    () => deviceFilterProgram([{ allow: true, type: "c", access: "rx" }]),
    Error,
    "/linux/resources/devices/0/access",
  );
  assertThrows(
    () => deviceFilterProgram([{ allow: true, type: "p" }]),
    Error,
    "/linux/resources/devices/0/type",
  );
});

const D = "/sys/fs/cgroup/c1";

Deno.test("v2 apply: device rules go to the eBPF installer, after the file writes", () => {
  const fs = new MemCgroupFs({ [`${D}/cgroup.controllers`]: "pids\n", [`${D}/pids.max`]: "max\n" });
  const calls: [string, LinuxDeviceCgroup[]][] = [];
  const m = openCgroupManager({ mode: "v2", paths: { unified: D } }, {
    fs,
    attachDevices: (dir, rules) => {
      assertEquals(fs.writes.length, 1, "pids.max written first");
      calls.push([dir, rules]);
    },
  });
  m.apply({ devices: DEFAULT, pids: { limit: 5 } });
  assertEquals(calls, [[D, DEFAULT]]);
  assertEquals(fs.writes, [[`${D}/pids.max`, "5"]]);
  // Nothing to install without rules.
  calls.length = 0;
  m.apply({ pids: { limit: 6 } });
  assertEquals(calls, []);
});

Deno.test("v2 plan: a bad device rule refuses the whole update before any write", () => {
  const fs = new MemCgroupFs({ [`${D}/cgroup.controllers`]: "pids\n", [`${D}/pids.max`]: "max\n" });
  const err = assertThrows(
    () =>
      planV2Writes({ devices: [{ allow: true, type: "c", access: "x" }], pids: { limit: 1 } }, {
        dir: D,
        fs,
      }),
    UnsupportedResourcesError,
  );
  assertEquals(err.problems.length, 1);
  assert(err.problems[0].startsWith("/linux/resources/devices/0/access"), err.problems[0]);
});
