/**
 * `runts features`: the runtime-spec Features Structure (features.md,
 * features-linux.md), built from the tables the code itself uses, so it lists what
 * runts really accepts: a name is listed when runts' own parser takes it.
 */
import { RuntsError } from "../errors.ts";
import { NAMESPACE_FLAG, planNamespaces } from "../linux/namespaces.ts";
import { FLAG_OPTIONS, PROPAGATION_OPTIONS, RECURSIVE_OPTIONS } from "../rootfs/mount_options.ts";
import { actionValue } from "../seccomp/actions.ts";
import { ARCHES, UNREACHABLE_ARCHES } from "../seccomp/arch.ts";
import type { CompareOp } from "../seccomp/profile.ts";
import { CAPABILITY_NAMES } from "../spec/capabilities.ts";
import type { Hooks, LinuxNamespaceType } from "../spec/types.ts";
import { OCI_SPEC_VERSION, RUNTS_VERSION } from "../version.ts";

/** Every hook kind runts runs (runtime.md lifecycle). */
const HOOKS: Record<keyof Hooks, true> = {
  prestart: true,
  createRuntime: true,
  createContainer: true,
  startContainer: true,
  poststart: true,
  poststop: true,
};

/** The seccomp operators (an exhaustive Record: the compiler checks it against CompareOp). */
const OPERATORS: Record<CompareOp, true> = {
  NE: true,
  LT: true,
  LE: true,
  EQ: true,
  GE: true,
  GT: true,
  MASKED_EQ: true,
};

const SECCOMP_ACTION_NAMES = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
];

/** Flags src/seccomp/profile.ts recognizes; WAIT_KILLABLE_RECV only with NOTIFY (refused). */
const KNOWN_SECCOMP_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];
const SUPPORTED_SECCOMP_FLAGS = KNOWN_SECCOMP_FLAGS.slice(0, 3);

function accepted(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof RuntsError) return false;
    throw e;
  }
}

export function features(): Record<string, unknown> {
  const namespaces = (Object.keys(NAMESPACE_FLAG) as LinuxNamespaceType[])
    .filter((type) => accepted(() => planNamespaces([{ type }])));
  const mountOptions = [
    ...Object.keys(FLAG_OPTIONS),
    ...Object.keys(PROPAGATION_OPTIONS),
    ...Object.keys(RECURSIVE_OPTIONS),
  ].sort();
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: OCI_SPEC_VERSION,
    hooks: Object.keys(HOOKS),
    mountOptions,
    linux: {
      namespaces,
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: SECCOMP_ACTION_NAMES.filter((a) => accepted(() => actionValue(a, undefined, ""))),
        operators: Object.keys(OPERATORS).map((op) => `SCMP_CMP_${op}`),
        archs: [...Object.keys(ARCHES), ...UNREACHABLE_ARCHES].sort(),
        knownFlags: KNOWN_SECCOMP_FLAGS,
        supportedFlags: SUPPORTED_SECCOMP_FLAGS,
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      netDevices: { enabled: false },
    },
    annotations: {
      "org.opencontainers.runts.version": RUNTS_VERSION,
      "org.opencontainers.runts.ociVersion": OCI_SPEC_VERSION,
    },
  };
}
