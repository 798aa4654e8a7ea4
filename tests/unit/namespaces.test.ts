import { assertEquals, assertThrows } from "./assert.ts";
import {
  NAMESPACE_FLAG,
  NAMESPACE_PROC_NAME,
  type NamespacePlan,
  planNamespaces,
} from "../../src/linux/namespaces.ts";
import { CLONE } from "../../src/linux/constants.ts";
import { RuntsError } from "../../src/errors.ts";
import type { LinuxNamespace, LinuxNamespaceType } from "../../src/spec/types.ts";

const ALL: LinuxNamespaceType[] = ["mount", "pid", "network", "uts", "ipc", "user", "cgroup"];

function ns(spec: string): LinuxNamespace[] {
  // "pid user=/p/user mount" → new pid, joined user, new mount
  return spec.split(" ").filter((x) => x).map((t) => {
    const [type, path] = t.split("=");
    return path ? { type: type as LinuxNamespaceType, path } : { type: type as LinuxNamespaceType };
  });
}

function summary(p: NamespacePlan) {
  return {
    cloneFlags: p.cloneFlags,
    unshareFlags: p.unshareFlags,
    join: p.join.map((j) => `${j.type}=${j.path}`),
    parentJoinPid: p.parentJoinPid,
    fork: p.fork,
    newUser: p.newUser,
  };
}

Deno.test("namespaces: flags and /proc names", () => {
  assertEquals(NAMESPACE_FLAG, {
    mount: 0x20000,
    pid: 0x20000000,
    network: 0x40000000,
    uts: 0x4000000,
    ipc: 0x8000000,
    user: 0x10000000,
    cgroup: 0x2000000,
    time: 0x80,
  });
  assertEquals(NAMESPACE_PROC_NAME.mount, "mnt");
  assertEquals(NAMESPACE_PROC_NAME.network, "net");
  assertEquals(NAMESPACE_PROC_NAME.pid, "pid");
});

Deno.test("namespaces: none", () => {
  const p = planNamespaces();
  assertEquals(summary(p), {
    cloneFlags: 0,
    unshareFlags: 0,
    join: [],
    parentJoinPid: undefined,
    fork: false,
    newUser: false,
  });
  assertEquals(ALL.map((t) => p.has(t)), ALL.map(() => false));
  assertEquals(summary(planNamespaces([])), summary(p));
});

Deno.test("namespaces: runc's default (pid network ipc uts mount)", () => {
  const p = planNamespaces(ns("pid network ipc uts mount"));
  assertEquals(summary(p), {
    cloneFlags: CLONE.NEWPID,
    unshareFlags: CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS,
    join: [],
    parentJoinPid: undefined,
    fork: false,
    newUser: false,
  });
  assertEquals(p.has("pid"), true);
  assertEquals(p.isNew("pid"), true);
  assertEquals(p.has("user"), false);
  assertEquals(p.isNew("user"), false);
  assertEquals(p.has("cgroup"), false);
});

Deno.test("namespaces: all new (rootless-like): user and pid by clone, the rest unshared", () => {
  const p = planNamespaces(ns("pid network ipc uts mount user cgroup"));
  assertEquals(summary(p), {
    cloneFlags: CLONE.NEWUSER | CLONE.NEWPID,
    unshareFlags: CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS | CLONE.NEWCGROUP,
    join: [],
    parentJoinPid: undefined,
    fork: false,
    newUser: true,
  });
});

Deno.test("namespaces: unshare never includes user or pid; clone only user and pid", () => {
  for (const t of ALL) {
    const p = planNamespaces([{ type: t }]);
    if (t === "user") assertEquals([p.cloneFlags, p.unshareFlags], [CLONE.NEWUSER, 0], t);
    else if (t === "pid") assertEquals([p.cloneFlags, p.unshareFlags], [CLONE.NEWPID, 0], t);
    else assertEquals([p.cloneFlags, p.unshareFlags], [0, NAMESPACE_FLAG[t]], t);
    assertEquals(p.fork, false);
  }
});

Deno.test("namespaces: joined ones in runc's order (user first, mount last)", () => {
  const p = planNamespaces(
    ns("mount=/m cgroup=/c pid=/p network=/n uts=/u ipc=/i user=/us"),
  );
  assertEquals(summary(p), {
    cloneFlags: 0,
    unshareFlags: 0,
    join: ["user=/us", "ipc=/i", "uts=/u", "network=/n", "pid=/p", "cgroup=/c", "mount=/m"],
    parentJoinPid: undefined,
    fork: true,
    newUser: false,
  });
  assertEquals(p.has("mount"), true);
  assertEquals(p.isNew("mount"), false);
});

Deno.test("namespaces: a joined pid namespace without a joined user ns: runts enters it", () => {
  const p = planNamespaces(ns("pid=/proc/1/ns/pid mount network=/n"));
  assertEquals(summary(p), {
    cloneFlags: 0,
    unshareFlags: CLONE.NEWNS,
    join: ["network=/n"],
    parentJoinPid: "/proc/1/ns/pid",
    fork: false,
    newUser: false,
  });
  // Same with a *new* user namespace: runts joins the pid ns around clone().
  const withNewUser = planNamespaces(ns("pid=/p user mount"));
  assertEquals(summary(withNewUser), {
    cloneFlags: CLONE.NEWUSER,
    unshareFlags: CLONE.NEWNS,
    join: [],
    parentJoinPid: "/p",
    fork: false,
    newUser: true,
  });
});

Deno.test("namespaces: joined user + new pid: unshare + fork inside, not clone flags", () => {
  const p = planNamespaces(ns("user=/u pid mount"));
  assertEquals(summary(p), {
    cloneFlags: 0,
    unshareFlags: CLONE.NEWNS,
    join: ["user=/u"],
    parentJoinPid: undefined,
    fork: true,
    newUser: false,
  });
  assertEquals(p.isNew("pid"), true);
});

Deno.test("namespaces: joined user without a pid namespace needs no fork", () => {
  const p = planNamespaces(ns("user=/u mount network"));
  assertEquals(summary(p), {
    cloneFlags: 0,
    unshareFlags: CLONE.NEWNS | CLONE.NEWNET,
    join: ["user=/u"],
    parentJoinPid: undefined,
    fork: false,
    newUser: false,
  });
});

Deno.test("namespaces: new user + new pid + joined network", () => {
  const p = planNamespaces(ns("user pid network=/n mount uts"));
  assertEquals(summary(p), {
    cloneFlags: CLONE.NEWUSER | CLONE.NEWPID,
    unshareFlags: CLONE.NEWNS | CLONE.NEWUTS,
    join: ["network=/n"],
    parentJoinPid: undefined,
    fork: false,
    newUser: true,
  });
});

Deno.test("namespaces: an empty path means a new namespace", () => {
  const p = planNamespaces([{ type: "network", path: "" }, { type: "mount" }]);
  assertEquals(p.isNew("network"), true);
  assertEquals(p.join, []);
  assertEquals(p.unshareFlags, CLONE.NEWNET | CLONE.NEWNS);
});

Deno.test("namespaces: refusals (time, duplicates, unknown types)", () => {
  assertThrows(
    () => planNamespaces(ns("mount time")),
    RuntsError,
    'linux.namespaces: the "time" namespace is not supported by runts',
  );
  assertThrows(
    () => planNamespaces(ns("mount time=/t")),
    RuntsError,
    '"time" namespace is not supported',
  );
  assertThrows(
    () => planNamespaces(ns("mount pid network pid=/p")),
    RuntsError,
    'linux.namespaces: duplicate type "pid"',
  );
  assertThrows(
    () => planNamespaces([{ type: "bogus" as LinuxNamespaceType }]),
    RuntsError,
    'linux.namespaces: unknown type "bogus"',
  );
});

Deno.test({
  name: "namespaces: a type named like an Object.prototype property is unknown too",
  fn: () => {
    for (const type of ["toString", "constructor", "hasOwnProperty"]) {
      assertThrows(
        () => planNamespaces([{ type: type as LinuxNamespaceType }]),
        RuntsError,
        `unknown type "${type}"`,
      );
    }
  },
});
