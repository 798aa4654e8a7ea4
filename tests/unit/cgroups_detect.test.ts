import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  describeCgroupHost,
  parseCgroupMounts,
  parseProcCgroup,
} from "../../src/cgroups/detect.ts";

const HYBRID_MOUNTINFO = `22 1 0:20 / /sys rw - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
41 30 0:31 /sub /mnt/memory\\040copy rw,relatime - cgroup cgroup rw,memory
`;

Deno.test("parseCgroupMounts: v1 controllers, named hierarchy, cgroup2, first mount wins", () => {
  const m = parseCgroupMounts(HYBRID_MOUNTINFO);
  assertEquals(m.v1.map((x) => x.controllers), [
    ["cpu", "cpuacct"],
    ["cpuset"],
    ["memory"],
    ["name=systemd"],
  ]);
  assertEquals(m.unified, { mountpoint: "/sys/fs/cgroup/unified", root: "/", controllers: [] });
});

Deno.test("parseCgroupMounts: octal escapes and non-root mount roots", () => {
  const m = parseCgroupMounts(
    "1 0 0:31 /docker/abc /mnt/my\\040cg rw - cgroup cgroup rw,memory\n",
  );
  assertEquals(m.v1[0], { mountpoint: "/mnt/my cg", root: "/docker/abc", controllers: ["memory"] });
});

Deno.test("parseProcCgroup: comounted names split, v2 line under the empty key", () => {
  const own = parseProcCgroup("4:memory:/a/b\n1:cpu,cpuacct:/c\n9:name=systemd:/\n0::/u\n");
  assertEquals(own.get("memory"), "/a/b");
  assertEquals(own.get("cpu"), "/c");
  assertEquals(own.get("cpuacct"), "/c");
  assertEquals(own.get("name=systemd"), "/");
  assertEquals(own.get(""), "/u");
});

Deno.test("describeCgroupHost: hybrid, v1 and v2 modes", () => {
  const hybrid = describeCgroupHost(HYBRID_MOUNTINFO, "0::/\n", () => "hugetlb\n");
  assertEquals(hybrid.mode, "hybrid");
  assertEquals(hybrid.unifiedMount, "/sys/fs/cgroup/unified");
  assertEquals(hybrid.v2Controllers, ["hugetlb"]);
  assertEquals(hybrid.v1Controllers.get("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  assertEquals(hybrid.v1Controllers.get("name=systemd"), "/sys/fs/cgroup/systemd");

  const v1Only = HYBRID_MOUNTINFO.split("\n").filter((l) => !l.includes("cgroup2")).join("\n");
  assertEquals(describeCgroupHost(v1Only, "", () => "").mode, "v1");

  const v2 = describeCgroupHost(
    "30 22 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
    "0::/user.slice\n",
    (mount) => {
      assertEquals(mount, "/sys/fs/cgroup");
      return "cpuset cpu io memory pids\n";
    },
  );
  assertEquals(v2.mode, "v2");
  assertEquals(v2.v2Controllers, ["cpuset", "cpu", "io", "memory", "pids"]);
  assertEquals(v2.ownCgroups.get(""), "/user.slice");
});

Deno.test("describeCgroupHost: a name=-only v1 tree with cgroup2 is v2", () => {
  const text = "1 0 0:1 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n" +
    "2 0 0:2 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  assertEquals(describeCgroupHost(text, "", () => "").mode, "v2");
});

Deno.test("describeCgroupHost: no cgroup mounts at all is an error", () => {
  assertThrows(() => describeCgroupHost("22 1 0:20 / /sys rw - sysfs sysfs rw\n", "", () => ""));
});

Deno.test("detectCgroupMode on this host returns a consistent answer", async () => {
  const { detectCgroupMode } = await import("../../src/cgroups/mod.ts");
  const d = detectCgroupMode();
  if (d.mode === "v2") assert(d.unifiedMount !== undefined);
  else assert(d.v1Controllers.size > 0);
});
