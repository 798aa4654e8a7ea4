import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import {
  capabilityName,
  capabilityNames,
  defaultSpec,
  generateSpec,
  HOST_NETWORK_CAPABILITIES,
  renderSpec,
  WRITABLE_CAPABILITIES,
  writeSpecFile,
} from "../../src/spec/generate.ts";
import { RuntsError } from "../../src/errors.ts";
import type { Spec } from "../../src/spec/types.ts";

const fixtureDir = new URL("./fixtures/", import.meta.url);
const readFixture = (name: string): Spec =>
  JSON.parse(Deno.readTextFileSync(new URL(name, fixtureDir)));

/** The documented differences from `runc spec`: runts' spec version and hostname. */
function asRunts(runcSpec: Spec): Spec {
  return { ...runcSpec, ociVersion: "1.3.0", hostname: "runts" };
}

const DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];
const allHostFiles = () => true;

Deno.test("default spec equals `runc spec` output except ociVersion and hostname", () => {
  assertEquals(defaultSpec(), asRunts(readFixture("runc-spec.json")));
  assertEquals(generateSpec(), asRunts(readFixture("runc-spec.json")));
});

Deno.test("rendered with 2-space indent, a trailing newline, runc's key order", () => {
  const text = renderSpec(defaultSpec());
  assert(text.startsWith('{\n  "ociVersion": "1.3.0",\n  "process": {\n    "terminal": true,'));
  assert(text.endsWith("}\n") && !text.endsWith("\n\n"));
  assertEquals(Object.keys(JSON.parse(text)), Object.keys(readFixture("runc-spec.json")));
});

Deno.test("--rootless equals `runc spec --rootless` (run as root) with the caller's ids", () => {
  assertEquals(
    generateSpec({ rootless: { uid: 0, gid: 0 } }),
    asRunts(readFixture("runc-spec-rootless.json")),
  );
  const spec = generateSpec({ rootless: { uid: 1000, gid: 100 } });
  assertEquals(spec.linux!.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assertEquals(spec.linux!.gidMappings, [{ containerID: 0, hostID: 100, size: 1 }]);
  assertEquals(
    Object.keys(spec.linux!),
    Object.keys(readFixture("runc-spec-rootless.json").linux!),
  );
});

Deno.test("--writable: rootfs writable and the package-manager capabilities", () => {
  const spec = generateSpec({ writable: true });
  assertEquals(spec.root, { path: "rootfs", readonly: false });
  const caps = spec.process!.capabilities!;
  for (const set of [caps.bounding, caps.effective, caps.permitted]) {
    assertEquals(set, [...DEFAULT_CAPS, ...WRITABLE_CAPABILITIES]);
  }
  assertEquals(caps.ambient, DEFAULT_CAPS);
  assertEquals(caps.inheritable, undefined);
  // Nothing else changes.
  const expected = defaultSpec();
  expected.root!.readonly = false;
  expected.process!.capabilities = caps;
  assertEquals(spec, expected);
});

Deno.test("--host-network: no network namespace, resolv.conf/hosts read-only, NET_RAW", () => {
  const spec = generateSpec({ hostNetwork: true, hostFileExists: allHostFiles });
  assertEquals(spec.linux!.namespaces!.map((ns) => ns.type), ["pid", "ipc", "uts", "mount"]);
  const binds = spec.mounts!.slice(-2);
  assertEquals(binds.map((m) => [m.destination, m.source, m.type]), [
    ["/etc/resolv.conf", "/etc/resolv.conf", "bind"],
    ["/etc/hosts", "/etc/hosts", "bind"],
  ]);
  for (const mount of binds) {
    assert(mount.options!.includes("rbind") && mount.options!.includes("ro"));
  }
  assertEquals(spec.process!.capabilities!.bounding, [
    ...DEFAULT_CAPS,
    ...HOST_NETWORK_CAPABILITIES,
  ]);
  assertEquals(spec.root!.readonly, true);
});

Deno.test("--writable --host-network give exactly Docker's default capability set", () => {
  const spec = generateSpec({ writable: true, hostNetwork: true, hostFileExists: allHostFiles });
  const caps = spec.process!.capabilities!;
  for (const set of [caps.bounding, caps.effective, caps.permitted]) {
    assertEquals([...set!].sort(), [...DOCKER_DEFAULT_CAPS].sort());
  }
});

Deno.test("--host-network names a missing host file", () => {
  const err = assertThrows(
    () => generateSpec({ hostNetwork: true, hostFileExists: (p) => p !== "/etc/hosts" }),
    RuntsError,
    "host file /etc/hosts is missing",
  );
  assert(!err.message.includes("resolv.conf"));
});

Deno.test("--rootless --host-network keeps the user namespace and adds the binds", () => {
  const spec = generateSpec({
    rootless: { uid: 1000, gid: 1000 },
    hostNetwork: true,
    hostFileExists: allHostFiles,
  });
  assertEquals(spec.linux!.namespaces!.map((ns) => ns.type), [
    "pid",
    "ipc",
    "uts",
    "mount",
    "user",
  ]);
  assertEquals(spec.mounts!.at(-1)!.destination, "/etc/hosts");
});

Deno.test("--cap-add accepts NET_ADMIN, CAP_NET_ADMIN, lower case; no duplicates", () => {
  const spec = generateSpec({ capAdd: ["NET_ADMIN", "cap_sys_ptrace", "CAP_NET_ADMIN", "KILL"] });
  const caps = spec.process!.capabilities!;
  const expected = [...DEFAULT_CAPS, "CAP_NET_ADMIN", "CAP_SYS_PTRACE"];
  assertEquals(caps.bounding, expected);
  assertEquals(caps.effective, expected);
  assertEquals(caps.permitted, expected);
  assertEquals(caps.ambient, DEFAULT_CAPS);
});

Deno.test("--cap-add ALL adds all 41 capabilities", () => {
  const spec = generateSpec({ capAdd: ["all"] });
  assertEquals(spec.process!.capabilities!.bounding!.length, 41);
  assertEquals(capabilityNames(["ALL"]).at(-1), "CAP_CHECKPOINT_RESTORE");
});

Deno.test("unknown capability names are refused", () => {
  assertThrows(() => capabilityName("NET_ADMINN"), RuntsError, 'unknown capability "NET_ADMINN"');
  assertThrows(() => generateSpec({ capAdd: ["CAP_FOO"] }), RuntsError, "CAP_FOO");
  assertEquals(capabilityName("checkpoint_restore"), "CAP_CHECKPOINT_RESTORE");
});

Deno.test("--no-tty and --args", () => {
  const spec = generateSpec({ terminal: false, args: ["sh", "-c", "echo hi"] });
  assertEquals(spec.process!.terminal, false);
  assertEquals(spec.process!.args, ["sh", "-c", "echo hi"]);
  assertEquals(generateSpec({ terminal: true }).process!.terminal, true);
});

Deno.test("writeSpecFile writes config.json and refuses to overwrite it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeSpecFile(dir, defaultSpec());
    assertEquals(path, `${dir}/config.json`);
    assertEquals(await Deno.readTextFile(path), renderSpec(defaultSpec()));
    await Deno.writeTextFile(path, "mine");
    await assertRejects(
      () => writeSpecFile(dir + "/", defaultSpec()),
      RuntsError,
      `File ${dir}/config.json exists. Remove it first`,
    );
    assertEquals(await Deno.readTextFile(path), "mine");
    await assertRejects(
      () => writeSpecFile(`${dir}/nope`, defaultSpec()),
      RuntsError,
      `bundle directory ${dir}/nope does not exist`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
