import { assertEquals, assertThrows } from "./assert.ts";
import {
  basename,
  cleanPath,
  dirname,
  joinPath,
  normalizeDestination,
} from "../../src/rootfs/paths.ts";
import { resolveInRootfs } from "../../src/rootfs/mounts.ts";
import { RuntsError } from "../../src/errors.ts";

Deno.test("cleanPath: absolute paths", () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["//", "/"],
    ["///a//b///", "/a/b"],
    ["/a/./b/.", "/a/b"],
    ["/a/b/..", "/a"],
    ["/a/b/../..", "/"],
    ["/..", "/"],
    ["/../../etc", "/etc"],
    ["/a/../../b", "/b"],
    ["/a/b/../../../c/./d/..", "/c"],
    ["/.../a", "/.../a"],
    ["/..a/b..", "/..a/b.."],
    ["/proc/self/fd/3", "/proc/self/fd/3"],
  ];
  for (const [input, want] of cases) assertEquals(cleanPath(input), want, input);
});

Deno.test("cleanPath: relative paths keep leading .., empty is .", () => {
  const cases: [string, string][] = [
    ["", "."],
    [".", "."],
    ["./", "."],
    ["a", "a"],
    ["a/", "a"],
    ["./a//b/", "a/b"],
    ["a/..", "."],
    ["a/../..", ".."],
    ["..", ".."],
    ["../a", "../a"],
    ["../../x/../y", "../../y"],
    ["a/b/../../../c", "../c"],
  ];
  for (const [input, want] of cases) assertEquals(cleanPath(input), want, input);
});

Deno.test("joinPath: joins, skips empty parts, cleans", () => {
  assertEquals(joinPath("/bundle", "rootfs"), "/bundle/rootfs");
  assertEquals(joinPath("/bundle", ""), "/bundle");
  assertEquals(joinPath("", "a"), "a");
  assertEquals(joinPath("/bundle", "../x"), "/x");
  assertEquals(joinPath("/bundle", "/abs"), "/bundle/abs");
  assertEquals(joinPath("/bundle/", "./a/", "b"), "/bundle/a/b");
  assertEquals(joinPath(), ".");
});

Deno.test("normalizeDestination: always absolute and clean, can't climb above /", () => {
  assertEquals(normalizeDestination("proc"), "/proc");
  assertEquals(normalizeDestination("/proc/"), "/proc");
  assertEquals(normalizeDestination(""), "/");
  assertEquals(normalizeDestination("../../etc"), "/etc");
  assertEquals(normalizeDestination("/dev//pts"), "/dev/pts");
  assertEquals(normalizeDestination("a/../../b"), "/b");
});

Deno.test("dirname and basename", () => {
  assertEquals(dirname("/a/b"), "/a");
  assertEquals(dirname("/a"), "/");
  assertEquals(dirname("/"), "/");
  assertEquals(dirname("a"), ".");
  assertEquals(dirname("a/b/"), "a");
  assertEquals(dirname("/dev//net/tun"), "/dev/net");
  assertEquals(basename("/a/b/"), "b");
  assertEquals(basename("/dev/null"), "null");
  assertEquals(basename("a"), "a");
  assertEquals(basename("/"), "");
  assertEquals(basename("/a/b/.."), "a");
});

Deno.test("resolveInRootfs: symlinks resolve inside the rootfs, .. stops at its root", () => {
  const root = Deno.makeTempDirSync({ prefix: "runts-paths-" });
  try {
    Deno.mkdirSync(`${root}/real/sub`, { recursive: true });
    Deno.symlinkSync("/real", `${root}/abs`); // absolute: relative to the rootfs
    Deno.symlinkSync("real/sub", `${root}/rel`);
    Deno.symlinkSync("../../../../../etc", `${root}/real/up`); // can't leave the rootfs
    Deno.symlinkSync("loop2", `${root}/loop1`);
    Deno.symlinkSync("loop1", `${root}/loop2`);
    Deno.symlinkSync("/abs/sub", `${root}/chain`);
    assertEquals(resolveInRootfs(root, "/real/sub"), "/real/sub");
    assertEquals(resolveInRootfs(root, "/abs/sub/x"), "/real/sub/x");
    assertEquals(resolveInRootfs(root, "/rel"), "/real/sub");
    assertEquals(resolveInRootfs(root, "/real/up/passwd"), "/etc/passwd");
    assertEquals(resolveInRootfs(root, "/chain/y"), "/real/sub/y");
    assertEquals(resolveInRootfs(root, "/missing/a/../b"), "/missing/b");
    assertEquals(resolveInRootfs(root, "/real/../../.."), "/");
    assertEquals(resolveInRootfs(root, "/"), "/");
    assertThrows(
      () => resolveInRootfs(root, "/loop1/x"),
      RuntsError,
      "mount destination /loop1/x: too many symlinks",
    );
    // Below an earlier container mount the host's view doesn't count: taken as is.
    assertEquals(resolveInRootfs(root, "/abs/sub", ["/abs"]), "/real/sub");
    assertEquals(resolveInRootfs(root, "/real/sub/x", ["/real"]), "/real/sub/x");
    assertEquals(resolveInRootfs(root, "/rel/x", ["/"]), "/rel/x");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
