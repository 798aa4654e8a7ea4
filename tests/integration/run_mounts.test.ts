/**
 * Mounts seen from inside the container (/proc/self/mountinfo): the default mounts,
 * bind mounts and their flags, propagation, symlinked destinations that must stay in
 * the rootfs, created mountpoints, read-only root, readonlyPaths and maskedPaths,
 * --no-pivot and rootfsPropagation.
 */
import { requireRoot, run, tempDir } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { hostMountsUnder, mountAt, outputOf, parseMountinfo, runIn, sh } from "./run_helpers.ts";

// deno-lint-ignore no-explicit-any
type AnySpec = any;

async function sudoMount(...args: string[]): Promise<void> {
  const r = await run("mount", args);
  if (r.code !== 0) throw new Error(`mount ${args.join(" ")}: ${r.stderr}`);
}

async function umount(path: string): Promise<void> {
  await run("umount", ["-R", "-l", path]);
}

Deno.test({
  name: "run: default mounts (proc, /dev tmpfs, devpts, shm, mqueue, sysfs ro, cgroup)",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({ args: ["cat", "/proc/self/mountinfo"] });
    const mounts = parseMountinfo(out);
    assertEquals(mountAt(mounts, "/proc").fstype, "proc");
    const dev = mountAt(mounts, "/dev");
    assertEquals(dev.fstype, "tmpfs");
    assert(dev.options.includes("nosuid"), `/dev options ${dev.options}`);
    assert(dev.superOptions.includes("mode=755"), `/dev super options ${dev.superOptions}`);
    const pts = mountAt(mounts, "/dev/pts");
    assertEquals(pts.fstype, "devpts");
    assert(pts.superOptions.includes("ptmxmode=666"), `devpts ${pts.superOptions}`);
    assert(pts.superOptions.includes("mode=620"), `devpts ${pts.superOptions}`);
    assert(pts.superOptions.includes("gid=5"), `devpts ${pts.superOptions}`);
    assert(pts.options.includes("noexec") && pts.options.includes("nosuid"), `${pts.options}`);
    const shm = mountAt(mounts, "/dev/shm");
    assertEquals(shm.fstype, "tmpfs");
    for (const o of ["nosuid", "nodev", "noexec"]) assert(shm.options.includes(o), `shm ${o}`);
    assertEquals(mountAt(mounts, "/dev/mqueue").fstype, "mqueue");
    const sys = mountAt(mounts, "/sys");
    assertEquals(sys.fstype, "sysfs");
    assert(sys.options.includes("ro"), `/sys must be read-only: ${sys.options}`);
    assert(
      mounts.some((m) => m.mountpoint.startsWith("/sys/fs/cgroup") && /^cgroup2?$/.test(m.fstype)),
      "no cgroup mount under /sys/fs/cgroup",
    );
    // The root is the rootfs, read-only (runc spec: root.readonly true).
    assert(mountAt(mounts, "/").options.includes("ro"), "root not read-only");
  },
});

Deno.test({
  name: "run: bind mounts of files and directories, ro/rw, nosuid/nodev/noexec",
  ...requireRoot(),
  fn: async () => {
    const host = await tempDir("binds");
    await Deno.mkdir(`${host}/rw`);
    await Deno.mkdir(`${host}/ro`);
    await Deno.writeTextFile(`${host}/ro/file`, "read me\n");
    await Deno.writeTextFile(`${host}/single`, "single file\n");
    const out = await outputOf({
      args: sh(
        "cat /proc/self/mountinfo; echo ---; echo written > /mnt/rw/new && echo rw-ok; " +
          "cat /mnt/ro/file; (echo x > /mnt/ro/other) 2>&1; cat /etc/single",
      ),
      edit: (s: AnySpec) => {
        s.mounts.push(
          { destination: "/mnt/rw", type: "bind", source: `${host}/rw`, options: ["rbind", "rw"] },
          {
            destination: "/mnt/ro",
            type: "bind",
            source: `${host}/ro`,
            options: ["bind", "ro", "nosuid", "nodev", "noexec"],
          },
          { destination: "/etc/single", type: "none", source: `${host}/single`, options: ["bind"] },
        );
      },
    });
    const [info, rest] = out.split("---\n");
    const mounts = parseMountinfo(info);
    const rw = mountAt(mounts, "/mnt/rw");
    assert(rw.options.includes("rw"), `rw: ${rw.options}`);
    const ro = mountAt(mounts, "/mnt/ro");
    for (const o of ["ro", "nosuid", "nodev", "noexec"]) {
      assert(ro.options.includes(o), `/mnt/ro lacks ${o}: ${ro.options}`);
    }
    assertEquals(mountAt(mounts, "/etc/single").root.endsWith("/single"), true);
    assertMatch(rest, /^rw-ok\nread me\n.*Read-only file system\nsingle file\n$/s);
    assertEquals(await Deno.readTextFile(`${host}/rw/new`), "written\n");
    // The file mountpoint was created inside the rootfs copy, not elsewhere.
    assertEquals(hostMountsUnder(host), []);
  },
});

Deno.test({
  name: "run: bind does not carry submounts, rbind does",
  ...requireRoot(),
  fn: async () => {
    const host = await tempDir("rbind");
    await Deno.mkdir(`${host}/sub`);
    await sudoMount("-t", "tmpfs", "-o", "size=1m", "tmpfs", `${host}/sub`);
    try {
      await Deno.writeTextFile(`${host}/sub/marker`, "on tmpfs\n");
      const out = await outputOf({
        args: sh("cat /b/sub/marker 2>/dev/null || echo none; cat /rb/sub/marker"),
        edit: (s: AnySpec) => {
          s.mounts.push(
            { destination: "/b", type: "bind", source: host, options: ["bind"] },
            { destination: "/rb", type: "bind", source: host, options: ["rbind"] },
          );
        },
      });
      assertEquals(out, "none\non tmpfs\n");
    } finally {
      await umount(`${host}/sub`);
    }
  },
});

Deno.test({
  name: "run: per-mount propagation options (rshared, rslave, rprivate)",
  ...requireRoot(),
  fn: async () => {
    const host = await tempDir("prop");
    await sudoMount("--bind", host, host);
    await sudoMount("--make-shared", host);
    try {
      const out = await outputOf({
        args: ["cat", "/proc/self/mountinfo"],
        edit: (s: AnySpec) => {
          s.mounts.push(
            { destination: "/shared", type: "bind", source: host, options: ["rbind", "rshared"] },
            { destination: "/slave", type: "bind", source: host, options: ["rbind", "rslave"] },
            {
              destination: "/private",
              type: "bind",
              source: host,
              options: ["rbind", "rprivate"],
            },
          );
        },
      });
      const mounts = parseMountinfo(out);
      const shared = mountAt(mounts, "/shared").optional;
      assert(shared.some((o) => o.startsWith("shared:")), `/shared: ${shared}`);
      const slave = mountAt(mounts, "/slave").optional;
      assert(slave.some((o) => o.startsWith("master:")), `/slave: ${slave}`);
      assert(!slave.some((o) => o.startsWith("shared:")), `/slave: ${slave}`);
      assertEquals(mountAt(mounts, "/private").optional, [], "/private");
    } finally {
      await umount(host);
    }
  },
});

Deno.test({
  name: "run: a symlinked mount destination pointing outside lands inside the rootfs",
  ...requireRoot(),
  fn: async () => {
    const hostDir = await tempDir("evil-target");
    await Deno.writeTextFile(`${hostDir}/marker`, "host\n");
    const out = await outputOf({
      args: sh(
        `grep -c ' ${hostDir} ' /proc/self/mountinfo; grep -c ' ${hostDir}/sub ' ` +
          `/proc/self/mountinfo; echo inside > /evil/f; ls ${hostDir}; ls /evil; ls /evil2`,
      ),
      prepare: async (rootfs) => {
        // Absolute and relative links that point out of the rootfs when followed on the host.
        await Deno.symlink(hostDir, `${rootfs}/evil`);
        await Deno.symlink(`../../../../../../../../..${hostDir}`, `${rootfs}/evil2`);
      },
      edit: (s: AnySpec) => {
        s.root.readonly = false;
        s.mounts.push(
          { destination: "/evil", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
          { destination: "/evil2/sub", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
        );
      },
    });
    // /evil → <hostDir> resolved in the rootfs: the tmpfs is at <hostDir> inside, and
    // /evil2/sub at <hostDir>/sub (created in the container's tmpfs at <hostDir>).
    assertEquals(out, "1\n1\nf\nsub\nf\nsub\nf\nsub\n");
    // The host directory is untouched: no mount, no new file.
    assertEquals(hostMountsUnder(hostDir), []);
    assertEquals([...Deno.readDirSync(hostDir)].map((e) => e.name), ["marker"]);
  },
});

Deno.test({
  name: "run: missing mountpoints are created (nested, and inside a tmpfs)",
  ...requireRoot(),
  fn: async () => {
    const host = await tempDir("mp");
    await Deno.writeTextFile(`${host}/file`, "file content\n");
    let rootfs = "";
    const r = await runIn({
      args: sh(
        "awk '{print $5}' /proc/self/mountinfo | grep -E '^/(a|scratch)'; " +
          "cat /scratch/x/y/file; ls -d /a/b/c",
      ),
      keepBundle: true,
      prepare: (dir) => {
        rootfs = dir;
      },
      edit: (s: AnySpec) => {
        s.mounts.push(
          { destination: "/a/b/c", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
          { destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
          { destination: "/scratch/x/y/file", type: "bind", source: `${host}/file` },
        );
      },
    });
    try {
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout, "/a/b/c\n/scratch\n/scratch/x/y/file\nfile content\n/a/b/c\n");
      // /scratch/x/y was made inside the container's tmpfs, not in the rootfs on disk.
      let leaked = true;
      try {
        await Deno.lstat(`${rootfs}/scratch/x`);
      } catch {
        leaked = false;
      }
      assert(!leaked, "mountpoint below a tmpfs was created in the rootfs on disk");
      assert((await Deno.lstat(`${rootfs}/a/b/c`)).isDirectory, "/a/b/c not made in the rootfs");
    } finally {
      await r.bundle.cleanup();
    }
  },
});

Deno.test({
  name: "run: read-only root refuses writes; root.readonly false allows them",
  ...requireRoot(),
  fn: async () => {
    const ro = await runIn({ args: sh("touch /x") });
    assert(ro.code !== 0, "touch / succeeded on a read-only root");
    assertMatch(ro.stderr, /Read-only file system/);
    let rootfs = "";
    const rw = await runIn({
      args: sh("touch /x && echo ok"),
      edit: (s: AnySpec) => (s.root.readonly = false),
      keepBundle: true,
      prepare: (dir) => {
        rootfs = dir;
      },
    });
    try {
      assertEquals(rw.code, 0, rw.stderr);
      assertEquals(rw.stdout, "ok\n");
      assert((await Deno.lstat(`${rootfs}/x`)).isFile, "file not written to the rootfs");
    } finally {
      await rw.bundle.cleanup();
    }
  },
});

Deno.test({
  name: "run: readonlyPaths are read-only, other paths stay writable",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh(
        "(touch /data/f) 2>&1; touch /other/f && echo other-ok; " +
          "(echo 1 > /proc/sys/kernel/domainname) 2>&1; grep -E ' /(data|proc/sys) ' " +
          "/proc/self/mountinfo | awk '{print $5, $6}'",
      ),
      prepare: async (rootfs) => {
        await Deno.mkdir(`${rootfs}/data`);
        await Deno.mkdir(`${rootfs}/other`);
      },
      edit: (s: AnySpec) => {
        s.root.readonly = false;
        s.linux.readonlyPaths.push("/data", "/does/not/exist");
      },
    });
    const lines = out.split("\n");
    assertMatch(lines[0], /Read-only file system/);
    assertEquals(lines[1], "other-ok");
    assertMatch(lines[2], /Read-only file system/);
    assertMatch(out, /^\/proc\/sys ro,/m);
    assertMatch(out, /^\/data ro,/m);
  },
});

Deno.test({
  name: "run: maskedPaths: files read empty, directories are empty",
  ...requireRoot(),
  fn: async () => {
    const out = await outputOf({
      args: sh(
        'echo "[$(cat /etc/secret)]"; echo "[$(ls -A /secretdir)]"; ' +
          'echo "[$(cat /proc/keys 2>/dev/null)]"; (touch /secretdir/x) 2>&1; ' +
          'echo "[$(cat /proc/kcore 2>/dev/null | head -c 10)]"',
      ),
      prepare: async (rootfs) => {
        await Deno.writeTextFile(`${rootfs}/etc/secret`, "top secret\n");
        await Deno.mkdir(`${rootfs}/secretdir`);
        await Deno.writeTextFile(`${rootfs}/secretdir/key`, "hidden\n");
      },
      edit: (s: AnySpec) => {
        s.root.readonly = false;
        s.linux.maskedPaths.push("/etc/secret", "/secretdir", "/no/such/path");
      },
    });
    const lines = out.split("\n");
    assertEquals(lines[0], "[]");
    assertEquals(lines[1], "[]");
    assertEquals(lines[2], "[]");
    assertMatch(lines[3], /Read-only file system/);
    assertEquals(lines[4], "[]");
  },
});

Deno.test({
  name: "run: --no-pivot runs the container in its rootfs",
  ...requireRoot(),
  fn: async () => {
    const r = await runIn({
      args: sh("ls /; cat /proc/self/mountinfo | awk '$5 == \"/\" {print $4}'"),
      flags: ["--no-pivot"],
    });
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert(lines.includes("bin") && lines.includes("etc"), r.stdout);
    assert(!lines.includes("work"), "host / visible");
    // The root mount is the bundle's rootfs.
    assert(lines[lines.length - 1].endsWith(`${r.bundle.dir}/rootfs`), r.stdout);
  },
});

Deno.test({
  name: "run: rootfsPropagation (rootfs below a shared host mount)",
  ...requireRoot(),
  fn: async () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /^master:\d+$/], // runc's default: rslave
      ["slave", /^$/], // "/" only: the rootfs' shared parent is made private
      ["private", /^$/],
      ["shared", /^shared:\d+$/],
      ["unbindable", /^unbindable$/],
    ];
    for (const [value, expected] of cases) {
      const r = await runIn({
        args: sh("awk '$5 == \"/\"' /proc/self/mountinfo"),
        keepBundle: true,
        prepare: async (rootfs) => {
          await sudoMount("--bind", rootfs, rootfs);
          await sudoMount("--make-shared", rootfs);
        },
        edit: (s: AnySpec) => {
          if (value) s.linux.rootfsPropagation = value;
        },
        ignoreBundleMounts: true,
      });
      try {
        assertEquals(r.code, 0, r.stderr);
        const root = parseMountinfo(r.stdout);
        assertEquals(root.length, 1, r.stdout);
        assertMatch(root[0].optional.join(" "), expected, `rootfsPropagation ${value}`);
        // The host's rootfs mount is still shared and nothing else was left.
        const host = parseMountinfo(hostMountsUnder(r.bundle.dir).join("\n"));
        assertEquals(host.length, 1, hostMountsUnder(r.bundle.dir).join("\n"));
        assertMatch(host[0].optional.join(" "), /^shared:\d+$/);
      } finally {
        await umount(`${r.bundle.dir}/rootfs`);
        await r.bundle.cleanup();
      }
    }
  },
});
