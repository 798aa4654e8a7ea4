/**
 * Shared pieces of the lifecycle tests (tests/integration/lifecycle_*.test.ts and
 * cli_*.test.ts): a bundle with a bind-mounted host directory, runts invocations whose
 * stdio goes to files (a created container keeps runts' stdio open, so pipes would
 * never reach EOF), polling, and host-side checks that nothing of a container is left.
 */
import {
  type Bundle,
  type BundleOptions,
  makeBundle,
  type RunResult,
  runts,
  runtsPath,
  tempDir,
  tempRoot,
} from "../helpers.ts";
import { assert, assertEquals } from "../unit/assert.ts";
import { cgroupDirsOf, hostMountsUnder, removeCgroupDirs } from "./run_helpers.ts";

export interface Setup {
  root: string;
  bundle: Bundle;
  /** Host directory bind-mounted read-write at /shared in the container. */
  shared: string;
  /** Ids created by the test: removed by cleanup(). */
  ids: Set<string>;
  /** runts with this setup's --root; stdio captured through files. */
  rt(args: string[], opts?: { timeoutMs?: number }): Promise<RunResult & { pid: number }>;
  cleanup(): Promise<void>;
}

/** A fresh --root and busybox bundle; `/shared` in the container is `shared` on the host. */
export async function setup(opts: BundleOptions = {}): Promise<Setup> {
  const shared = await tempDir("shared");
  const bundle = await makeBundle({
    ...opts,
    edit: (spec) => {
      spec.mounts.push({
        destination: "/shared",
        type: "bind",
        source: shared,
        options: ["rbind", "rw"],
      });
      opts.edit?.(spec);
    },
  });
  await Deno.mkdir(`${bundle.dir}/rootfs/shared`, { recursive: true });
  const root = await tempRoot();
  const ids = new Set<string>();
  let n = 0;
  return {
    root,
    bundle,
    shared,
    ids,
    rt: (args, o = {}) => runtsFiles(root, args, `${bundle.dir}/.out-${n++}`, o.timeoutMs),
    cleanup: async () => {
      for (const id of ids) await removeContainer(root, id);
      await bundle.cleanup();
      await Deno.remove(shared, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * runts with `--root root`, stdin /dev/null, stdout and stderr to files (read back);
 * `pid` is the pid runts had (sh and scripts/runts both exec).
 */
export async function runtsFiles(
  root: string,
  args: string[],
  prefix: string,
  timeoutMs = 60_000,
): Promise<RunResult & { pid: number }> {
  const out = `${prefix}.stdout`;
  const err = `${prefix}.stderr`;
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'out="$1"; err="$2"; shift 2; exec "$@" >"$out" 2>"$err" </dev/null',
      "sh",
      out,
      err,
      runtsPath,
      "--root",
      root,
      ...args,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  try {
    const status = await child.status;
    const read = (f: string) => Deno.readTextFile(f).catch(() => "");
    const r = { code: status.code, stdout: await read(out), stderr: await read(err) };
    await Deno.remove(out).catch(() => {});
    await Deno.remove(err).catch(() => {});
    return { ...r, pid: child.pid };
  } finally {
    clearTimeout(timer);
  }
}

/** The last non-empty line of `text`. */
export function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

/** Fails unless `r` failed with exit 1 and its last stderr line matches `re`. */
export function assertFails(r: RunResult, re: RegExp, what: string): void {
  assertEquals(r.code, 1, `${what}: exit code (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  assert(
    re.test(lastLine(r.stderr)),
    `${what}: last stderr line ${JSON.stringify(lastLine(r.stderr))} does not match ${re}`,
  );
}

/** Fails unless `r` exited 0. */
export function assertOk(r: RunResult, what: string): void {
  assertEquals(r.code, 0, `${what}: exit code (stdout: ${r.stdout}, stderr: ${r.stderr})`);
}

/** `runts state ID` parsed; throws with stderr when it fails. */
export async function stateOf(root: string, id: string): Promise<Record<string, unknown>> {
  const r = await runts(["state", id], { root });
  assertOk(r, `runts state ${id}`);
  return JSON.parse(r.stdout);
}

/** Polls `cond` (every 50 ms, up to `timeoutMs`); fails naming `what` when it never holds. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `runts state ID` says `status`; returns that state. */
export async function waitStatus(
  root: string,
  id: string,
  status: string,
): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await waitUntil(async () => {
    last = await stateOf(root, id);
    return last.status === status;
  }, `container ${id} is ${status} (last: ${JSON.stringify(last)})`);
  return last;
}

/** Whether `pid` is a live (non-zombie) process. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Command line of `pid` (NULs as spaces), or undefined when it is gone. */
export function cmdlineOf(pid: number): string | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
  } catch {
    return undefined;
  }
}

/**
 * Live host processes that belong to container `id`: in one of its cgroups, or with a
 * root directory or command line inside `bundleDir`.
 */
export function processesOf(id: string, bundleDir?: string): number[] {
  const found: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === Deno.pid || !pidAlive(pid)) continue;
    let hit = false;
    try {
      hit = Deno.readTextFileSync(`/proc/${pid}/cgroup`).split("\n")
        .some((l) => l.endsWith(`/runts/${id}`) || l.includes(`/runts/${id}/`));
    } catch { /* gone */ }
    if (!hit && bundleDir) {
      try {
        hit = Deno.readLinkSync(`/proc/${pid}/root`).startsWith(bundleDir);
      } catch { /* gone, or a kernel thread */ }
    }
    if (hit) found.push(pid);
  }
  return found;
}

/** Host processes whose command line mentions `text` (e.g. a test's --root). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === Deno.pid || !pidAlive(pid)) continue;
    if (cmdlineOf(pid)?.includes(text)) found.push(pid);
  }
  return found;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Nothing of container `id` is left: no state dir, no cgroup dir, no host mount of the
 * bundle and (after a bounded wait: a killed process takes a moment to go) no process.
 */
export async function assertGone(root: string, id: string, bundleDir: string): Promise<void> {
  assert(!exists(`${root}/${id}`), `state dir ${root}/${id} left behind`);
  assertEquals(cgroupDirsOf(id), [], "cgroup dirs left behind");
  assertEquals(hostMountsUnder(bundleDir), [], "host mounts of the bundle left behind");
  try {
    await waitUntil(
      () => processesOf(id, bundleDir).length === 0,
      "its processes are gone",
      10_000,
    );
  } catch {
    const left = processesOf(id, bundleDir).map((p) => `${p}: ${cmdlineOf(p)}`);
    throw new Error(`processes of ${id} left behind:\n${left.join("\n")}`);
  }
}

/** Best-effort removal of a container: `runts delete --force`, then by hand. */
export async function removeContainer(root: string, id: string): Promise<void> {
  await runts(["delete", "--force", id], { root }).catch(() => {});
  for (const pid of processesOf(id)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  await removeCgroupDirs(id);
  await Deno.remove(`${root}/${id}`, { recursive: true }).catch(() => {});
}
