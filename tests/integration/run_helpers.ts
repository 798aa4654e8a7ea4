/**
 * Shared pieces of the `runts run` integration tests (tests/integration/run_*.test.ts,
 * tty_*.test.ts, walkthrough.test.ts): one container per call with its own --root and
 * id, and checks that nothing of a container is left on the host afterwards.
 */
import {
  type Bundle,
  type BundleOptions,
  makeBundle,
  run,
  type RunResult,
  runts,
  runtsPath,
  tempRoot,
  uniqueId,
} from "../helpers.ts";
import { assert, assertEquals } from "../unit/assert.ts";

export interface ContainerRun extends RunResult {
  id: string;
  root: string;
  bundle: Bundle;
}

export interface RunInOptions extends BundleOptions {
  /** Extra `runts run` flags (before the id). */
  flags?: string[];
  /** Written to runts' stdin. */
  stdin?: string;
  /** Keep the bundle (the caller cleans it up); default: removed after the run. */
  keepBundle?: boolean;
  /** Id prefix (the id is made unique). */
  prefix?: string;
  /** Changes the bundle's rootfs (its host path) before the run. */
  prepare?: (rootfs: string) => Promise<void> | void;
  /** The test mounts in the bundle itself: skip the "no host mounts" check. */
  ignoreBundleMounts?: boolean;
}

/** Runs one container to completion in a fresh bundle and --root; checks it left nothing. */
export async function runIn(opts: RunInOptions): Promise<ContainerRun> {
  const bundle = await makeBundle(opts);
  const root = await tempRoot();
  const id = uniqueId(opts.prefix ?? "run");
  try {
    await opts.prepare?.(`${bundle.dir}/rootfs`);
    const r = await runts(["run", "--bundle", bundle.dir, ...(opts.flags ?? []), id], {
      root,
      stdin: opts.stdin,
    });
    await assertNothingLeft(root, id, opts.ignoreBundleMounts ? undefined : bundle.dir);
    return { ...r, id, root, bundle };
  } finally {
    if (!opts.keepBundle) await bundle.cleanup();
  }
}

/** Like runIn, but the container must exit 0; returns its stdout. */
export async function outputOf(opts: RunInOptions): Promise<string> {
  const r = await runIn(opts);
  assertEquals(r.code, 0, `runts run exit status (stderr: ${r.stderr})`);
  return r.stdout;
}

/** `sh -c script` as process.args. */
export function sh(script: string): string[] {
  return ["sh", "-c", script];
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Cgroup directories of container `id` under runts' default parent, on any hierarchy. */
export function cgroupDirsOf(id: string): string[] {
  const found: string[] = [];
  const candidates = ["/sys/fs/cgroup/runts/" + id];
  try {
    for (const e of Deno.readDirSync("/sys/fs/cgroup")) {
      if (e.isDirectory) candidates.push(`/sys/fs/cgroup/${e.name}/runts/${id}`);
    }
  } catch { /* no cgroup fs */ }
  for (const c of candidates) if (exists(c)) found.push(c);
  return found;
}

/** Lines of the host's mountinfo that mention `path`. */
export function hostMountsUnder(path: string): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((l) => l.includes(path));
}

/** No state dir, no cgroup dirs, no host mounts of the bundle. */
export async function assertNothingLeft(root: string, id: string, bundleDir?: string) {
  // The init may be reaped a moment after runts exits; cgroup removal is synchronous in
  // runts, so there is nothing to wait for: check once.
  await Promise.resolve();
  assert(!exists(`${root}/${id}`), `state dir ${root}/${id} left behind`);
  assertEquals(cgroupDirsOf(id), [], "cgroup dirs left behind");
  if (bundleDir) {
    assertEquals(hostMountsUnder(bundleDir), [], "host mounts of the bundle left behind");
  }
}

/** Parsed /proc/self/mountinfo line. */
export interface MountInfo {
  root: string;
  mountpoint: string;
  options: string[];
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): MountInfo[] {
  const unescape = (s: string) =>
    s.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const [pre, post] = line.split(" - ");
    const f = pre.split(" ");
    const g = (post ?? "").split(" ");
    out.push({
      root: unescape(f[3]),
      mountpoint: unescape(f[4]),
      options: f[5].split(","),
      optional: f.slice(6),
      fstype: g[0],
      source: g[1],
      superOptions: (g[2] ?? "").split(","),
    });
  }
  return out;
}

/** The last (topmost) mount at `mountpoint`, failing when there is none. */
export function mountAt(mounts: MountInfo[], mountpoint: string): MountInfo {
  const m = mounts.findLast((x) => x.mountpoint === mountpoint);
  assert(m, `no mount at ${mountpoint} in:\n${mounts.map((x) => x.mountpoint).join("\n")}`);
  return m;
}

/** Kills a detached container's init by pid and removes what runts would have removed. */
export async function forceCleanup(root: string, id: string, pid?: number): Promise<void> {
  if (pid === undefined) {
    try {
      pid = JSON.parse(await Deno.readTextFile(`${root}/${id}/state.json`)).pid;
    } catch { /* no state */ }
  }
  if (pid && pid > 0) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  await removeCgroupDirs(id);
  await Deno.remove(`${root}/${id}`, { recursive: true }).catch(() => {});
}

/** Remove the container's cgroup dirs, waiting (bounded) for each to empty. */
export async function removeCgroupDirs(id: string): Promise<void> {
  for (const dir of cgroupDirsOf(id)) {
    for (let i = 0; i < 100; i++) {
      try {
        Deno.removeSync(dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

export interface Detached {
  id: string;
  root: string;
  bundle: Bundle;
  /** Host pid of the container init (from --pid-file). */
  pid: number;
  pidFile: string;
  /** Kills the init, removes state and cgroups (there is no `runts delete` yet), the bundle. */
  cleanup(): Promise<void>;
}

/**
 * `runts run -d --pid-file` of a long-running container. runts' stdio goes to files (the
 * detached container keeps them open: pipes would never reach EOF).
 */
export async function runDetached(opts: RunInOptions): Promise<Detached> {
  const bundle = await makeBundle(opts);
  const root = await tempRoot();
  const id = uniqueId(opts.prefix ?? "det");
  const pidFile = `${bundle.dir}/init.pid`;
  let pid = 0;
  const cleanup = async () => {
    await forceCleanup(root, id, pid || undefined);
    await bundle.cleanup();
  };
  try {
    await opts.prepare?.(`${bundle.dir}/rootfs`);
    const out = `${bundle.dir}/runts.out`;
    const r = await run("sh", [
      "-c",
      'out="$1"; shift; exec "$@" >"$out" 2>&1 </dev/null',
      "sh",
      out,
      runtsPath,
      "--root",
      root,
      "run",
      "-d",
      "--pid-file",
      pidFile,
      "--bundle",
      bundle.dir,
      ...(opts.flags ?? []),
      id,
    ]);
    const output = await Deno.readTextFile(out).catch(() => "");
    if (r.code !== 0) throw new Error(`runts run -d ${id}: exit ${r.code}\n${output}`);
    pid = parseInt(await Deno.readTextFile(pidFile), 10);
    return { id, root, bundle, pid, pidFile, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export interface TtySession {
  /** Everything the terminal showed (with the pty's "\r"s). */
  output: string;
  /** Exit status of `script` (0 unless the session broke). */
  code: number;
  /** `stty -g` of the terminal before and after runts. */
  before: string;
  after: string;
  /** runts' exit status, as the shell around it saw it. */
  runtsCode: string;
}

export interface TtyOptions {
  /** Working directory of runts; the stty snapshots are written there too. */
  dir: string;
  /** Arguments of runts. */
  runtsArgs: string[];
  /** Typed once `prompt` appeared. */
  input: string;
  prompt?: string;
}

/**
 * Runs runts in util-linux `script`'s pty (sized 33 rows × 101 columns with stty),
 * waits for the prompt, types `input`, and collects the output until the session ends.
 */
export async function ttySession(o: TtyOptions): Promise<TtySession> {
  const prompt = o.prompt ?? "/ # ";
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const cmd = `cd ${q(o.dir)}; stty rows 33 cols 101; stty -g > .stty-before; ` +
    `${[runtsPath, ...o.runtsArgs].map(q).join(" ")}; ` +
    `echo "runts-rc=$?"; stty -g > .stty-after`;
  const child = new Deno.Command("script", {
    args: ["-qfec", cmd, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 60_000);
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let output = "";
  let typed = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      output += dec.decode(value, { stream: true });
      if (!typed && output.includes(prompt)) {
        typed = true;
        await writer.write(new TextEncoder().encode(o.input));
      }
    }
    const status = await child.status;
    await writer.close().catch(() => {});
    const read = (f: string) => Deno.readTextFile(`${o.dir}/${f}`).then((t) => t.trim(), () => "");
    return {
      output,
      code: status.code,
      before: await read(".stty-before"),
      after: await read(".stty-after"),
      runtsCode: output.match(/runts-rc=(\d+)/)?.[1] ?? "none",
    };
  } finally {
    clearTimeout(timer);
    await child.stderr.cancel().catch(() => {});
  }
}
