import { assert, assertEquals, assertThrows } from "./assert.ts";
import { asRef, ProgramImage } from "./program_interp.ts";
import {
  capMask,
  emitBoundingSet,
  emitCapabilities,
  emitUser,
  kernelLastCap,
} from "../../src/process/credentials.ts";
import { ChildProgram } from "../../src/linux/child.ts";
import { PR } from "../../src/linux/constants.ts";
import { RuntsError } from "../../src/errors.ts";

Deno.test("kernelLastCap: the kernel's cap_last_cap", () => {
  const want = parseInt(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap"), 10);
  assertEquals(kernelLastCap(), want);
  assert(want >= 36 && want < 64);
});

Deno.test("capMask: names to bits, unknown names refused, caps above lastCap skipped", () => {
  assertEquals(capMask(undefined, 40, "x"), 0n);
  assertEquals(capMask([], 40, "x"), 0n);
  assertEquals(capMask(["CAP_CHOWN"], 40, "x"), 1n);
  assertEquals(
    capMask(["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"], 40, "x"),
    0x20000420n,
  );
  assertEquals(capMask(["CAP_KILL", "CAP_KILL"], 40, "x"), 0x20n, "duplicates");
  assertEquals(capMask(["CAP_CHECKPOINT_RESTORE", "CAP_BPF"], 40, "x"), (1n << 40n) | (1n << 39n));
  assertEquals(capMask(["CAP_CHECKPOINT_RESTORE", "CAP_BPF", "CAP_SYSLOG"], 38, "x"), 1n << 34n);
  assertEquals(capMask(["CAP_SYSLOG"], 34, "x"), 1n << 34n, "lastCap itself is kept");
  assertThrows(
    () => capMask(["CAP_KILL", "CAP_FOO"], 40, "process.capabilities.bounding"),
    RuntsError,
    'process.capabilities.bounding: unknown capability "CAP_FOO"',
  );
  assertThrows(() => capMask(["kill"], 40, "w"), RuntsError, 'unknown capability "kill"');
  // An unknown name is refused even when other names are above lastCap.
  assertThrows(() => capMask(["CAP_BPF", "CAP_NOPE"], 30, "w"), RuntsError, "CAP_NOPE");
});

Deno.test("emitBoundingSet: one PR_CAPBSET_DROP per capability not kept, up to lastCap", () => {
  const p = new ChildProgram();
  emitBoundingSet(p, { bounding: ["CAP_CHOWN", "CAP_FSETID"] }, 5);
  assertEquals(p.ops.map((o) => o.args), [
    [PR.CAPBSET_DROP, 1, 0, 0, 0],
    [PR.CAPBSET_DROP, 2, 0, 0, 0],
    [PR.CAPBSET_DROP, 3, 0, 0, 0],
    [PR.CAPBSET_DROP, 5, 0, 0, 0],
  ]);
  assertEquals(p.ops[0].what, "drop capability 1 from the bounding set");
  const none = new ChildProgram();
  emitBoundingSet(none, undefined, 3);
  assertEquals(none.ops.length, 4, "no capabilities: drop 0..3");
});

Deno.test("emitUser: groups, keepcaps around setresgid/setresuid", () => {
  const p = new ChildProgram();
  emitUser(p, {
    user: { uid: 1000, gid: 1001, additionalGids: [4, 70000] },
    lastCap: 40,
    skipSetgroups: false,
  });
  assertEquals(p.ops.map((o) => [o.name, o.what]), [
    ["setgroups", "setgroups(4,70000)"],
    ["prctl", "keep capabilities across setuid"],
    ["setresgid", "setresgid(1001)"],
    ["setresuid", "setresuid(1000)"],
    ["prctl", "clear keep-capabilities"],
  ]);
  const img = new ProgramImage(p);
  assertEquals(p.ops[0].args[0], 2);
  assertEquals(
    img.read(asRef(p.ops[0].args[1]), 8),
    new Uint8Array([4, 0, 0, 0, 0x70, 0x11, 1, 0]),
  );
  assertEquals(p.ops[1].args, [PR.SET_KEEPCAPS, 1, 0, 0, 0]);
  assertEquals(p.ops[2].args, [1001, 1001, 1001]);
  assertEquals(p.ops[3].args, [1000, 1000, 1000]);
  assertEquals(p.ops[4].args, [PR.SET_KEEPCAPS, 0, 0, 0, 0]);
  const skip = new ChildProgram();
  emitUser(skip, { user: { uid: 0, gid: 0 }, lastCap: 40, skipSetgroups: true });
  assertEquals(skip.ops.map((o) => o.name), ["prctl", "setresgid", "setresuid", "prctl"]);
  const empty = new ChildProgram();
  emitUser(empty, { user: { uid: 0, gid: 0 }, lastCap: 40, skipSetgroups: false });
  assertEquals(empty.ops[0].args[0], 0, "setgroups(0, ...) clears the groups");
});

Deno.test("emitCapabilities: capset v3 with low and high words; ambient raises", () => {
  const p = new ChildProgram();
  emitCapabilities(p, {
    effective: ["CAP_KILL", "CAP_BPF"],
    permitted: ["CAP_KILL", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"],
    inheritable: ["CAP_CHOWN"],
    ambient: ["CAP_KILL", "CAP_CHECKPOINT_RESTORE"],
  }, 39);
  assertEquals(p.ops.map((o) => o.what), [
    "set capabilities (capset)",
    "clear ambient capabilities",
    "raise ambient capability CAP_KILL",
  ]);
  const img = new ProgramImage(p);
  const header = new DataView(img.read(asRef(p.ops[0].args[0]), 8).buffer);
  assertEquals([header.getUint32(0, true), header.getInt32(4, true)], [0x20080522, 0]);
  const data = new DataView(img.read(asRef(p.ops[0].args[1]), 24).buffer);
  // struct __user_cap_data_struct[2] = {eff, perm, inh} low words, then high words
  assertEquals([0, 1, 2, 3, 4, 5].map((i) => data.getUint32(i * 4, true)), [
    1 << 5,
    1 << 5,
    1,
    1 << 7,
    1 << 7, // CAP_CHECKPOINT_RESTORE (40) is above lastCap 39: dropped
    0,
  ]);
  assertEquals(p.ops[1].args, [PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL, 0, 0, 0]);
  assertEquals(p.ops[1].options, { ignore: 22 });
  assertEquals(p.ops[2].args, [PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, 5, 0, 0]);
  assertEquals(p.ops[2].options, { ignore: 1 });
  assertThrows(
    () => emitCapabilities(new ChildProgram(), { permitted: ["CAP_X"] }, 40),
    RuntsError,
    'process.capabilities.permitted: unknown capability "CAP_X"',
  );
});

Deno.test({
  name: "emitCapabilities: an unknown ambient capability is refused like the other sets",
  fn: () => {
    assertThrows(
      () => emitCapabilities(new ChildProgram(), { ambient: ["CAP_NOPE"] }, 40),
      RuntsError,
      'process.capabilities.ambient: unknown capability "CAP_NOPE"',
    );
  },
});
