/**
 * `runts features` output: valid against the runtime-spec features schema (its
 * cross-file $refs folded into one local schema for src/spec/schema.ts), and honest:
 * every listed name is accepted by the code that parses that field.
 */
import { assert, assertEquals } from "./assert.ts";
import { features } from "../../src/container/features.ts";
import { SchemaValidator } from "../../src/spec/schema.ts";
import { parseMountOptions } from "../../src/rootfs/mount_options.ts";
import { actionValue } from "../../src/seccomp/actions.ts";
import { parseProfile } from "../../src/seccomp/profile.ts";

const SCHEMA_DIR = "/work/shared/reference/runtime-spec/schema";
const haveSchema = (() => {
  try {
    Deno.statSync(`${SCHEMA_DIR}/features-schema.json`);
    return true;
  } catch {
    return false;
  }
})();

// deno-lint-ignore no-explicit-any
type Json = any;

/** features-schema.json with defs.json, defs-linux.json and features-linux.json inlined. */
function foldedSchema(): Json {
  const read = (f: string) => JSON.parse(Deno.readTextFileSync(`${SCHEMA_DIR}/${f}`));
  const root = read("features-schema.json");
  const definitions = {
    ...read("defs.json").definitions,
    ...read("defs-linux.json").definitions,
    FeaturesLinux: read("features-linux.json").linux,
  };
  const text = JSON.stringify({ ...root, definitions })
    .replaceAll('"defs.json#/definitions/', '"#/definitions/')
    .replaceAll('"defs-linux.json#/definitions/', '"#/definitions/')
    .replaceAll('"features-linux.json#/linux"', '"#/definitions/FeaturesLinux"');
  assert(!/"\$ref":"[^#]/.test(text), "every $ref folded");
  return JSON.parse(text);
}

Deno.test({
  name: "features: valid against the runtime-spec features schema",
  ignore: !haveSchema,
  fn() {
    const schema = foldedSchema();
    const validator = new SchemaValidator(schema, { eager: true });
    const f = features();
    assertEquals(validator.validate(f).errors, []);
    // The validator does catch mistakes in this schema.
    const bad = structuredClone(f) as Json;
    bad.linux.namespaces.push("nonsense");
    bad.linux.seccomp.archs.push("SCMP_ARCH_VAX");
    delete bad.ociVersionMax;
    assertEquals(validator.validate(bad).errors.length, 3);
  },
});

Deno.test("features: what runts supports, and only that", () => {
  const f = features() as Json;
  assertEquals(f.ociVersionMin, "1.0.0");
  assertEquals(f.ociVersionMax, "1.3.0");
  assertEquals(f.hooks, [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
  ]);
  assertEquals([...f.linux.namespaces].sort(), [
    "cgroup",
    "ipc",
    "mount",
    "network",
    "pid",
    "user",
    "uts",
  ]);
  assertEquals(f.linux.cgroup, {
    v1: true,
    v2: true,
    systemd: true,
    systemdUser: false,
    rdma: false,
  });
  assertEquals(f.linux.apparmor, { enabled: false });
  assertEquals(f.linux.selinux, { enabled: false });
  assertEquals(f.linux.intelRdt, { enabled: false });
  assertEquals(f.linux.mountExtensions, { idmap: { enabled: false } });
  assert(f.linux.capabilities.includes("CAP_SYS_ADMIN"));
  assert(f.linux.capabilities.includes("CAP_CHECKPOINT_RESTORE"));
  for (const list of [f.hooks, f.mountOptions, f.linux.capabilities, f.linux.seccomp.archs]) {
    assertEquals(new Set(list).size, list.length, "no duplicates");
  }
  // Every listed mount option parses; the refused ones are not listed.
  for (const o of f.mountOptions) parseMountOptions([o], "test");
  for (const o of ["idmap", "ridmap", "tmpcopyup"]) assert(!f.mountOptions.includes(o), o);
  assert(f.mountOptions.includes("rro") && f.mountOptions.includes("rprivate"));
  // Seccomp: listed actions and flags are accepted; NOTIFY is not listed.
  const s = f.linux.seccomp;
  assertEquals(s.enabled, true);
  for (const a of s.actions) actionValue(a, undefined, "test");
  assert(!s.actions.includes("SCMP_ACT_NOTIFY"));
  assert(s.supportedFlags.every((x: string) => s.knownFlags.includes(x)));
  assert(s.archs.includes("SCMP_ARCH_X86_64") && s.archs.includes("SCMP_ARCH_AARCH64"));
  const native = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  parseProfile({
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: s.archs,
    flags: s.supportedFlags,
    syscalls: s.operators.map((op: string) => ({
      names: ["read"],
      action: "SCMP_ACT_ERRNO",
      args: [{ index: 0, value: 1, valueTwo: 1, op }],
    })),
  }, native);
  assertEquals(s.operators.length, 7);
});
