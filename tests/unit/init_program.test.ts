/**
 * buildInitProgram: the container's whole setup as data. These tests read the op
 * list (names, arguments, descriptions) for runc's default config and variants.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { asRef, ProgramImage } from "./program_interp.ts";
import {
  buildInitProgram,
  type InitOptions,
  type InitProgram,
} from "../../src/container/init_program.ts";
import { Sync, syncRecord } from "../../src/container/sync.ts";
import type { Op } from "../../src/linux/program.ts";
import { CLONE, MS, O, PR, SIGCHLD } from "../../src/linux/constants.ts";
import { ERRNO } from "../../src/linux/errno.ts";
import { kernelLastCap } from "../../src/process/credentials.ts";
import { RuntsError } from "../../src/errors.ts";
import type { ChildProgram } from "../../src/linux/child.ts";
import type { LinuxNamespace, Mount, Spec } from "../../src/spec/types.ts";

const fixture = new URL("./fixtures/runc-spec.json", import.meta.url);
const rootfs = Deno.makeTempDirSync({ prefix: "runts-init-rootfs-" });
const lastCap = kernelLastCap();

/** runc's default config without its "cgroup" mount. */
function runcSpec(): Spec {
  const spec: Spec = JSON.parse(Deno.readTextFileSync(fixture));
  spec.mounts = spec.mounts!.filter((m) => m.type !== "cgroup");
  return spec;
}

function build(
  spec: Spec = runcSpec(),
  over: Partial<InitOptions> = {},
): InitProgram & { ops: Op[]; whats: string[]; img: () => ProgramImage } {
  const built = buildInitProgram({
    spec,
    id: "c1",
    newKeyring: true,
    bundle: "/bundle",
    rootfs,
    syncFd: 20,
    preserveFds: 0,
    noPivot: false,
    hooksBeforePivot: false,
    ...over,
  });
  const ops = built.program.ops;
  return {
    ...built,
    ops,
    whats: ops.map((o) => o.what),
    img: () => new ProgramImage(built.program),
  };
}

function at(whats: string[], what: string): number {
  const i = whats.indexOf(what);
  if (i < 0) throw new Error(`no op "${what}" in:\n${whats.join("\n")}`);
  return i;
}

function inOrder(whats: string[], list: string[]): void {
  const idx = list.map((w) => at(whats, w));
  for (let i = 1; i < idx.length; i++) {
    assert(idx[i - 1] < idx[i], `"${list[i - 1]}" (${idx[i - 1]}) before "${list[i]}" (${idx[i]})`);
  }
}

const PATH_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

Deno.test("init: runc's default config, stage by stage in runc's order", () => {
  const b = build();
  const w = b.whats;
  inOrder(w, [
    "move the sync socket",
    "set parent-death signal",
    "mark the setup process non-dumpable",
    "id maps and cgroup (tell runts)",
    "id maps and cgroup (wait for runts)",
    "join a new session keyring",
    "create namespaces",
    "clear umask for setup",
    "set propagation of / in the container mount namespace",
    `bind-mount rootfs ${rootfs}`,
    `open rootfs ${rootfs}`,
    "mount proc on /proc",
    "mount tmpfs on /dev",
    "mount devpts on /dev/pts",
    "mount tmpfs on /dev/shm",
    "mount mqueue on /dev/mqueue",
    "mount sysfs on /sys",
    "create device /dev/null",
    "create device /dev/tty",
    "symlink /dev/ptmx to pts/ptmx",
    "open the old root",
    "pivot_root into the rootfs",
    "detach the old root",
    "chdir to / in the container",
    "open /dev/pts/ptmx for the console",
    "bind the console pty on /dev/console",
    'set hostname "runc"',
    "bind /proc/bus for readonlyPaths",
    "mask /proc/acpi",
    "make the root file system read-only",
    "set RLIMIT_NOFILE to soft 1024, hard 1024",
    "set umask",
    "reset signal 1",
    "unblock all signals",
    "close runtime fds",
    "ready to exec (tell runts)",
    "ready to exec (wait for runts)",
    "clear parent-death signal",
    "drop capability 0 from the bounding set",
    "setgroups()",
    "keep capabilities across setuid",
    "setresgid(0)",
    "setresuid(0)",
    "clear keep-capabilities",
    "set capabilities (capset)",
    "clear ambient capabilities",
    "set no_new_privs",
    "chdir to cwd /",
    "exec /usr/local/sbin/sh",
  ]);
  assertEquals(b.namespaces.cloneFlags, CLONE.NEWPID);
  assertEquals(b.namespaces.fork, false);
  assertEquals(b.namespaces.parentJoinPid, undefined);
  assertEquals(b.warnings, []);
  // No user namespace: nobody becomes root in it, no fork.
  assert(!w.includes("become root in the user namespace"));
  assert(!b.ops.some((o) => o.name === "clone"));
  assert(!w.includes("report created"));
});

Deno.test("init: the first ops move the sync socket and open the SETUP sync", () => {
  const b = build();
  const head = b.ops.slice(0, 7).map((o) => [o.name, o.args, o.options]);
  const rec = b.ops[3].args[1];
  const buf = b.ops[4].args[1];
  assertEquals(head, [
    ["dup3", [20, 3, O.CLOEXEC], {}],
    ["prctl", [PR.SET_PDEATHSIG, 9, 0, 0, 0], {}],
    ["prctl", [PR.SET_DUMPABLE, 0, 0, 0, 0], {}],
    ["write", [3, rec, 16], { expect: 16 }],
    ["read", [3, buf, 8], { expect: 8 }],
    ["keyctl", [1, b.ops[5].args[1]], { ignore: ERRNO.ENOSYS }],
    ["unshare", [CLONE.NEWNS | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS], {}],
  ]);
  const img = b.img();
  assertEquals(img.read(asRef(rec), 16), syncRecord(Sync.SETUP));
  assertEquals(img.argStr(b.ops[5].args[1]), "_ses.c1");
});

Deno.test("init: mounts in config order with their flags and data", () => {
  const b = build();
  const img = b.img();
  const mounts = b.ops.filter((o) => o.name === "mount" && /^mount \w+ on /.test(o.what));
  assertEquals(mounts.map((o) => o.what), [
    "mount proc on /proc",
    "mount tmpfs on /dev",
    "mount devpts on /dev/pts",
    "mount tmpfs on /dev/shm",
    "mount mqueue on /dev/mqueue",
    "mount sysfs on /sys",
  ]);
  const decoded = mounts.map((o) => [
    img.argStr(o.args[0]),
    img.argStr(o.args[1]),
    img.argStr(o.args[2]),
    o.args[3],
    o.args[4] === 0 ? "" : img.argStr(o.args[4]),
  ]);
  assertEquals(decoded, [
    ["proc", "/proc/self/fd/5", "proc", 0, ""],
    ["tmpfs", "/proc/self/fd/5", "tmpfs", MS.NOSUID | MS.STRICTATIME, "mode=755,size=65536k"],
    [
      "devpts",
      "/proc/self/fd/5",
      "devpts",
      MS.NOSUID | MS.NOEXEC,
      "newinstance,ptmxmode=0666,mode=0620,gid=5",
    ],
    ["shm", "/proc/self/fd/5", "tmpfs", MS.NOSUID | MS.NOEXEC | MS.NODEV, "mode=1777,size=65536k"],
    ["mqueue", "/proc/self/fd/5", "mqueue", MS.NOSUID | MS.NOEXEC | MS.NODEV, ""],
    ["sysfs", "/proc/self/fd/5", "sysfs", MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY, ""],
  ]);
  // Every mountpoint is resolved in the rootfs and dup'ed to the target fd first.
  const i = at(b.whats, "mount proc on /proc");
  assertEquals(b.ops.slice(i - 3, i).map((o) => [o.name, o.what]), [
    ["openat2", "open mountpoint /proc"],
    ["dup3", "open mountpoint /proc"],
    ["close", "open mountpoint /proc"],
  ]);
  assertEquals(b.ops[i - 2].args.slice(1), [5, O.CLOEXEC]);
});

Deno.test("init: default devices with mknod modes and makedev numbers, then /dev links", () => {
  const b = build();
  const img = b.img();
  const nodes = b.ops.filter((o) => o.name === "mknodat").map((o) => [
    o.what,
    img.argStr(o.args[1]),
    o.args[2],
    o.args[3],
  ]);
  assertEquals(nodes, [
    ["create device /dev/null", "null", 0o20666, 259n],
    ["create device /dev/zero", "zero", 0o20666, 261n],
    ["create device /dev/full", "full", 0o20666, 263n],
    ["create device /dev/random", "random", 0o20666, 264n],
    ["create device /dev/urandom", "urandom", 0o20666, 265n],
    ["create device /dev/tty", "tty", 0o20666, 1280n],
  ]);
  const links = b.ops.filter((o) => o.name === "symlinkat").map((o) => [
    img.argStr(o.args[0]),
    img.argStr(o.args[2]),
  ]);
  const expected = [
    ["/proc/self/fd", "fd"],
    ["/proc/self/fd/0", "stdin"],
    ["/proc/self/fd/1", "stdout"],
    ["/proc/self/fd/2", "stderr"],
  ];
  if (existsSync("/proc/kcore")) expected.push(["/proc/kcore", "core"]);
  expected.push(["pts/ptmx", "ptmx"]);
  assertEquals(links, expected);
});

Deno.test("init: after READY, the bounding set, user, capabilities, cwd and PATH candidates", () => {
  const b = build();
  const ready = at(b.whats, "ready to exec (wait for runts)");
  const tail = b.whats.slice(ready + 1);
  const keep = new Set([5, 10, 29]); // CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE
  const drops: string[] = [];
  for (let c = 0; c <= lastCap; c++) {
    if (!keep.has(c)) drops.push(`drop capability ${c} from the bounding set`);
  }
  assertEquals(tail, [
    "clear parent-death signal",
    ...drops,
    "setgroups()",
    "keep capabilities across setuid",
    "setresgid(0)",
    "setresuid(0)",
    "clear keep-capabilities",
    "set capabilities (capset)",
    "clear ambient capabilities",
    "raise ambient capability CAP_AUDIT_WRITE",
    "raise ambient capability CAP_KILL",
    "raise ambient capability CAP_NET_BIND_SERVICE",
    "set no_new_privs",
    "chdir to cwd /",
    ...PATH_DIRS.map((d) => `exec ${d}/sh`),
    'exec "sh": executable file not found in $PATH',
  ]);
  const img = b.img();
  // capset data: effective, permitted, inheritable (low words, then high words).
  const capset = b.ops[at(b.whats, "set capabilities (capset)")];
  const mask = (1 << 5) | (1 << 10) | (1 << 29);
  const data = new DataView(img.read(asRef(capset.args[1]), 24).buffer);
  assertEquals([0, 1, 2, 3, 4, 5].map((i) => data.getUint32(i * 4, true)), [
    mask,
    mask,
    0,
    0,
    0,
    0,
  ]);
  assertEquals(
    new DataView(img.read(asRef(capset.args[0]), 8).buffer).getUint32(0, true),
    0x20080522,
  );
  // The execve candidates share argv and envp.
  const execs = b.ops.filter((o) => o.name === "execve");
  assertEquals(execs.map((o) => img.argStr(o.args[0])), PATH_DIRS.map((d) => `${d}/sh`));
  assert(
    execs.every((o) =>
      Array.isArray(o.options.ignore) && o.options.ignore.includes(ERRNO.ENOENT) &&
      o.options.onErrno?.errno === ERRNO.EACCES
    ),
  );
  assertEquals(img.strArray(asRef(execs[0].args[1])), ["sh"]);
  assertEquals(img.strArray(asRef(execs[0].args[2])), [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
  ]);
  assert(execs.every((o) => o.args[1] === execs[0].args[1] && o.args[2] === execs[0].args[2]));
  const ready0 = b.ops[at(b.whats, "ready to exec (tell runts)")];
  assertEquals(img.read(asRef(ready0.args[1]), 16), syncRecord(Sync.READY));
  // rlimits: {soft, hard}
  const rl = b.ops[at(b.whats, "set RLIMIT_NOFILE to soft 1024, hard 1024")];
  assertEquals(rl.args.slice(0, 2), [0, 7]);
  assertEquals([img.u64(asRef(rl.args[2]), 0), img.u64(asRef(rl.args[2]), 1)], [1024n, 1024n]);
  assertEquals(b.ops[at(b.whats, "set umask")].args, [0o22]);
  // No exec fifo: its slot (4) may hold an inherited fd and is closed too.
  assertEquals(b.ops[at(b.whats, "close runtime fds")].args, [4, 0xffffffff, 0]);
  const resets = b.whats.filter((x) => x.startsWith("reset signal "));
  assertEquals(resets.length, 62, "1..64 without SIGKILL and SIGSTOP");
  assert(!resets.includes("reset signal 9") && !resets.includes("reset signal 19"));
});

Deno.test("init: hostname, read-only and masked paths, read-only root", () => {
  const b = build();
  const img = b.img();
  const host = b.ops[at(b.whats, 'set hostname "runc"')];
  assertEquals([host.name, img.argStr(host.args[0]), host.args[1]], ["sethostname", "runc", 4]);
  const ro = b.whats.filter((x) => x.endsWith("for readonlyPaths"));
  assertEquals(ro, [
    "bind /proc/bus for readonlyPaths",
    "bind /proc/fs for readonlyPaths",
    "bind /proc/irq for readonlyPaths",
    "bind /proc/sys for readonlyPaths",
    "bind /proc/sysrq-trigger for readonlyPaths",
  ]);
  const masks = b.whats.filter((x) => x.startsWith("mask /"));
  assertEquals(masks.length, 10);
  const m = at(b.whats, "mask /proc/acpi");
  assertEquals(b.ops[m].options, {
    ignore: ERRNO.ENOENT,
    onErrno: { errno: ERRNO.ENOTDIR, to: { index: m + 2 } },
  });
  assertEquals(b.ops[m + 1].options, { jumpIfNonzero: { index: m + 3 } });
  assertEquals(b.whats[m + 2], "mask directory /proc/acpi");
  // Unicode hostnames are measured in bytes.
  const spec = runcSpec();
  spec.hostname = "héllo";
  spec.root!.readonly = false;
  const u = build(spec);
  assertEquals(u.ops[at(u.whats, 'set hostname "héllo"')].args[1], 6);
  assert(!u.whats.includes("make the root file system read-only"));
});

Deno.test("init: a new user namespace: CLONE_NEWUSER, root in it after SETUP, devices bound", () => {
  const spec = runcSpec();
  spec.linux!.namespaces!.push({ type: "user" });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const b = build(spec);
  assertEquals(b.namespaces.cloneFlags, CLONE.NEWUSER | CLONE.NEWPID);
  assertEquals(b.namespaces.newUser, true);
  const sync = at(b.whats, "id maps and cgroup (wait for runts)");
  // Dumpable until runts wrote the id maps (an unprivileged runts must open them).
  assert(at(b.whats, "mark the setup process non-dumpable") > sync);
  assertEquals(b.ops.slice(sync + 2, sync + 4).map((o) => [o.name, o.args]), [
    ["setresgid", [0, 0, 0]],
    ["setresuid", [0, 0, 0]],
  ]);
  assertEquals(b.whats[sync + 3], "become root in the user namespace");
  // mknod is not allowed in a user namespace: the host's nodes are bind-mounted.
  assert(!b.ops.some((o) => o.name === "mknodat" && o.what.startsWith("create device")));
  assert(b.whats.includes("bind-mount host device /dev/null"));
  assert(b.whats.includes("mount sysfs on /sys"), "own net ns: sysfs can be mounted");
  // Without a network namespace of its own, sysfs is bound from the host.
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "network");
  const nonet = build(spec);
  assert(!nonet.whats.includes("mount sysfs on /sys"));
  assert(nonet.whats.includes("bind-mount /sys on /sys"));
});

function joined(types: string[], newOnes: string[] = []): LinuxNamespace[] {
  return [
    ...types.map((t) => ({ type: t, path: `/proc/42/ns/${t}` }) as LinuxNamespace),
    ...newOnes.map((t) => ({ type: t }) as LinuxNamespace),
  ];
}

Deno.test("init: joined namespaces are opened, then entered user first and mount last", () => {
  const spec = runcSpec();
  // Listed in an odd order on purpose.
  spec.linux!.namespaces = joined(["mount", "network", "user", "uts", "ipc"], ["pid"]);
  const b = build(spec);
  const setns = b.ops.filter((o) => o.name === "setns").map((o) => o.what);
  assertEquals(setns, [
    "join user namespace /proc/42/ns/user",
    "join ipc namespace /proc/42/ns/ipc",
    "join uts namespace /proc/42/ns/uts",
    "join network namespace /proc/42/ns/network",
    "join mount namespace /proc/42/ns/mount",
  ]);
  // All opened before the first setns (paths are host paths).
  const opens = b.whats.filter((w) => w.startsWith("open ") && w.includes("namespace /proc/42"));
  assertEquals(opens.length, 5);
  assert(at(b.whats, opens[4]) < at(b.whats, setns[0]));
  const first = b.ops[at(b.whats, "join user namespace /proc/42/ns/user")];
  assertEquals(first.args[1], 0);
  assertEquals(b.ops[at(b.whats, "close /proc/42/ns/user")].name, "close");
  inOrder(b.whats, [setns[4], "id maps and cgroup (tell runts)"]);
  // Joined user + new pid: the pid namespace is unshared and entered by a fork.
  assertEquals(b.namespaces.fork, true);
  assertEquals(b.namespaces.cloneFlags, 0);
  assertEquals(b.namespaces.unshareFlags, 0);
  assert(!b.whats.includes("create namespaces"), "nothing else to unshare");
  inOrder(b.whats, [
    "id maps and cgroup (wait for runts)",
    "create the pid namespace",
    "fork the container init",
    "clear umask for setup",
  ]);
  assertEquals(b.ops[at(b.whats, "create the pid namespace")].args, [CLONE.NEWPID]);
});

Deno.test("init: the fork op and the intermediate's report at the end", () => {
  const spec = runcSpec();
  spec.linux!.namespaces = joined(["user", "pid"], ["mount"]);
  const b = build(spec);
  assertEquals(b.namespaces.fork, true);
  assertEquals(b.namespaces.parentJoinPid, undefined);
  assertEquals(b.namespaces.join.map((j) => j.type), ["user", "pid"]);
  assert(!b.whats.includes("create the pid namespace"), "joined pid: no unshare");
  const i = at(b.whats, "fork the container init");
  const fork = b.ops[i];
  const n = b.ops.length;
  assertEquals(fork.name, "clone");
  assertEquals(fork.options, { jumpIfNonzero: { index: n - 2 } });
  assertEquals(fork.args[0], CLONE.VM | CLONE.PARENT_SETTID | SIGCHLD);
  assertEquals([fork.args[1], fork.args[3], fork.args[4]], [0, 0, 0]);
  assertEquals(b.ops.slice(n - 2).map((o) => [o.name, o.what, o.options]), [
    ["write", "report the init pid", { expect: 16 }],
    ["exit_group", "intermediate exit", {}],
  ]);
  assertEquals(b.ops[n - 1].args, [0]);
  // The kernel writes the pid into the record's value field (PARENT_SETTID).
  const record = asRef(b.ops[n - 2].args[1]);
  assertEquals(asRef(fork.args[2]).ref, record.ref + 8);
  assertEquals(b.ops[n - 2].args[0], 3);
  assertEquals(b.img().read(record, 16), syncRecord(Sync.PID));
  // The init's path ends in the PATH lookup before the intermediate's ops.
  assertEquals(b.whats[n - 3], 'exec "sh": executable file not found in $PATH');
});

Deno.test("init: a joined pid namespace without a joined user namespace is entered by runts", () => {
  const spec = runcSpec();
  spec.linux!.namespaces = joined(["pid", "network"], ["mount", "uts", "ipc"]);
  const b = build(spec);
  assertEquals(b.namespaces.parentJoinPid, "/proc/42/ns/pid");
  assertEquals(b.namespaces.fork, false);
  assertEquals(b.namespaces.cloneFlags, 0);
  assertEquals(b.ops.filter((o) => o.name === "setns").map((o) => o.what), [
    "join network namespace /proc/42/ns/network",
  ]);
  assert(!b.ops.some((o) => o.name === "clone"));
  assertEquals(b.ops[at(b.whats, "create namespaces")].args, [
    CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC,
  ]);
});

Deno.test("init: terminal false has no console ops; true adds them after pivot_root", () => {
  const spec = runcSpec();
  spec.process!.terminal = false;
  const off = build(spec);
  assert(!off.ops.some((o) => o.what.includes("console")));
  assert(!off.ops.some((o) => o.name === "sendmsg"));
  const on = build();
  const first = at(on.whats, "open /dev/pts/ptmx for the console");
  inOrder(on.whats, [
    "chdir to / in the container",
    "open /dev/pts/ptmx for the console",
    "unlock the console pty",
    "open the console pty slave",
    "dup the console master",
    "send the console pty to runts",
    "close the console master copy",
    "close the console master",
    "start a session for the console",
    "make the pty the controlling terminal",
    "attach the console to fd 0",
    "attach the console to fd 2",
    "dup the console slave",
    "create /dev/console",
    "bind the console pty on /dev/console",
    "close the console slave fd",
    'set hostname "runc"',
  ]);
  assertEquals(on.ops[first].args[2], O.RDWR | O.NOCTTY | O.CLOEXEC);
  const send = on.ops[at(on.whats, "send the console pty to runts")];
  assertEquals(send.args[0], 3);
  // msghdr → iov → PTY record; cmsg carries fd 7 (the pty's fixed number).
  const img = on.img();
  const msg = asRef(send.args[1]);
  const iov = img.u64(msg, 2);
  assertEquals(img.u64(msg, 3), 1n);
  assertEquals(img.u64(msg, 5), 24n);
  assertEquals(img.read(img.u64(iov), 16), syncRecord(Sync.PTY));
  assertEquals(img.u64(iov + 8n), 16n);
  const cmsg = new DataView(img.read(img.u64(msg, 4), 24).buffer);
  assertEquals(
    [cmsg.getBigUint64(0, true), cmsg.getInt32(8, true), cmsg.getInt32(12, true)],
    [20n, 1, 1],
  );
  assertEquals(cmsg.getInt32(16, true), 7);
});

Deno.test("init: exec mode skips the rootfs stages and joins the init's namespaces", () => {
  const spec = runcSpec();
  spec.linux!.namespaces = joined(["pid", "network", "ipc", "uts", "mount"]);
  const b = build(spec, {
    exec: {
      process: {
        terminal: true,
        user: { uid: 5, gid: 6 },
        args: ["/bin/ps", "aux"],
        env: ["A=1"],
        cwd: "/tmp",
      },
    },
  });
  for (
    const absent of [
      "join a new session keyring",
      "clear umask for setup",
      "set propagation of / in the container mount namespace",
      "pivot_root into the rootfs",
      'set hostname "runc"',
      "bind /proc/bus for readonlyPaths",
      "mask /proc/acpi",
      "make the root file system read-only",
      "create /dev/console",
      "create namespaces",
    ]
  ) assert(!b.whats.includes(absent), `no "${absent}" in exec`);
  assert(!b.ops.some((o) => o.name === "mount" || o.name === "mknodat"));
  inOrder(b.whats, [
    "join ipc namespace /proc/42/ns/ipc",
    "join mount namespace /proc/42/ns/mount",
    "id maps and cgroup (tell runts)",
    "open /dev/pts/ptmx for the console",
    "close the console slave fd",
    "set umask",
    "ready to exec (tell runts)",
    "setresgid(6)",
    "setresuid(5)",
    "chdir to cwd /tmp",
    "exec /bin/ps",
  ]);
  assertEquals(b.namespaces.parentJoinPid, "/proc/42/ns/pid");
  // An absolute path: exactly one candidate, errors not ignored.
  const execs = b.ops.filter((o) => o.name === "execve");
  assertEquals(execs.length, 1);
  assertEquals(execs[0].options, {});
  assertEquals(b.whats[b.whats.length - 1], "exec /bin/ps");
  const img = b.img();
  assertEquals(img.strArray(asRef(execs[0].args[1])), ["/bin/ps", "aux"]);
  assertEquals(img.strArray(asRef(execs[0].args[2])), ["A=1"]);
  // The process' own rlimits (none) replace the config's.
  assert(!b.whats.some((w) => w.startsWith("set RLIMIT_")));
});

Deno.test("init: create waits on the exec fifo after chdir, before execve", () => {
  const b = build(runcSpec(), { execFifoFd: 12 });
  assertEquals([b.ops[1].name, b.ops[1].args, b.whats[1]], [
    "dup3",
    [12, 4, O.CLOEXEC],
    "move the exec fifo",
  ]);
  assertEquals(b.ops[at(b.whats, "close runtime fds")].args, [5, 0xffffffff, 0], "fifo kept");
  const c = at(b.whats, "report created");
  // The program is looked up (each PATH candidate opened) before create reports.
  const check = b.ops.slice(at(b.whats, "chdir to cwd /") + 1, c);
  assertEquals(check.map((o) => o.name), [...PATH_DIRS.map(() => "openat"), "openat"]);
  assertEquals(b.whats[c - 1], 'exec "sh": executable file not found in $PATH');
  assertEquals(b.whats.slice(c, c + 5), [
    "report created",
    "wait for start (exec fifo)",
    "signal start on the exec fifo",
    "close the exec fifo",
    "exec /usr/local/sbin/sh",
  ]);
  const img = b.img();
  assertEquals(b.ops[c].args[0], 3);
  assertEquals(img.read(asRef(b.ops[c].args[1]), 16), syncRecord(Sync.CREATED));
  assertEquals(b.ops[c].options, { expect: 16 });
  const open = b.ops[c + 1];
  assertEquals(img.argStr(open.args[1]), "/proc/self/fd/4");
  assertEquals(open.args[2], O.WRONLY | O.CLOEXEC);
  assert(open.options.store !== undefined);
  assertEquals(b.ops[c + 2].args[0], { load: open.options.store });
  assertEquals(img.argStr(b.ops[c + 2].args[1]), "0");
  assertEquals(b.ops[c + 2].options, { expect: 1 });
});

Deno.test("init: preserved fds are kept open and the fixed fds move above them", () => {
  const b = build(runcSpec(), { preserveFds: 2 });
  assertEquals(b.ops[0].args, [20, 5, O.CLOEXEC]);
  const keep = b.ops.filter((o) => o.name === "fcntl");
  assertEquals(keep.map((o) => [o.what, o.args]), [
    ["keep preserved fd 3 open", [3, 2, 0]],
    ["keep preserved fd 4 open", [4, 2, 0]],
  ]);
  assertEquals(b.ops[at(b.whats, "close runtime fds")].args, [6, 0xffffffff, 0]);
  inOrder(b.whats, ["keep preserved fd 4 open", "close runtime fds", "ready to exec (tell runts)"]);
  assertEquals(b.ops[at(b.whats, "id maps and cgroup (tell runts)")].args[0], 5);
  const img = b.img();
  const proc = b.ops[at(b.whats, "mount proc on /proc")];
  assertEquals(img.argStr(proc.args[1]), "/proc/self/fd/7");
  const withFifo = build(runcSpec(), { preserveFds: 2, execFifoFd: 30 });
  assertEquals(withFifo.ops[1].args, [30, 6, O.CLOEXEC]);
  // With a fifo, the cleanup starts above it.
  assertEquals(withFifo.ops[at(withFifo.whats, "close runtime fds")].args, [7, 0xffffffff, 0]);
  assertEquals(build(runcSpec(), { preserveFds: 4096 }).ops[0].args, [20, 4099, O.CLOEXEC]);
});

/** A precompiled filter (compileSeccompFilter's result): two BPF instructions. */
const FILTER = {
  program: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f, 6, 0, 0, 0, 0, 0, 0, 0]),
  flags: 0,
  warnings: ["a note"],
};

Deno.test("init: seccomp before the capabilities without no_new_privs, after chdir with it", () => {
  const spec = runcSpec();
  const nnp = build(spec, { seccomp: FILTER });
  assertEquals(nnp.warnings, ["a note"]);
  const i = at(nnp.whats, "load the seccomp filter");
  assertEquals(nnp.whats[i - 1], "chdir to cwd /");
  assertEquals(nnp.whats[i + 1], "exec /usr/local/sbin/sh");
  assertEquals(nnp.ops[i].args.slice(0, 2), [1, 0]);
  spec.process!.noNewPrivileges = false;
  const priv = build(spec, { seccomp: { ...FILTER, flags: 2 } });
  const j = at(priv.whats, "load the seccomp filter");
  assertEquals(priv.whats[j - 1], "clear parent-death signal");
  assertEquals(priv.whats[j + 1], "drop capability 0 from the bounding set");
  assert(!priv.whats.includes("set no_new_privs"));
  assertEquals(priv.ops.filter((o) => o.name === "seccomp").length, 1);
  assertEquals(priv.ops[j].args[1], 2, "flags");
  // struct sock_fprog {len, filter*}: the filter pointer is relocated into the program.
  const img = priv.img();
  const fprog = asRef(priv.ops[j].args[2]);
  assertEquals(img.u64(fprog), 2n);
  assertEquals(img.read(img.u64(fprog, 1), 16), FILTER.program);
  assert(!build().ops.some((o) => o.name === "seccomp"), "no filter, no op");
});

Deno.test("init: refusals", () => {
  const noArgs = runcSpec();
  delete noArgs.process!.args;
  assertThrows(() => build(noArgs), RuntsError, "process.args must name the program to run");
  const emptyArgs = runcSpec();
  emptyArgs.process!.args = [];
  assertThrows(() => build(emptyArgs), RuntsError, "process.args must name the program to run");
  const noProcess = runcSpec();
  delete noProcess.process;
  assertThrows(() => build(noProcess), RuntsError, "process.args");
  const noMnt = runcSpec();
  noMnt.linux!.namespaces = noMnt.linux!.namespaces!.filter((n) => n.type !== "mount");
  assertThrows(() => build(noMnt), RuntsError, "linux.namespaces: runts needs a mount namespace");
  const time = runcSpec();
  time.linux!.namespaces!.push({ type: "time" });
  assertThrows(() => build(time), RuntsError, 'the "time" namespace is not supported');
  assertThrows(
    () => build(runcSpec(), { preserveFds: 4097 }),
    RuntsError,
    "--preserve-fds: at most 4096 fds can be preserved",
  );
  const cg = JSON.parse(Deno.readTextFileSync(fixture));
  assertThrows(
    () => build(cg),
    RuntsError,
    "mounts[6] (/sys/fs/cgroup): cgroup mounts need the cgroup manager",
  );
});

Deno.test("init: the cgroup mount is emitted by the given emitter, in config order", () => {
  const spec: Spec = JSON.parse(Deno.readTextFileSync(fixture));
  const calls: [string, Mount, number][] = [];
  const emitter = (p: ChildProgram, dest: string, m: Mount, flags: number) => {
    calls.push([dest, m, flags]);
    p.op("getpid", [], `fake cgroup mount on ${dest}`);
  };
  const b = build(spec, { cgroupMount: emitter });
  assertEquals(calls.length, 1);
  assertEquals(calls[0][0], "/sys/fs/cgroup");
  assertEquals(calls[0][1].type, "cgroup");
  assertEquals(calls[0][2], MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY);
  inOrder(b.whats, [
    "mount sysfs on /sys",
    "create directory /sys/fs/cgroup in the rootfs",
    "fake cgroup mount on /sys/fs/cgroup",
    "create device /dev/null",
  ]);
});

Deno.test("init: hooks sync before pivot_root; --no-pivot moves and chroots", () => {
  const hooks = build(runcSpec(), { hooksBeforePivot: true });
  const h = at(hooks.whats, "createRuntime and createContainer hooks (tell runts)");
  assertEquals(hooks.whats.slice(h, h + 3), [
    "createRuntime and createContainer hooks (tell runts)",
    "createRuntime and createContainer hooks (wait for runts)",
    "open the old root",
  ]);
  assertEquals(hooks.img().read(asRef(hooks.ops[h].args[1]), 16), syncRecord(Sync.HOOKS));
  assert(!build().whats.some((w) => w.startsWith("createRuntime")));

  const np = build(runcSpec(), { noPivot: true });
  const c = at(np.whats, `chdir to rootfs ${rootfs}`);
  assertEquals(np.whats.slice(c, c + 4), [
    `chdir to rootfs ${rootfs}`,
    "move the rootfs onto / (--no-pivot)",
    "chroot into the rootfs (--no-pivot)",
    "chdir to / in the container",
  ]);
  assertEquals(np.ops[c + 1].args[3], MS.MOVE);
  assert(!np.ops.some((o) => o.name === "pivot_root"));
});

Deno.test("init: user, groups, keyring, extra env and oom_score_adj options", () => {
  const spec = runcSpec();
  spec.process!.user = { uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o077 };
  spec.process!.oomScoreAdj = -500;
  const b = build(spec, { newKeyring: false, extraEnv: ["LISTEN_FDS=1"] });
  assert(!b.whats.includes("join a new session keyring"));
  const sg = b.ops[at(b.whats, "setgroups(5,6)")];
  const img = b.img();
  assertEquals(sg.args[0], 2);
  assertEquals(img.read(asRef(sg.args[1]), 8), new Uint8Array([5, 0, 0, 0, 6, 0, 0, 0]));
  assertEquals(b.ops[at(b.whats, "setresgid(100)")].args, [100, 100, 100]);
  assertEquals(b.ops[at(b.whats, "setresuid(1000)")].args, [1000, 1000, 1000]);
  assertEquals(b.ops[at(b.whats, "set umask")].args, [0o077]);
  const oom = at(b.whats, "set oom_score_adj to -500");
  assertEquals(img.argStr(b.ops[oom].args[1]), "/proc/self/oom_score_adj");
  assertEquals(img.cstr(asRef(b.ops[oom + 1].args[1])).slice(0, 4), "-500");
  assertEquals(b.ops[oom + 1].args[2], 4);
  const exec = b.ops.find((o) => o.name === "execve")!;
  assertEquals(img.strArray(asRef(exec.args[2])), [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
    "LISTEN_FDS=1",
  ]);
  const skip = build(spec, { skipSetgroups: true });
  assert(!skip.ops.some((o) => o.name === "setgroups"));
});

Deno.test("init: rootfsPropagation shared is applied again after pivot_root; private is not", () => {
  const shared = runcSpec();
  shared.linux!.rootfsPropagation = "shared";
  const s = build(shared);
  assertEquals(
    s.ops[at(s.whats, "set propagation of / in the container mount namespace")].args[3],
    MS.SHARED,
  );
  const post = at(s.whats, "set propagation of the container's /");
  assertEquals(s.ops[post].args[3], MS.SHARED);
  assert(post > at(s.whats, "chdir to / in the container"));
  const priv = runcSpec();
  priv.linux!.rootfsPropagation = "private";
  const p = build(priv);
  assertEquals(
    p.ops[at(p.whats, "set propagation of / in the container mount namespace")].args[3],
    MS.PRIVATE,
  );
  assert(!p.whats.includes("set propagation of the container's /"));
  assert(
    !build().whats.includes("set propagation of the container's /"),
    "default: not re-applied",
  );
});

Deno.test("init: every op is a known syscall with at most six args and a description", () => {
  const b = build(runcSpec(), { execFifoFd: 9, preserveFds: 1, hooksBeforePivot: true });
  for (const op of b.ops) {
    assert(op.args.length <= 6, op.what);
    assert(op.what.length > 0);
    assert(Number.isInteger(op.nr) && op.nr >= 0, `${op.name}: ${op.nr}`);
  }
  b.img(); // assembles: every label is bound, no exclusive options combined
});

function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(rootfs, { recursive: true });
  } catch { /* already gone */ }
});
