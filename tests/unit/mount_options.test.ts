import { assertEquals, assertThrows } from "./assert.ts";
import {
  bindAttributes,
  parseMountOptions,
  rootfsPropagationFlags,
} from "../../src/rootfs/mount_options.ts";
import { MOUNT_ATTR, MS } from "../../src/linux/constants.ts";
import { RuntsError } from "../../src/errors.ts";

const none = { set: 0, clear: 0 };

Deno.test("mount options: none at all", () => {
  assertEquals(parseMountOptions(), {
    flags: 0,
    data: "",
    propagation: [],
    recursive: none,
    bind: false,
  });
  assertEquals(parseMountOptions([]).flags, 0);
});

Deno.test("mount options: runc's default /dev tmpfs and devpts", () => {
  assertEquals(parseMountOptions(["nosuid", "strictatime", "mode=755", "size=65536k"]), {
    flags: MS.NOSUID | MS.STRICTATIME,
    data: "mode=755,size=65536k",
    propagation: [],
    recursive: none,
    bind: false,
  });
  const pts = parseMountOptions([
    "nosuid",
    "noexec",
    "newinstance",
    "ptmxmode=0666",
    "mode=0620",
    "gid=5",
  ]);
  assertEquals(pts.flags, MS.NOSUID | MS.NOEXEC);
  assertEquals(pts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
});

Deno.test("mount options: later options override earlier ones", () => {
  assertEquals(parseMountOptions(["ro", "rw"]).flags, 0);
  assertEquals(parseMountOptions(["rw", "ro"]).flags, MS.RDONLY);
  assertEquals(parseMountOptions(["nosuid", "suid", "nodev"]).flags, MS.NODEV);
  assertEquals(parseMountOptions(["noexec", "exec"]).flags, 0);
  assertEquals(parseMountOptions(["noatime", "atime"]).flags, 0);
  assertEquals(parseMountOptions(["sync", "async"]).flags, 0);
  assertEquals(parseMountOptions(["nosymfollow", "symfollow"]).flags, 0);
  assertEquals(parseMountOptions(["lazytime", "nolazytime"]).flags, 0);
  assertEquals(parseMountOptions(["mand", "nomand"]).flags, 0);
  assertEquals(parseMountOptions(["silent", "loud"]).flags, 0);
  assertEquals(parseMountOptions(["relatime", "norelatime"]).flags, 0);
  assertEquals(parseMountOptions(["strictatime", "nostrictatime"]).flags, 0);
  assertEquals(parseMountOptions(["dev", "nodev"]).flags, MS.NODEV);
});

Deno.test("mount options: every flag option's bit", () => {
  const cases: [string, number][] = [
    ["bind", MS.BIND],
    ["rbind", MS.BIND | MS.REC],
    ["dirsync", MS.DIRSYNC],
    ["lazytime", MS.LAZYTIME],
    ["mand", MS.MANDLOCK],
    ["noatime", MS.NOATIME],
    ["nodev", MS.NODEV],
    ["nodiratime", MS.NODIRATIME],
    ["noexec", MS.NOEXEC],
    ["nosuid", MS.NOSUID],
    ["nosymfollow", MS.NOSYMFOLLOW],
    ["relatime", MS.RELATIME],
    ["remount", MS.REMOUNT],
    ["ro", MS.RDONLY],
    ["silent", MS.SILENT],
    ["strictatime", MS.STRICTATIME],
    ["sync", MS.SYNCHRONOUS],
    ["defaults", 0],
    ["rw", 0],
  ];
  for (const [o, f] of cases) assertEquals(parseMountOptions([o]).flags, f, o);
});

Deno.test("mount options: bind and rbind set `bind`", () => {
  assertEquals(parseMountOptions(["bind"]).bind, true);
  assertEquals(parseMountOptions(["rbind", "ro"]).bind, true);
  assertEquals(parseMountOptions(["rbind", "ro"]).flags, MS.BIND | MS.REC | MS.RDONLY);
  assertEquals(parseMountOptions(["ro"]).bind, false);
});

Deno.test("mount options: propagation options are kept in order", () => {
  const p = parseMountOptions(["rbind", "rprivate", "shared", "rslave", "unbindable"]);
  assertEquals(p.propagation, [
    MS.PRIVATE | MS.REC,
    MS.SHARED,
    MS.SLAVE | MS.REC,
    MS.UNBINDABLE,
  ]);
  assertEquals(p.flags, MS.BIND | MS.REC, "propagation is not a mount(2) flag here");
  assertEquals(parseMountOptions(["private", "slave", "rshared", "runbindable"]).propagation, [
    MS.PRIVATE,
    MS.SLAVE,
    MS.SHARED | MS.REC,
    MS.UNBINDABLE | MS.REC,
  ]);
});

Deno.test("mount options: recursive (mount_setattr) options", () => {
  assertEquals(parseMountOptions(["rro"]).recursive, { set: MOUNT_ATTR.RDONLY, clear: 0 });
  assertEquals(parseMountOptions(["rro", "rrw"]).recursive, { set: 0, clear: MOUNT_ATTR.RDONLY });
  assertEquals(parseMountOptions(["rrw", "rro"]).recursive, { set: MOUNT_ATTR.RDONLY, clear: 0 });
  assertEquals(parseMountOptions(["rnosuid", "rnodev", "rnoexec"]).recursive, {
    set: MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC,
    clear: 0,
  });
  // relatime is 0 in the atime field: clear the mask, set nothing.
  assertEquals(parseMountOptions(["rrelatime"]).recursive, {
    set: 0,
    clear: MOUNT_ATTR.ATIME_MASK,
  });
  assertEquals(parseMountOptions(["rnodiratime"]).recursive, {
    set: MOUNT_ATTR.NODIRATIME,
    clear: 0,
  });
  assertEquals(parseMountOptions(["rnosymfollow", "rsymfollow"]).recursive, {
    set: 0,
    clear: MOUNT_ATTR.NOSYMFOLLOW,
  });
  assertEquals(parseMountOptions(["rsuid", "rdev", "rexec", "rdiratime"]).recursive, {
    set: 0,
    clear: MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC | MOUNT_ATTR.NODIRATIME,
  });
  assertEquals(parseMountOptions(["rnorelatime", "rnostrictatime"]).recursive, none);
  assertEquals(parseMountOptions(["rro"]).flags, 0, "not a mount(2) flag");
  assertEquals(parseMountOptions(["rro"]).data, "");
});

Deno.test({
  name: "mount options: rnoatime/rstrictatime clear the whole atime field (mount_setattr rule)",
  fn: () => {
    assertEquals(parseMountOptions(["rnoatime"]).recursive, {
      set: MOUNT_ATTR.NOATIME,
      clear: MOUNT_ATTR.ATIME_MASK,
    });
    assertEquals(parseMountOptions(["rstrictatime"]).recursive, {
      set: MOUNT_ATTR.STRICTATIME,
      clear: MOUNT_ATTR.ATIME_MASK,
    });
    assertEquals(parseMountOptions(["rnoatime", "rstrictatime"]).recursive, {
      set: MOUNT_ATTR.STRICTATIME,
      clear: MOUNT_ATTR.ATIME_MASK,
    });
    assertEquals(parseMountOptions(["ratime"]).recursive, {
      set: 0,
      clear: MOUNT_ATTR.ATIME_MASK,
    });
  },
});

Deno.test("mount options: unknown options go to the data string", () => {
  assertEquals(parseMountOptions(["size=1m", "ro", "uid=5", "x"]).data, "size=1m,uid=5,x");
  assertEquals(parseMountOptions(["RO"]).data, "RO", "case-sensitive");
  assertEquals(parseMountOptions(["RO"]).flags, 0);
});

Deno.test("mount options: tmpcopyup, idmap and ridmap are refused with where", () => {
  assertThrows(
    () => parseMountOptions(["tmpcopyup"], "mounts[3] (/tmp)"),
    RuntsError,
    'mounts[3] (/tmp): option "tmpcopyup": copying the image content into a tmpfs',
  );
  assertThrows(() => parseMountOptions(["ro", "idmap"]), RuntsError, 'mount: option "idmap"');
  assertThrows(() => parseMountOptions(["ridmap"]), RuntsError, "idmapped mounts");
});

Deno.test("bindAttributes: per-mount flags of a bind remount as mount_setattr attributes", () => {
  assertEquals(bindAttributes(0), none);
  assertEquals(bindAttributes(MS.BIND | MS.REC), none);
  assertEquals(
    bindAttributes(MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NODIRATIME | MS.NOSYMFOLLOW),
    {
      set: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC |
        MOUNT_ATTR.NODIRATIME | MOUNT_ATTR.NOSYMFOLLOW,
      clear: 0,
    },
  );
  assertEquals(bindAttributes(MS.NOATIME), {
    set: MOUNT_ATTR.NOATIME,
    clear: MOUNT_ATTR.ATIME_MASK,
  });
  assertEquals(bindAttributes(MS.STRICTATIME | MS.RDONLY), {
    set: MOUNT_ATTR.STRICTATIME | MOUNT_ATTR.RDONLY,
    clear: MOUNT_ATTR.ATIME_MASK,
  });
  assertEquals(bindAttributes(MS.RELATIME), { set: 0, clear: MOUNT_ATTR.ATIME_MASK });
  // Flags without a mount attribute are ignored.
  assertEquals(bindAttributes(MS.SYNCHRONOUS | MS.DIRSYNC | MS.SILENT), none);
});

Deno.test("rootfsPropagationFlags: default rslave, every known value, unknown refused", () => {
  assertEquals(rootfsPropagationFlags(undefined), MS.SLAVE | MS.REC);
  assertEquals(rootfsPropagationFlags(""), MS.SLAVE | MS.REC);
  assertEquals(rootfsPropagationFlags("private"), MS.PRIVATE);
  assertEquals(rootfsPropagationFlags("rprivate"), MS.PRIVATE | MS.REC);
  assertEquals(rootfsPropagationFlags("shared"), MS.SHARED);
  assertEquals(rootfsPropagationFlags("rshared"), MS.SHARED | MS.REC);
  assertEquals(rootfsPropagationFlags("slave"), MS.SLAVE);
  assertEquals(rootfsPropagationFlags("rslave"), MS.SLAVE | MS.REC);
  assertEquals(rootfsPropagationFlags("unbindable"), MS.UNBINDABLE);
  assertEquals(rootfsPropagationFlags("runbindable"), MS.UNBINDABLE | MS.REC);
  assertThrows(
    () => rootfsPropagationFlags("bogus"),
    RuntsError,
    'linux.rootfsPropagation: unknown value "bogus"',
  );
  assertThrows(() => rootfsPropagationFlags("ro"), RuntsError, "unknown value");
});
