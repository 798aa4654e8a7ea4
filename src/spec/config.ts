/**
 * Reading config.json (and `exec --process` files): JSONC parse, pre-1.0 legacy
 * mapping, schema validation, the semantic rules runc enforces, and refusal of fields
 * runts does not implement. Every problem found is reported at once, each as
 * `FILE:LINE:COL: /json/pointer: message`.
 */

import { ConfigError, RuntsError } from "../errors.ts";
import { isCapabilityName } from "./capabilities.ts";
import { escapePointerToken, JsoncSyntaxError, parseJsonc, splitPointer } from "./jsonc.ts";
import type { JsoncResult } from "./jsonc.ts";
import { SchemaValidator } from "./schema.ts";
import type { Process, Spec } from "./types.ts";
import configSchema from "../../schema/config.schema.json" with { type: "json" };

/** A field runts refuses while it is not implemented; `*` matches any key or index. */
export interface UnsupportedField {
  pointer: string;
  reason: string;
  /** Refuse only values for which this holds (default: any non-empty value). */
  when?: (value: unknown) => boolean;
}

const isNotify = (value: unknown) => value === "SCMP_ACT_NOTIFY";

/**
 * The one table of refused fields. Remove an entry when the feature lands. A present,
 * non-empty value (not "", [], {} or null) at a matching path is an error.
 */
export const UNSUPPORTED: UnsupportedField[] = [
  { pointer: "/windows", reason: "runts runs Linux containers only" },
  { pointer: "/solaris", reason: "runts runs Linux containers only" },
  { pointer: "/vm", reason: "runts runs Linux containers only" },
  { pointer: "/zos", reason: "runts runs Linux containers only" },
  { pointer: "/freebsd", reason: "runts runs Linux containers only" },
  { pointer: "/process/apparmorProfile", reason: "no AppArmor support" },
  { pointer: "/process/selinuxLabel", reason: "no SELinux support" },
  { pointer: "/process/execCPUAffinity", reason: "CPU affinity is not implemented" },
  { pointer: "/process/scheduler", reason: "sched_setattr is not implemented" },
  { pointer: "/process/ioPriority", reason: "ioprio_set is not implemented" },
  { pointer: "/process/user/username", reason: "a Windows-only field" },
  { pointer: "/mounts/*/uidMappings", reason: "idmapped mounts are not implemented" },
  { pointer: "/mounts/*/gidMappings", reason: "idmapped mounts are not implemented" },
  { pointer: "/linux/mountLabel", reason: "no SELinux support" },
  { pointer: "/linux/intelRdt", reason: "Intel RDT (resctrl) is not implemented" },
  { pointer: "/linux/personality", reason: "personality(2) is not implemented" },
  { pointer: "/linux/timeOffsets", reason: "time namespace offsets are not implemented" },
  { pointer: "/linux/netDevices", reason: "moving network devices is not implemented" },
  { pointer: "/linux/memoryPolicy", reason: "set_mempolicy is not implemented" },
  { pointer: "/linux/resources/rdma", reason: "the rdma cgroup controller is not implemented" },
  { pointer: "/linux/seccomp/listenerPath", reason: "seccomp user notification" },
  { pointer: "/linux/seccomp/defaultAction", reason: "seccomp user notification", when: isNotify },
  {
    pointer: "/linux/seccomp/syscalls/*/action",
    reason: "seccomp user notification",
    when: isNotify,
  },
];

/** RLIMIT_* names and their resource numbers (asm-generic/resource.h: x86_64, arm64). */
export const RLIMIT_RESOURCES: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export interface ParsedConfig {
  /** The validated config; `process.user` defaults to uid 0 / gid 0 when absent. */
  spec: Spec;
  /** Formatted `FILE:LINE:COL: /path: message` notes (legacy forms, unknown fields). */
  warnings: string[];
}

export interface LoadedConfig extends ParsedConfig {
  /** The config file label used in messages ("config.json" for bundle "."). */
  path: string;
  /** root.path resolved against the bundle, absolute. */
  rootfs: string;
}

/** Parse and check config.json text; throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string): ParsedConfig {
  return checkDocument(text, file, "config");
}

/** Parse and check a `runc exec --process` file (a bare process object). */
export function parseProcess(text: string, file: string): { process: Process; warnings: string[] } {
  const { spec, warnings } = checkDocument(text, file, "process");
  return { process: spec.process!, warnings };
}

/** Read `<bundle>/config.json`, check it, and check that root.path is a directory. */
export function loadConfig(bundleDir: string): LoadedConfig {
  const bundle = bundleDir.replace(/(.)\/+$/, "$1");
  const path = bundle === "." ? "config.json" : `${bundle === "/" ? "" : bundle}/config.json`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new RuntsError(`${path}: no such file: "${bundleDir}" is not an OCI bundle`);
    }
    throw new RuntsError(`${path}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  const bundleAbs = bundle.startsWith("/") ? bundle : joinPath(Deno.cwd(), bundle);
  let rootfs = "";
  const parsed = checkDocument(text, path, "config", (spec, report) => {
    const rootPath = spec.root?.path;
    if (typeof rootPath !== "string" || rootPath === "") return;
    rootfs = rootPath.startsWith("/") ? rootPath : joinPath(bundleAbs, rootPath);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(rootfs);
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound ? "does not exist" : (err as Error).message;
      report("/root/path", `root filesystem ${rootfs} ${why}`);
      return;
    }
    if (!info.isDirectory) report("/root/path", `root filesystem ${rootfs} is not a directory`);
  });
  return { ...parsed, path, rootfs };
}

function joinPath(base: string, rel: string): string {
  const parts: string[] = [];
  for (const part of `${base}/${rel}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

// ---------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
type Report = (path: string, message: string) => void;

interface Issue {
  path: string;
  message: string;
  /** Position when it is not the value's (a duplicate key points at the key). */
  at?: { line: number; col: number };
}

let validator: SchemaValidator | undefined;

function schemaValidator(): SchemaValidator {
  validator ??= new SchemaValidator(configSchema, { warnUnknownProperties: true });
  return validator;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isAbsolute(value: unknown): boolean {
  return typeof value === "string" && value.startsWith("/");
}

function checkDocument(
  text: string,
  file: string,
  kind: "config" | "process",
  extraCheck?: (spec: Spec, report: Report) => void,
): ParsedConfig {
  let doc: JsoncResult;
  try {
    doc = parseJsonc(text);
  } catch (err) {
    if (err instanceof JsoncSyntaxError) {
      throw new ConfigError([`${file}:${err.line}:${err.col}: ${err.reason}`]);
    }
    throw err;
  }
  const problems: Issue[] = [];
  const base = kind === "config" ? "" : "/process";
  const warnings: Issue[] = doc.warnings.map(({ path, message, line, col }) => ({
    path: base + path,
    message,
    at: { line, col },
  }));
  const report: Report = (path, message) => void problems.push({ path, message });
  const warn: Report = (path, message) => void warnings.push({ path, message });

  // A process file is checked as the /process member of a config, so paths, legacy
  // mapping, rules and the UNSUPPORTED table are shared; `base` is stripped on output.
  const value = kind === "config" ? doc.value : { process: doc.value };
  const locate = (path: string) => doc.locate(path.slice(base.length));

  if (isObject(value)) {
    mapLegacyForms(
      value,
      warn,
      report,
      (to, from) => doc.alias(to.slice(base.length), from.slice(base.length)),
    );
    const ref = kind === "config" ? "#" : "#/definitions/Process";
    const checked = schemaValidator().validate(kind === "config" ? value : value.process, ref);
    for (const e of checked.errors) problems.push({ path: base + e.path, message: e.message });
    for (const w of checked.warnings) warnings.push({ path: base + w.path, message: w.message });
    if (kind === "config") checkConfigRules(value, report, warn);
    else checkProcessRules(value.process, report);
    checkUnsupported(value, base, report);
    if (problems.length === 0 && extraCheck) extraCheck(value as unknown as Spec, report);
  } else {
    problems.push({ path: base, message: "must be an object" });
  }

  const format = (issue: Issue) => {
    const { line, col } = issue.at ?? nearestPosition(locate, issue.path);
    const path = issue.path.slice(base.length);
    return {
      line,
      col,
      message: issue.message,
      text: `${file}:${line}:${col}: ${path}: ${issue.message}`,
    };
  };
  if (problems.length > 0) throw new ConfigError(sortedUnique(problems.map(format)));
  if (isObject(value) && isObject(value.process) && value.process.user === undefined) {
    value.process.user = { uid: 0, gid: 0 }; // runc's default: root in the container
  }
  return { spec: value as unknown as Spec, warnings: sortedUnique(warnings.map(format)) };
}

/** Location of the value at `path`, or of its nearest existing ancestor. */
function nearestPosition(
  locate: (path: string) => { value: { line: number; col: number } } | undefined,
  path: string,
): { line: number; col: number } {
  for (let p = path;; p = p.slice(0, p.lastIndexOf("/"))) {
    const found = locate(p);
    if (found) return found.value;
    if (p === "") return { line: 1, col: 1 };
  }
}

/**
 * File order; one line per position and message, since a legacy value mapped to several
 * paths (capability list → three sets) would otherwise repeat one mistake.
 */
function sortedUnique(items: { line: number; col: number; message: string; text: string }[]) {
  items.sort((a, b) => a.line - b.line || a.col - b.col);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items) {
    const key = `${item.line}:${item.col}:${item.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item.text);
  }
  return out;
}

// --- legacy (pre-1.0) forms ---------------------------------------------------------------

function mapLegacyForms(
  config: Json,
  warn: Report,
  report: Report,
  alias: (to: string, from: string) => void,
): void {
  // runc 1.0.0-rc2 `runc spec` wrote platform: {os, arch}; 1.0 dropped it.
  if (isObject(config.platform)) {
    const os = config.platform.os;
    if (os !== undefined && os !== "linux") {
      report("/platform/os", `must be "linux": runts runs Linux containers only`);
    } else {
      warn("/platform", "pre-1.0 field, ignored");
    }
    delete config.platform;
  }

  const process = config.process;
  if (isObject(process)) {
    // Pre-1.0 capabilities were one list that runc applied to every set. Inheritable is
    // left empty (as `runc spec` does since 1.1.2): inheritable capabilities leak into
    // programs with file capabilities (CVE-2022-29162), and ambient needs it.
    if (Array.isArray(process.capabilities)) {
      const list = process.capabilities;
      const sets = ["bounding", "effective", "permitted"];
      process.capabilities = Object.fromEntries(sets.map((set) => [set, [...list]]));
      for (const set of sets) {
        alias(`/process/capabilities/${set}`, "/process/capabilities");
        list.forEach((_, i) =>
          alias(`/process/capabilities/${set}/${i}`, `/process/capabilities/${i}`)
        );
      }
      warn(
        "/process/capabilities",
        "pre-1.0 list form: used as the bounding, effective and permitted sets",
      );
    }
    // rc-era `runc spec` wrote a 0x0 console size meaning "not set".
    const size = process.consoleSize;
    if (isObject(size) && size.height === 0 && size.width === 0) delete process.consoleSize;
  }

  const linux = config.linux;
  if (isObject(linux) && isObject(linux.resources) && "oomScoreAdj" in linux.resources) {
    // Before 1.0 oomScoreAdj lived in linux.resources.
    const adj = linux.resources.oomScoreAdj;
    delete linux.resources.oomScoreAdj;
    if (isObject(process) && process.oomScoreAdj === undefined) {
      process.oomScoreAdj = adj;
      alias("/process/oomScoreAdj", "/linux/resources/oomScoreAdj");
      warn("/linux/resources/oomScoreAdj", "pre-1.0 location: used as /process/oomScoreAdj");
    } else {
      warn("/linux/resources/oomScoreAdj", "pre-1.0 location, ignored");
    }
  }
  if (isObject(linux) && isObject(linux.seccomp) && Array.isArray(linux.seccomp.syscalls)) {
    // Before 1.0 a seccomp rule named one syscall in "name".
    linux.seccomp.syscalls.forEach((rule, i) => {
      if (!isObject(rule) || !("name" in rule)) return;
      const path = `/linux/seccomp/syscalls/${i}`;
      if (rule.names === undefined) {
        rule.names = [rule.name];
        alias(`${path}/names`, `${path}/name`);
        alias(`${path}/names/0`, `${path}/name`);
        warn(`${path}/name`, `pre-1.0 field: used as "names"`);
      } else {
        warn(`${path}/name`, `pre-1.0 field, ignored because "names" is set`);
      }
      delete rule.name;
    });
  }
}

// --- semantic rules ------------------------------------------------------------------------

function checkConfigRules(config: Json, report: Report, warn: Report): void {
  const linux = isObject(config.linux) ? config.linux : {};
  const namespaces = checkNamespaces(linux, report);

  if (config.process !== undefined) checkProcessRules(config.process, report, "/process");

  if (Array.isArray(config.mounts)) {
    config.mounts.forEach((mount, i) => {
      if (!isObject(mount) || typeof mount.destination !== "string") return;
      const dest = mount.destination;
      if (dest !== "" && !dest.startsWith("/")) {
        // runc 1.1 takes relative destinations relative to / with a warning.
        mount.destination = "/" + dest;
        warn(`/mounts/${i}/destination`, `relative path "${dest}" is taken as "/${dest}"`);
      }
    });
  }

  if (isObject(config.hooks)) {
    for (const [kind, hooks] of Object.entries(config.hooks)) {
      if (!Array.isArray(hooks)) continue;
      hooks.forEach((hook, i) => {
        if (isObject(hook) && typeof hook.path === "string" && !isAbsolute(hook.path)) {
          report(`/hooks/${escapePointerToken(kind)}/${i}/path`, "must be an absolute path");
        }
      });
    }
  }

  const ownUts = namespaces.get("uts");
  for (const field of ["hostname", "domainname"]) {
    const value = config[field];
    if (typeof value === "string" && value !== "" && (!ownUts || ownUts.path !== undefined)) {
      report(`/${field}`, `unable to set ${field} without a private UTS namespace`);
    }
  }

  checkUserNamespace(linux, namespaces, report);
  checkSysctl(config, linux, namespaces, report);

  for (const field of ["maskedPaths", "readonlyPaths"]) {
    const paths = linux[field];
    if (!Array.isArray(paths)) continue;
    paths.forEach((p, i) => {
      if (typeof p === "string" && !isAbsolute(p)) {
        report(`/linux/${field}/${i}`, "must be an absolute path");
      }
    });
    if (paths.length > 0 && !namespaces.has("mount")) {
      report(
        `/linux/${field}`,
        "unable to restrict sys entries without a private mount namespace",
      );
    }
  }

  if (Array.isArray(linux.devices)) {
    linux.devices.forEach((device, i) => {
      if (!isObject(device)) return;
      const path = `/linux/devices/${i}`;
      if (typeof device.path === "string" && !isAbsolute(device.path)) {
        report(`${path}/path`, "must be an absolute path");
      }
      if (device.type === "c" || device.type === "b" || device.type === "u") {
        for (const field of ["major", "minor"]) {
          if (device[field] === undefined) {
            report(path, `missing required property "${field}" (needed for type "${device.type}")`);
          }
        }
      }
    });
  }
}

interface NamespaceEntry {
  path?: string;
}

/** Checks namespace entries; returns the valid ones by type. */
function checkNamespaces(linux: Json, report: Report): Map<string, NamespaceEntry> {
  const found = new Map<string, NamespaceEntry & { index: number }>();
  if (!Array.isArray(linux.namespaces)) return found;
  linux.namespaces.forEach((ns, i) => {
    if (!isObject(ns) || typeof ns.type !== "string") return;
    const earlier = found.get(ns.type);
    if (earlier) {
      report(
        `/linux/namespaces/${i}/type`,
        `duplicate namespace "${ns.type}" (also at /linux/namespaces/${earlier.index})`,
      );
      return;
    }
    if (ns.path !== undefined && ns.path !== "" && !isAbsolute(ns.path)) {
      report(`/linux/namespaces/${i}/path`, "must be an absolute path");
    }
    const path = typeof ns.path === "string" && ns.path !== "" ? ns.path : undefined;
    found.set(ns.type, { path, index: i });
  });
  return found;
}

function checkUserNamespace(
  linux: Json,
  namespaces: Map<string, NamespaceEntry>,
  report: Report,
): void {
  const userns = namespaces.get("user");
  for (const field of ["uidMappings", "gidMappings"]) {
    const mappings = linux[field];
    const present = Array.isArray(mappings) && mappings.length > 0;
    if (userns === undefined && present) {
      report(`/linux/${field}`, "id mappings need a user namespace in /linux/namespaces");
    } else if (userns !== undefined && userns.path === undefined && !present) {
      report("/linux", `missing required property "${field}" (a new user namespace needs it)`);
    }
  }
}

/** Which namespace makes a sysctl safe to set (runc's rules). */
function sysctlNamespace(name: string): "ipc" | "network" | "uts" | undefined {
  const ipcSysctls = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
  ];
  if (ipcSysctls.includes(name) || name.startsWith("fs.mqueue.")) return "ipc";
  if (name.startsWith("net.")) return "network";
  if (name === "kernel.hostname" || name === "kernel.domainname") return "uts";
  return undefined;
}

function checkSysctl(
  config: Json,
  linux: Json,
  namespaces: Map<string, NamespaceEntry>,
  report: Report,
): void {
  if (!isObject(linux.sysctl)) return;
  for (const key of Object.keys(linux.sysctl)) {
    const path = `/linux/sysctl/${escapePointerToken(key)}`;
    const name = key.replaceAll("/", "."); // "net/ipv4/ip_forward" is the same sysctl
    const needs = sysctlNamespace(name);
    if (needs === undefined) {
      report(path, `sysctl "${key}" is not in a separate kernel namespace`);
    } else if (!namespaces.has(needs)) {
      const what = needs === "network" ? "network" : needs === "ipc" ? "IPC" : "UTS";
      report(path, `sysctl "${key}" needs a ${what} namespace: not allowed in the host's one`);
    } else if (needs === "uts") {
      const field = name === "kernel.hostname" ? "hostname" : "domainname";
      if (typeof config[field] === "string" && config[field] !== "") {
        report(path, `sysctl "${key}" conflicts with /${field}`);
      }
    }
  }
}

function checkProcessRules(process: unknown, report: Report, base = "/process"): void {
  if (!isObject(process)) return;
  if (process.args === undefined) {
    report(base, `missing required property "args"`);
  } else if (Array.isArray(process.args) && process.args.length === 0) {
    report(`${base}/args`, "must not be empty");
  }
  if (typeof process.cwd === "string" && !isAbsolute(process.cwd)) {
    report(`${base}/cwd`, "must be an absolute path");
  }
  if (isObject(process.capabilities)) {
    for (const [set, names] of Object.entries(process.capabilities)) {
      if (!Array.isArray(names)) continue;
      names.forEach((name, i) => {
        if (typeof name === "string" && !isCapabilityName(name)) {
          report(
            `${base}/capabilities/${escapePointerToken(set)}/${i}`,
            `unknown capability "${name}"`,
          );
        }
      });
    }
  }
  if (Array.isArray(process.rlimits)) {
    const seen = new Map<string, number>();
    process.rlimits.forEach((rlimit, i) => {
      if (!isObject(rlimit)) return;
      const path = `${base}/rlimits/${i}`;
      const type = rlimit.type;
      if (typeof type === "string") {
        if (!Object.hasOwn(RLIMIT_RESOURCES, type)) {
          report(`${path}/type`, `unknown rlimit "${type}"`);
        } else if (seen.has(type)) {
          report(
            `${path}/type`,
            `duplicate rlimit "${type}" (also at ${base}/rlimits/${seen.get(type)})`,
          );
        } else {
          seen.set(type, i);
        }
      }
      if (
        typeof rlimit.soft === "number" && typeof rlimit.hard === "number" &&
        rlimit.soft > rlimit.hard
      ) {
        report(`${path}/soft`, `soft limit ${rlimit.soft} is above the hard limit ${rlimit.hard}`);
      }
    });
  }
}

// --- unsupported fields --------------------------------------------------------------------

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.keys(value).length === 0;
}

/** Every concrete path matching a pattern like "/mounts/*\/uidMappings", with its value. */
function matchPointer(root: unknown, pattern: string): [string, unknown][] {
  let current: [string, unknown][] = [["", root]];
  for (const token of splitPointer(pattern)) {
    const next: [string, unknown][] = [];
    for (const [path, value] of current) {
      if (token === "*") {
        if (Array.isArray(value)) value.forEach((v, i) => next.push([`${path}/${i}`, v]));
        else if (isObject(value)) {
          for (const [k, v] of Object.entries(value)) {
            next.push([`${path}/${escapePointerToken(k)}`, v]);
          }
        }
      } else if (Array.isArray(value) ? /^(0|[1-9][0-9]*)$/.test(token) : isObject(value)) {
        const child = (value as Json)[token];
        if (child !== undefined) next.push([`${path}/${escapePointerToken(token)}`, child]);
      }
    }
    current = next;
  }
  return current;
}

function checkUnsupported(value: Json, base: string, report: Report): void {
  const refused: Issue[] = [];
  for (const entry of UNSUPPORTED) {
    if (!entry.pointer.startsWith(base + "/")) continue;
    for (const [path, found] of matchPointer(value, entry.pointer)) {
      if (entry.when ? !entry.when(found) : isEmpty(found)) continue;
      refused.push({ path, message: `not supported by runts (${entry.reason})` });
    }
  }
  // A refused object covers whatever inside it is refused too: report it once.
  for (const issue of refused) {
    const covered = refused.some((other) => issue.path.startsWith(other.path + "/"));
    if (!covered) report(issue.path, issue.message);
  }
}
