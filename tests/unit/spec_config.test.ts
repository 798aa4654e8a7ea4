import { assert, assertEquals, assertThrows } from "./assert.ts";
import { ConfigError, RuntsError } from "../../src/errors.ts";
import { loadConfig, parseConfig, parseProcess, UNSUPPORTED } from "../../src/spec/config.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

function problems(text: string, file = "config.json"): string[] {
  return assertThrows(() => parseConfig(text, file), ConfigError).problems;
}

/** A small valid config; `linux` and extra top-level members are spliced in. */
function config(extra = "", linux = `"namespaces": [{"type": "mount"}]`): string {
  return `{
  "ociVersion": "1.0.2",
  "root": {"path": "rootfs"},
  "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},${extra}
  "linux": {${linux}}
}`;
}

Deno.test("config: the runc spec output parses with no problems and no warnings", () => {
  const { spec, warnings } = parseConfig(fixture("runc-spec.json"), "config.json");
  assertEquals(warnings, []);
  assertEquals(spec.process?.args, ["sh"]);
  assertEquals(spec.process?.capabilities?.bounding?.length, 3);
  assertEquals(spec.linux?.namespaces?.map((n) => n.type), [
    "pid",
    "network",
    "ipc",
    "uts",
    "mount",
  ]);
});

Deno.test("config: the walkthrough's runc 1.0.0-rc2 config maps with warnings", () => {
  const { spec, warnings } = parseConfig(fixture("runc-1.0.0-rc2-spec.json"), "config.json");
  assertEquals(warnings, [
    "config.json:3:17: /platform: pre-1.0 field, ignored",
    "config.json:25:25: /process/capabilities: pre-1.0 list form: used as the bounding, effective and permitted sets",
  ]);
  const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
  assertEquals(spec.process?.capabilities, { bounding: caps, effective: caps, permitted: caps });
  assertEquals("platform" in spec, false);
  assertEquals(spec.process?.consoleSize, undefined, "0x0 console size means unset");
  assertEquals(spec.hooks, {});
});

Deno.test("config: legacy capability names are checked at their original place, once", () => {
  const text = config(`\n  "x": 1,`).replace(
    `"user": {"uid": 0, "gid": 0}}`,
    `"user": {"uid": 0, "gid": 0},\n    "capabilities": ["CAP_KILL", "CAP_FOO"]}`,
  );
  assertEquals(problems(text), [
    `config.json:5:34: /process/capabilities/bounding/1: unknown capability "CAP_FOO"`,
  ]);
});

Deno.test("config: a non-Linux legacy platform is refused", () => {
  const text = config(`\n  "platform": {"os": "windows", "arch": "amd64"},`);
  assertEquals(problems(text), [
    `config.json:5:22: /platform/os: must be "linux": runts runs Linux containers only`,
  ]);
});

Deno.test("config: JSONC syntax errors carry file:line:col", () => {
  assertEquals(problems(`{\n  "ociVersion": "1.0.2"\n  "root": {}\n}`, "/b/config.json"), [
    "/b/config.json:3:3: expected ',' or '}' after object member",
  ]);
});

Deno.test("config: comments and trailing commas are accepted", () => {
  const text = `// made by hand
{
  "ociVersion": "1.0.2", /* spec version */
  "root": {"path": "rootfs",},
}`;
  assertEquals(parseConfig(text, "config.json").spec.root, { path: "rootfs" });
});

Deno.test("config: many problems are reported together, in file order", () => {
  const text = `{
  "ociVersion": "1.0",
  "root": {"readonly": "yes"},
  "hostname": "box",
  "process": {
    "cwd": "tmp",
    "args": [],
    "user": {"uid": -1, "gid": 0},
    "capabilities": {"bounding": ["CAP_CHOWN", "CAP_NOPE"]},
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024},
      {"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1},
      {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}
    ]
  },
  "mounts": [{"type": "tmpfs"}],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "pid"}, {"type": "pidns"}],
    "maskedPaths": ["proc/kcore"]
  }
}`;
  assertEquals(problems(text), [
    `config.json:2:17: /ociVersion: must be a semantic version like "1.0.2", not "1.0"`,
    `config.json:3:11: /root: missing required property "path"`,
    "config.json:3:24: /root/readonly: must be a boolean",
    "config.json:4:15: /hostname: unable to set hostname without a private UTS namespace",
    "config.json:6:12: /process/cwd: must be an absolute path",
    "config.json:7:13: /process/args: must not be empty",
    "config.json:8:21: /process/user/uid: must be >= 0",
    `config.json:9:48: /process/capabilities/bounding/1: unknown capability "CAP_NOPE"`,
    "config.json:11:41: /process/rlimits/0/soft: soft limit 2048 is above the hard limit 1024",
    `config.json:12:16: /process/rlimits/1/type: unknown rlimit "RLIMIT_BOGUS"`,
    `config.json:13:16: /process/rlimits/2/type: duplicate rlimit "RLIMIT_NOFILE" (also at /process/rlimits/0)`,
    `config.json:16:14: /mounts/0: missing required property "destination"`,
    `config.json:18:46: /linux/namespaces/1/type: duplicate namespace "pid" (also at /linux/namespaces/0)`,
    `config.json:18:63: /linux/namespaces/2/type: must be one of: "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"`,
    "config.json:19:20: /linux/maskedPaths: unable to restrict sys entries without a private mount namespace",
    "config.json:19:21: /linux/maskedPaths/0: must be an absolute path",
  ]);
});

Deno.test("config: missing top-level requirements point at the nearest parent", () => {
  assertEquals(problems(`{\n  "process": {"cwd": "/", "args": ["x"]}\n}`), [
    `config.json:1:1: : missing required property "ociVersion"`,
    `config.json:1:1: : missing required property "root"`,
  ]);
  assertEquals(problems(`[1]`), ["config.json:1:1: : must be an object"]);
});

Deno.test("config: process without args, and default user", () => {
  assertEquals(problems(config().replace(`"args": ["sh"], `, "")), [
    `config.json:4:14: /process: missing required property "args"`,
  ]);
  const { spec } = parseConfig(config().replace(`, "user": {"uid": 0, "gid": 0}`, ""), "c");
  assertEquals(spec.process?.user, { uid: 0, gid: 0 });
});

Deno.test("config: hostname and domainname need a new UTS namespace", () => {
  const withUts = config(
    `\n  "hostname": "h", "domainname": "d",`,
    `"namespaces": [{"type": "uts"}]`,
  );
  assertEquals(parseConfig(withUts, "c").spec.hostname, "h");
  const joined = config(
    `\n  "domainname": "d",`,
    `"namespaces": [{"type": "uts", "path": "/proc/1/ns/uts"}]`,
  );
  assertEquals(problems(joined), [
    "config.json:5:17: /domainname: unable to set domainname without a private UTS namespace",
  ]);
});

Deno.test("config: user namespace and id mappings go together", () => {
  const mapping = `[{"containerID": 0, "hostID": 1000, "size": 65536}]`;
  assertEquals(problems(config("", `"namespaces": [{"type": "user"}]`)), [
    `config.json:5:12: /linux: missing required property "uidMappings" (a new user namespace needs it)`,
    `config.json:5:12: /linux: missing required property "gidMappings" (a new user namespace needs it)`,
  ]);
  assertEquals(problems(config("", `"uidMappings": ${mapping}`)), [
    "config.json:5:28: /linux/uidMappings: id mappings need a user namespace in /linux/namespaces",
  ]);
  const ok = config(
    "",
    `"namespaces": [{"type": "user"}], "uidMappings": ${mapping}, "gidMappings": ${mapping}`,
  );
  assertEquals(parseConfig(ok, "c").spec.linux?.uidMappings?.[0].hostID, 1000);
  const joined = config("", `"namespaces": [{"type": "user", "path": "/proc/1/ns/user"}]`);
  assertEquals(parseConfig(joined, "c").warnings, []);
});

Deno.test("config: sysctl keys need the namespace that owns them", () => {
  const text = config(
    "",
    `"namespaces": [{"type": "ipc"}, {"type": "uts"}],
    "sysctl": {
      "kernel.shmmax": "1",
      "fs.mqueue.msg_max": "1",
      "net.ipv4.ip_forward": "1",
      "kernel.domainname": "x",
      "vm.swappiness": "1",
      "kernel/msgmax": "1"
    }`,
  );
  assertEquals(problems(text), [
    `config.json:9:30: /linux/sysctl/net.ipv4.ip_forward: sysctl "net.ipv4.ip_forward" needs a network namespace: not allowed in the host's one`,
    `config.json:11:24: /linux/sysctl/vm.swappiness: sysctl "vm.swappiness" is not in a separate kernel namespace`,
  ]);
  const ipcOnly = config("", `"sysctl": {"kernel.sem": "1"}`);
  assertEquals(problems(ipcOnly), [
    `config.json:5:38: /linux/sysctl/kernel.sem: sysctl "kernel.sem" needs a IPC namespace: not allowed in the host's one`,
  ]);
  const conflict = config(
    `\n  "hostname": "h",`,
    `"namespaces": [{"type": "uts"}], "sysctl": {"kernel.hostname": "x"}`,
  );
  assertEquals(problems(conflict), [
    `config.json:6:76: /linux/sysctl/kernel.hostname: sysctl "kernel.hostname" conflicts with /hostname`,
  ]);
});

Deno.test("config: devices and cgroup device rules", () => {
  const text = config(
    "",
    `"devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10},
      {"type": "x", "path": "dev/null", "major": 1, "minor": 3},
      {"type": "p", "path": "/dev/fifo"}
    ],
    "resources": {"devices": [
      {"allow": false, "access": "rwm"},
      {"allow": true, "type": "q", "access": "rwx"},
      {"type": "a"}
    ]}`,
  );
  assertEquals(problems(text), [
    `config.json:6:7: /linux/devices/0: missing required property "minor" (needed for type "c")`,
    `config.json:7:16: /linux/devices/1/type: must be one of: "c", "b", "u", "p"`,
    "config.json:7:29: /linux/devices/1/path: must be an absolute path",
    `config.json:12:31: /linux/resources/devices/1/type: must be one of: "a", "c", "b"`,
    `config.json:12:46: /linux/resources/devices/1/access: must be a combination of "r", "w" and "m", not "rwx"`,
    `config.json:13:7: /linux/resources/devices/2: missing required property "allow"`,
  ]);
});

Deno.test("config: hooks need absolute paths", () => {
  const text = config(`\n  "hooks": {"prestart": [{"path": "hook"}], "poststop": [{"args": []}]},`);
  assertEquals(problems(text), [
    `config.json:5:35: /hooks/prestart/0/path: must be an absolute path`,
    `config.json:5:58: /hooks/poststop/0: missing required property "path"`,
  ]);
});

Deno.test("config: relative mount destinations are taken relative to / with a warning", () => {
  const text = config(`\n  "mounts": [{"destination": "data", "type": "tmpfs", "source": "t"}],`);
  const { spec, warnings } = parseConfig(text, "config.json");
  assertEquals(spec.mounts?.[0].destination, "/data");
  assertEquals(warnings, [
    `config.json:5:30: /mounts/0/destination: relative path "data" is taken as "/data"`,
  ]);
});

Deno.test("config: unknown properties warn; duplicate keys warn", () => {
  const text = config(
    `\n  "mystery": true,\n  "root": {"path": "rootfs2"},`,
    `"namespaces": [{"type": "mount"}], "cgroupPath": "/x"`,
  );
  const { spec, warnings } = parseConfig(text, "config.json");
  assertEquals(spec.root?.path, "rootfs2");
  assertEquals(warnings, [
    `config.json:5:14: /mystery: unknown property "mystery" is ignored`,
    `config.json:6:3: /root: duplicate key "root": the last value wins`,
    `config.json:7:62: /linux/cgroupPath: unknown property "cgroupPath" is ignored`,
  ]);
});

Deno.test("config: unsupported fields are refused with the reason", () => {
  const text = `{
  "ociVersion": "1.0.2",
  "root": {"path": "rootfs"},
  "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0, "username": "me"},
    "apparmorProfile": "", "selinuxLabel": "x", "scheduler": {"policy": "SCHED_RR"}},
  "mounts": [{"destination": "/m", "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}],
  "windows": {},
  "solaris": {"x": 1},
  "linux": {"namespaces": [{"type": "mount"}], "intelRdt": {"closID": "g"}, "mountLabel": "",
    "seccomp": {"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/l"}}
}`;
  // Empty values ("", {}) are not refused.
  assertEquals(problems(text), [
    "config.json:4:84: /process/user/username: not supported by runts (a Windows-only field)",
    "config.json:5:44: /process/selinuxLabel: not supported by runts (no SELinux support)",
    "config.json:5:62: /process/scheduler: not supported by runts (sched_setattr is not implemented)",
    "config.json:6:51: /mounts/0/uidMappings: not supported by runts (idmapped mounts are not implemented)",
    "config.json:8:14: /solaris: not supported by runts (runts runs Linux containers only)",
    "config.json:9:60: /linux/intelRdt: not supported by runts (Intel RDT (resctrl) is not implemented)",
    "config.json:10:34: /linux/seccomp/defaultAction: not supported by runts (seccomp user notification)",
    "config.json:10:69: /linux/seccomp/listenerPath: not supported by runts (seccomp user notification)",
  ]);
});

Deno.test("config: seccomp checks, legacy name, and notify refused", () => {
  assert(UNSUPPORTED.every((e) => e.pointer !== "/linux/seccomp"), "seccomp is supported");
  {
    const text = config(
      "",
      `"namespaces": [{"type": "mount"}], "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"],
      "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_NOTIFY"},
        {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}
      ]}`,
    );
    const found = problems(text);
    assertEquals(found.length, 3, found.join("\n"));
    assert(
      found[0].startsWith(
        `config.json:7:45: /linux/seccomp/architectures/1: must be one of: "SCMP_ARCH_X86", `,
      ),
      found[0],
    );
    assertEquals(found.slice(1), [
      "config.json:9:39: /linux/seccomp/syscalls/0/action: not supported by runts (seccomp user notification)",
      "config.json:10:77: /linux/seccomp/syscalls/1/args/0/index: must be <= 5",
    ]);

    const legacy = config(
      "",
      `"namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "open", "action": "SCMP_ACT_ALLOW"}]}`,
    );
    const { spec, warnings } = parseConfig(legacy, "config.json");
    assertEquals(spec.linux?.seccomp?.syscalls, [{ names: ["open"], action: "SCMP_ACT_ALLOW" }]);
    assertEquals(warnings, [
      `config.json:5:117: /linux/seccomp/syscalls/0/name: pre-1.0 field: used as "names"`,
    ]);
  }
});

Deno.test("config: parseProcess checks an exec process file the same way", () => {
  const good = `{"cwd": "/", "args": ["ps"], "env": ["A=1"], "capabilities": ["CAP_KILL"]}`;
  const { process, warnings } = parseProcess(good, "process.json");
  assertEquals(process.user, { uid: 0, gid: 0 });
  assertEquals(process.capabilities?.permitted, ["CAP_KILL"]);
  assertEquals(warnings, [
    "process.json:1:62: /capabilities: pre-1.0 list form: used as the bounding, effective and permitted sets",
  ]);
  const bad = `{
  "cwd": "relative",
  "args": [],
  "env": ["NOEQUALS"],
  "apparmorProfile": "p"
}`;
  const err = assertThrows(() => parseProcess(bad, "p.json"), ConfigError);
  assertEquals(err.problems, [
    "p.json:2:10: /cwd: must be an absolute path",
    "p.json:3:11: /args: must not be empty",
    `p.json:4:11: /env/0: must be a "NAME=value" pair, not "NOEQUALS"`,
    "p.json:5:22: /apparmorProfile: not supported by runts (no AppArmor support)",
  ]);
});

Deno.test("loadConfig: reads the bundle, labels paths, checks the rootfs", () => {
  const dir = Deno.makeTempDirSync({ prefix: "runts-spec-" });
  const cwd = Deno.cwd();
  try {
    const missing = assertThrows(() => loadConfig(dir), RuntsError);
    assertEquals(
      missing.message,
      `${dir}/config.json: no such file: "${dir}" is not an OCI bundle`,
    );

    Deno.writeTextFileSync(`${dir}/config.json`, config());
    assertEquals(assertThrows(() => loadConfig(dir + "/"), ConfigError).problems, [
      `${dir}/config.json:3:20: /root/path: root filesystem ${dir}/rootfs does not exist`,
    ]);
    Deno.writeTextFileSync(`${dir}/rootfs`, "");
    assertEquals(assertThrows(() => loadConfig(dir), ConfigError).problems, [
      `${dir}/config.json:3:20: /root/path: root filesystem ${dir}/rootfs is not a directory`,
    ]);
    Deno.removeSync(`${dir}/rootfs`);
    Deno.mkdirSync(`${dir}/rootfs`);

    Deno.chdir(dir);
    const loaded = loadConfig(".");
    assertEquals(loaded.path, "config.json");
    assertEquals(loaded.rootfs, `${Deno.realPathSync(dir)}/rootfs`);
    assertEquals(loaded.spec.root?.path, "rootfs");
  } finally {
    Deno.chdir(cwd);
    Deno.removeSync(dir, { recursive: true });
  }
});
