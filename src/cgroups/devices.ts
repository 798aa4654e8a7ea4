/**
 * Device access rules: the defaults runc allows in every container, and the text
 * form of a rule for the v1 devices controller ("c 1:3 rwm").
 */
import { RuntsError } from "../errors.ts";
import type { LinuxDevice, LinuxDeviceCgroup } from "../spec/types.ts";

function allowChar(major: number | undefined, minor: number | undefined, access: string) {
  return { allow: true, type: "c", major, minor, access } as LinuxDeviceCgroup;
}

/**
 * runc's AllowedDevices (libcontainer/specconv), in its order: mknod of any char or
 * block device, /dev/null, random, full, tty, zero, urandom, pts/*, ptmx, net/tun.
 * The core appends these after linux.resources.devices.
 */
export function defaultAllowedDeviceRules(): LinuxDeviceCgroup[] {
  return [
    { allow: true, type: "c", access: "m" },
    { allow: true, type: "b", access: "m" },
    allowChar(1, 3, "rwm"), // /dev/null
    allowChar(1, 8, "rwm"), // /dev/random
    allowChar(1, 7, "rwm"), // /dev/full
    allowChar(5, 0, "rwm"), // /dev/tty
    allowChar(1, 5, "rwm"), // /dev/zero
    allowChar(1, 9, "rwm"), // /dev/urandom
    allowChar(136, undefined, "rwm"), // /dev/pts/*
    allowChar(5, 2, "rwm"), // /dev/ptmx
    allowChar(10, 200, "rwm"), // /dev/net/tun
  ].map(stripUndefined);
}

/** linux.devices entries become "allow rwm" rules, as runc does. */
export function deviceRulesForLinuxDevices(
  devices: LinuxDevice[] | undefined,
): LinuxDeviceCgroup[] {
  const rules: LinuxDeviceCgroup[] = [];
  for (const d of devices ?? []) {
    if (d.type === "p") continue; // FIFOs are not governed by the devices controller
    const type = d.type === "u" ? "c" : d.type;
    rules.push(
      stripUndefined({ allow: true, type, major: d.major, minor: d.minor, access: "rwm" }),
    );
  }
  return rules;
}

/** The complete rule list in runc's order: config rules, defaults, then linux.devices. */
export function effectiveDeviceRules(
  resourceRules: LinuxDeviceCgroup[] | undefined,
  linuxDevices: LinuxDevice[] | undefined,
): LinuxDeviceCgroup[] {
  return [
    ...(resourceRules ?? []),
    ...defaultAllowedDeviceRules(),
    ...deviceRulesForLinuxDevices(linuxDevices),
  ];
}

function stripUndefined(rule: LinuxDeviceCgroup): LinuxDeviceCgroup {
  const out: LinuxDeviceCgroup = { allow: rule.allow };
  if (rule.type !== undefined) out.type = rule.type;
  if (rule.major !== undefined) out.major = rule.major;
  if (rule.minor !== undefined) out.minor = rule.minor;
  if (rule.access !== undefined) out.access = rule.access;
  return out;
}

/** Problems of one rule, each prefixed with its JSON path. */
export function deviceRuleProblems(rule: LinuxDeviceCgroup, jsonPath: string): string[] {
  const problems: string[] = [];
  const type = rule.type ?? "a";
  if (!["a", "b", "c"].includes(type)) {
    problems.push(`${jsonPath}/type: must be "a", "b" or "c", got ${JSON.stringify(rule.type)}`);
  }
  if (rule.access !== undefined && !/^[rwm]*$/.test(rule.access)) {
    problems.push(
      `${jsonPath}/access: must be made of "r", "w", "m", got ${JSON.stringify(rule.access)}`,
    );
  }
  for (const key of ["major", "minor"] as const) {
    const v = rule[key];
    if (v !== undefined && v !== -1 && !(Number.isInteger(v) && v >= 0)) {
      problems.push(`${jsonPath}/${key}: must be a non-negative integer, got ${v}`);
    }
  }
  return problems;
}

/** "c 1:3 rwm" / "a" — what devices.allow or devices.deny takes. */
export function deviceRuleText(rule: LinuxDeviceCgroup): string {
  const type = rule.type ?? "a";
  const access = rule.access === undefined || rule.access === "" ? "rwm" : rule.access;
  if (type === "a") {
    // The kernel only accepts "a" alone (it resets the list); partial access is not expressible.
    if (access !== "rwm" && access.split("").sort().join("") !== "mrw") {
      throw new RuntsError(
        `cgroup: device rule of type "a" with access "${access}" cannot be expressed on cgroup v1`,
      );
    }
    return "a";
  }
  const num = (n: number | undefined) => (n === undefined || n === -1 ? "*" : String(n));
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}
