import { assert, assertEquals } from "./assert.ts";
import { asRef, ProgramImage } from "./program_interp.ts";
import {
  containerDevices,
  DEFAULT_DEVICES,
  emitDevices,
  needsDevSetup,
} from "../../src/rootfs/devices.ts";
import { ChildProgram } from "../../src/linux/child.ts";
import { AT, makedev, MS, O } from "../../src/linux/constants.ts";
import { ERRNO } from "../../src/linux/errno.ts";
import type { LinuxDevice, Mount } from "../../src/spec/types.ts";

Deno.test("needsDevSetup: only a bind mount of /dev means the config brings its own /dev", () => {
  assertEquals(needsDevSetup(), true);
  assertEquals(needsDevSetup([]), true);
  const m = (destination: string, type?: string, options?: string[]): Mount => ({
    destination,
    type,
    source: "/dev",
    options,
  });
  assertEquals(needsDevSetup([m("/dev", "tmpfs", ["nosuid"])]), true);
  assertEquals(needsDevSetup([m("/dev", "bind")]), false);
  assertEquals(needsDevSetup([m("/dev", "none", ["rbind", "ro"])]), false);
  assertEquals(needsDevSetup([m("/dev", undefined, ["bind"])]), false);
  assertEquals(needsDevSetup([m("dev", "bind")]), false, "relative destination");
  assertEquals(needsDevSetup([m("/dev/", "bind")]), false, "trailing slash");
  assertEquals(needsDevSetup([m("//dev/../dev", "bind")]), false, "unclean path");
  assertEquals(needsDevSetup([m("/dev/pts", "bind")]), true, "below /dev");
  assertEquals(needsDevSetup([m("/devices", "bind")]), true);
  assertEquals(needsDevSetup([m("/dev", "tmpfs", ["rprivate"])]), true);
});

Deno.test("containerDevices: runc's defaults, config entries win by path", () => {
  assertEquals(DEFAULT_DEVICES.map((d) => [d.path, d.major, d.minor]), [
    ["/dev/null", 1, 3],
    ["/dev/zero", 1, 5],
    ["/dev/full", 1, 7],
    ["/dev/random", 1, 8],
    ["/dev/urandom", 1, 9],
    ["/dev/tty", 5, 0],
  ]);
  assert(DEFAULT_DEVICES.every((d) => d.type === "c" && d.fileMode === 0o666));
  assertEquals(containerDevices(), DEFAULT_DEVICES);
  assertEquals(containerDevices([]), DEFAULT_DEVICES);
  const fuse: LinuxDevice = { path: "/dev/fuse", type: "c", major: 10, minor: 229 };
  const myNull: LinuxDevice = {
    path: "/dev//null",
    type: "c",
    major: 1,
    minor: 3,
    fileMode: 0o600,
  };
  const devs = containerDevices([fuse, myNull]);
  assertEquals(devs.map((d) => d.path), [
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/fuse",
    "/dev//null",
  ]);
  assertEquals(devs[6].fileMode, 0o600);
});

Deno.test("makedev: glibc's encoding, small and large majors/minors", () => {
  assertEquals(makedev(0, 0), 0n);
  assertEquals(makedev(1, 3), 259n);
  assertEquals(makedev(5, 0), 1280n);
  assertEquals(makedev(8, 1), 2049n);
  assertEquals(makedev(136, 2), 0x8802n);
  assertEquals(makedev(0xfff, 0xff), 0xfffffn);
  assertEquals(makedev(0, 0x100), 0x100000n, "minor bits 8+ go to bits 20+");
  assertEquals(makedev(0x1000, 0), 0x1000n << 32n, "major bits 12+ go to bits 44+");
  assertEquals(makedev(259, 65536), 0x10010300n);
  assertEquals(makedev(0x12345, 0x6789a), 0x120006783459an);
  assertEquals(makedev(0xffffffff, 0xffffffff), 0xffffffffffffffffn);
  // The kernel agrees: /dev/null is 1:3.
  assertEquals(BigInt(Deno.statSync("/dev/null").rdev ?? -1), makedev(1, 3));
  assertEquals(BigInt(Deno.statSync("/dev/tty").rdev ?? -1), makedev(5, 0));
});

function devicesProgram(devices: LinuxDevice[], inUserNs: boolean) {
  const p = new ChildProgram();
  p.openRootfs("/rootfs");
  const start = p.ops.length;
  emitDevices(p, devices, inUserNs);
  return { p, ops: p.ops.slice(start), img: () => new ProgramImage(p) };
}

Deno.test("emitDevices: mknod with type bits, mode, dev number, then chown without following", () => {
  const { ops, img } = devicesProgram([
    { path: "/dev/sda", type: "b", major: 8, minor: 0, fileMode: 0o660, uid: 1, gid: 6 },
    { path: "/dev/fifo", type: "p", major: 9, minor: 9 },
    { path: "/dev/net/tun", type: "c", major: 10, minor: 200, fileMode: 0o10666 },
    { path: "/dev/kmsg", type: "u", major: 1, minor: 11 },
  ], false);
  const i = img();
  const mknods = ops.filter((o) => o.name === "mknodat");
  assertEquals(mknods.map((o) => [o.what, i.argStr(o.args[1]), o.args[2], o.args[3]]), [
    ["create device /dev/sda", "sda", 0o060660, makedev(8, 0)],
    ["create device /dev/fifo", "fifo", 0o010666, 0n],
    ["create device /dev/net/tun", "tun", 0o020666, makedev(10, 200)],
    ["create device /dev/kmsg", "kmsg", 0o020666, makedev(1, 11)],
  ]);
  assert(mknods.every((o) => o.options.ignore === ERRNO.EEXIST));
  const chowns = ops.filter((o) => o.name === "fchownat");
  assertEquals(chowns.map((o) => [o.what, o.args.slice(2)]), [
    ["chown device /dev/sda", [1, 6, AT.SYMLINK_NOFOLLOW]],
    ["chown device /dev/fifo", [0, 0, AT.SYMLINK_NOFOLLOW]],
    ["chown device /dev/net/tun", [0, 0, AT.SYMLINK_NOFOLLOW]],
    ["chown device /dev/kmsg", [0, 0, AT.SYMLINK_NOFOLLOW]],
  ]);
  // /dev/net is created first, then the directory is opened inside the rootfs.
  const tun = ops.findIndex((o) => o.what === "create directory /dev/net in the rootfs");
  assert(tun >= 0);
  const open = ops.find((o) => o.name === "openat2" && o.what === "create device /dev/net/tun")!;
  assertEquals(i.argStr(open.args[1]), "dev/net");
  const how = asRef(open.args[2]);
  assertEquals(i.u64(how), BigInt(O.PATH | O.DIRECTORY | O.CLOEXEC));
});

Deno.test("emitDevices: in a user namespace the host node is bind-mounted instead", () => {
  const { ops, img } = devicesProgram([
    { path: "/dev/null", type: "c", major: 1, minor: 3 },
  ], true);
  assert(!ops.some((o) => o.name === "mknodat" && o.what.startsWith("create device")));
  const touch = ops.find((o) => o.name === "mknodat")!;
  assertEquals(touch.what, "create file /dev/null in the rootfs");
  assertEquals(touch.args[2], 0o100644);
  const mount = ops[ops.length - 1];
  const i = img();
  assertEquals(mount.what, "bind-mount host device /dev/null");
  assertEquals(i.argStr(mount.args[0]), "/dev/null");
  assertEquals(i.argStr(mount.args[1]), "/proc/self/fd/5");
  assertEquals(mount.args.slice(2), [0, MS.BIND, 0]);
});
