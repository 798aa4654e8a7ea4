import { assertEquals, assertThrows } from "./assert.ts";
import { describeCgroupHost } from "../../src/cgroups/detect.ts";
import {
  cleanPath,
  hierarchyPaths,
  innerCgroupPath,
  parseSystemdCgroupsPath,
} from "../../src/cgroups/path.ts";
import { RuntsError } from "../../src/errors.ts";

Deno.test("cleanPath: like runc's CleanPath, relative paths cannot climb", () => {
  assertEquals(cleanPath(""), "");
  assertEquals(cleanPath("/a//b/./c/"), "/a/b/c");
  assertEquals(cleanPath("/../a"), "/a");
  assertEquals(cleanPath("../../etc"), "etc");
  assertEquals(cleanPath("a/../../b"), "b");
});

Deno.test("innerCgroupPath: absolute, relative, empty with and without a default parent", () => {
  assertEquals(innerCgroupPath({ id: "c1", cgroupsPath: "/my/ctr" }), "/my/ctr");
  assertEquals(innerCgroupPath({ id: "c1", cgroupsPath: "rel/ctr/" }), "rel/ctr");
  assertEquals(innerCgroupPath({ id: "c1", defaultParent: "runts" }), "/runts/c1");
  assertEquals(innerCgroupPath({ id: "c1", cgroupsPath: "", defaultParent: "/p/q" }), "/p/q/c1");
  assertEquals(innerCgroupPath({ id: "c1" }), "c1");
  assertThrows(() => innerCgroupPath({ id: "c1", cgroupsPath: "/" }), RuntsError, "root cgroup");
  assertThrows(() => innerCgroupPath({ id: "a/b" }), RuntsError, "not a cgroup name");
});

Deno.test("parseSystemdCgroupsPath: slice:prefix:name", () => {
  assertEquals(parseSystemdCgroupsPath("system.slice:docker:1234", "x"), {
    slice: "system.slice",
    prefix: "docker",
    name: "1234",
  });
  assertEquals(parseSystemdCgroupsPath("", "x"), {
    slice: "system.slice",
    prefix: "runts",
    name: "x",
  });
  assertThrows(() => parseSystemdCgroupsPath("/a/b", "x"), RuntsError, "slice:prefix:name");
});

const MOUNTINFO = `31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 /docker/ctr /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`;
const OWN = "1:cpu,cpuacct:/own\n4:memory:/docker/ctr/inner\n9:name=systemd:/\n0::/u\n";

Deno.test("hierarchyPaths: absolute path sits under every mount point", () => {
  const host = describeCgroupHost(MOUNTINFO, OWN, () => "");
  assertEquals(hierarchyPaths(host, "/runts/c1"), {
    cpu: "/sys/fs/cgroup/cpu,cpuacct/runts/c1",
    cpuacct: "/sys/fs/cgroup/cpu,cpuacct/runts/c1",
    memory: "/sys/fs/cgroup/memory/runts/c1",
    "name=systemd": "/sys/fs/cgroup/systemd/runts/c1",
    unified: "/sys/fs/cgroup/unified/runts/c1",
  });
});

Deno.test("hierarchyPaths: relative path sits under the runtime's own cgroup (mount root removed)", () => {
  const host = describeCgroupHost(MOUNTINFO, OWN, () => "");
  assertEquals(hierarchyPaths(host, "c1"), {
    cpu: "/sys/fs/cgroup/cpu,cpuacct/own/c1",
    cpuacct: "/sys/fs/cgroup/cpu,cpuacct/own/c1",
    memory: "/sys/fs/cgroup/memory/inner/c1",
    "name=systemd": "/sys/fs/cgroup/systemd/c1",
    unified: "/sys/fs/cgroup/unified/u/c1",
  });
});

Deno.test("hierarchyPaths: v2 host has only the unified path", () => {
  const host = describeCgroupHost(
    "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
    "0::/user.slice/x\n",
    () => "memory",
  );
  assertEquals(hierarchyPaths(host, "/a"), { unified: "/sys/fs/cgroup/a" });
  assertEquals(hierarchyPaths(host, "a"), { unified: "/sys/fs/cgroup/user.slice/x/a" });
});

Deno.test("hierarchyPaths: relative path without a /proc/self/cgroup entry is an error", () => {
  const host = describeCgroupHost(MOUNTINFO, "0::/\n", () => "");
  assertThrows(() => hierarchyPaths(host, "c1"), RuntsError, "/proc/self/cgroup has no cpu entry");
});
