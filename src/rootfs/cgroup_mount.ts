/**
 * The `cgroup` mount type, as runc does it. With a cgroup namespace the container
 * mounts its own view (cgroup2, or each v1 hierarchy under a tmpfs); without one it
 * gets bind mounts of its own cgroup directories. Hybrid hosts also get "unified".
 */
import { MOUNT_ATTR, MS } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";
import { ERRNO } from "../linux/errno.ts";
import { type CgroupManager, detectCgroupHost } from "../cgroups/mod.ts";
import type { Mount, Spec } from "../spec/types.ts";
import { bindAttributes } from "./mount_options.ts";
import { basename } from "./paths.ts";

type Emitter = (p: ChildProgram, dest: string, m: Mount, flags: number) => void;

export function cgroupMountEmitter(cgroup: CgroupManager, spec: Spec): Emitter {
  const ns = spec.linux?.namespaces ?? [];
  const cgroupns = ns.some((n) => n.type === "cgroup" && !n.path);
  return (p, dest, _m, flags) => {
    const host = detectCgroupHost();
    const rel = dest.slice(1);
    /**
     * The directory to bind: the container's cgroup, or where it has none (rootless
     * without delegation) the one it runs in, runts' own, as runc does.
     */
    const dirOf = (key: string, mountpoint: string, root: string, own = cgroup.paths[key]) => {
      if (own !== undefined || cgroupns) return own;
      const mine = host.ownCgroups.get(key);
      if (mine === undefined) return undefined;
      const inner = root !== "/" && mine.startsWith(root) ? mine.slice(root.length) : mine;
      return `${mountpoint}${inner === "/" ? "" : inner}`;
    };
    const one = (
      sub: string,
      fstype: "cgroup" | "cgroup2",
      data: string,
      hostDir: string | undefined,
    ) => {
      const target = p.target(sub, `open mountpoint /${sub}`);
      if (cgroupns || hostDir === undefined) {
        p.op(
          "mount",
          [p.s(fstype), target, p.s(fstype), flags, data ? p.s(data) : 0],
          `mount ${fstype} on /${sub}`,
        );
        return;
      }
      p.op(
        "mount",
        [p.s(hostDir), target, 0, MS.BIND | MS.REC, 0],
        `bind-mount ${hostDir} on /${sub}`,
      );
      const attrs = bindAttributes(flags);
      if (attrs.set || attrs.clear) {
        p.setMountAttributes(sub, attrs.set, attrs.clear, true, `set attributes of /${sub}`);
      }
    };
    if (host.mode === "v2") {
      one(rel, "cgroup2", "", cgroup.paths.unified);
      return;
    }
    const target = p.target(rel, `open mountpoint ${dest}`);
    p.op(
      "mount",
      [p.s("tmpfs"), target, p.s("tmpfs"), flags & ~MS.RDONLY, p.s("mode=755")],
      `mount tmpfs on ${dest}`,
    );
    const dir = p.cell();
    for (const h of host.mounts.v1) {
      const name = basename(h.mountpoint);
      p.mkdirAll(`${rel}/${name}`);
      const controllers = h.controllers.filter((c) => !c.startsWith("name="));
      const data = controllers.length
        ? h.controllers.join(",")
        : ["none", ...h.controllers].join(",");
      one(`${rel}/${name}`, "cgroup", data, dirOf(h.controllers[0], h.mountpoint, h.root));
      // Co-mounted controllers ("cpu,cpuacct") get a symlink per controller.
      if (controllers.length > 1) {
        p.openInRoot(rel, dir, `open ${dest}`);
        for (const c of controllers.filter((c) => c !== name)) {
          p.op("symlinkat", [p.s(name), { load: dir }, p.s(c)], `symlink ${dest}/${c}`, {
            ignore: ERRNO.EEXIST,
          });
        }
        p.close(dir, `close ${dest}`);
      }
    }
    if (host.mounts.unified) {
      p.mkdirAll(`${rel}/unified`);
      const u = host.mounts.unified;
      one(`${rel}/unified`, "cgroup2", "", dirOf("", u.mountpoint, u.root, cgroup.paths.unified));
    }
    if (flags & MS.RDONLY) {
      p.setMountAttributes(rel, MOUNT_ATTR.RDONLY, 0, false, `make ${dest} read-only`);
    }
  };
}
