/**
 * Helpers for integration tests: run the runts CLI (scripts/runts, or $RUNTS_BIN such as
 * dist/runts), build busybox bundles under tests/.work/, unique ids, root/command checks.
 *
 *   Deno.test({ name: "runs true", ...requireRoot(), fn: async () => {
 *     const b = await makeBundle({ args: ["/bin/true"] });
 *     try {
 *       const r = await runts(["run", "--bundle", b.dir, uniqueId("true")]);
 *       assertEquals(r.code, 0, r.stderr);
 *     } finally {
 *       await b.cleanup();
 *     }
 *   }});
 */

/** Absolute path of the repository checkout (no trailing slash). */
export const repoRoot: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The runts executable under test: $RUNTS_BIN if set, else the scripts/runts launcher. */
export const runtsPath: string = Deno.env.get("RUNTS_BIN") ?? `${repoRoot}/scripts/runts`;

/** Scratch space of the tests (git-ignored). */
export const workDir = `${repoRoot}/tests/.work`;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** State root passed as `--root`; default: a temp root shared by this test process. */
  root?: string;
  /** Written to the child's stdin, then closed; when absent stdin is /dev/null. */
  stdin?: string;
  cwd?: string;
  /** Added to (not replacing) the inherited environment. */
  env?: Record<string, string>;
  /** Kill the child (SIGKILL) after this long and fail; default 60 s. */
  timeoutMs?: number;
}

let counter = 0;

/** An id unique in this machine's test runs: `<prefix>-<pid><counter><random>`. */
export function uniqueId(prefix = "t"): string {
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36).slice(0, 4);
  return `${prefix}-${Deno.pid.toString(36)}${(counter++).toString(36)}${rand}`;
}

/** True when running as uid 0. */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Spread into a test definition to skip it when not root: `{ name, ...requireRoot(), fn }`. */
export function requireRoot(): { ignore: boolean } {
  return { ignore: !isRoot() };
}

/** True when `name` is an executable file in a $PATH directory (no subprocess). */
export function hasCommand(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const st = Deno.statSync(`${dir}/${name}`);
      if (st.isFile && st.mode !== null && (st.mode & 0o111) !== 0) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

const tempDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of tempDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone, or busy (a container still running): leave it
    }
  }
});

/** A fresh directory under tests/.work/, removed when the test process exits. */
export async function tempDir(prefix: string): Promise<string> {
  await Deno.mkdir(workDir, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: workDir, prefix: `${prefix}-` });
  tempDirs.push(dir);
  return dir;
}

let defaultRoot: Promise<string> | undefined;

/** A state root for `--root`; each call gives a new one. */
export function tempRoot(): Promise<string> {
  return tempDir("root");
}

/** Runs any command, capturing output; stdin is /dev/null unless `opts.stdin` is given. */
export async function run(
  cmd: string,
  args: string[],
  opts: Omit<RunOptions, "root"> = {},
): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    } catch {
      // the child exited without reading its stdin
    }
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    const result = {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
    if (timedOut) {
      throw new Error(
        `${cmd} ${args.join(" ")}: killed after ${timeoutMs} ms\nstdout: ${result.stdout}\n` +
          `stderr: ${result.stderr}`,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs runts with `--root <root>` first (default: one temp root per test process). */
export async function runts(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  let root = opts.root;
  if (root === undefined) {
    defaultRoot ??= tempRoot();
    root = await defaultRoot;
  }
  return await run(runtsPath, ["--root", root, ...args], opts);
}

/** Like `runts` but throws (with stderr) unless the exit code is 0. */
export async function runtsOk(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runts(args, opts);
  if (r.code !== 0) {
    throw new Error(`runts ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  }
  return r;
}

let template: Promise<string> | undefined;

/** Builds (once per test process) the busybox rootfs that bundles copy. */
function busyboxTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await tempDir("busybox");
    const r = await run(`${repoRoot}/scripts/make-busybox-bundle.sh`, [dir], {
      timeoutMs: 300_000,
    });
    if (r.code !== 0) throw new Error(`make-busybox-bundle.sh failed:\n${r.stderr}`);
    return `${dir}/rootfs`;
  })();
  return template;
}

export interface Bundle {
  /** The bundle directory (contains config.json and rootfs/). */
  dir: string;
  /** Path of config.json. */
  config: string;
  cleanup(): Promise<void>;
}

export interface BundleOptions {
  /** process.args of the container. */
  args?: string[];
  /** Changes the config (as written by `runts spec --no-tty`) before it is saved. */
  // deno-lint-ignore no-explicit-any
  edit?: (spec: any) => void;
}

/**
 * A busybox bundle under tests/.work/: rootfs copied from a per-process template, and
 * config.json from `runts spec --bundle DIR --no-tty`, then `args` and `edit` applied.
 */
export async function makeBundle(opts: BundleOptions = {}): Promise<Bundle> {
  const rootfs = await busyboxTemplate();
  const dir = await tempDir("bundle");
  const cp = await run("cp", ["-a", rootfs, `${dir}/rootfs`]);
  if (cp.code !== 0) throw new Error(`cp -a ${rootfs}: ${cp.stderr}`);
  await runtsOk(["spec", "--bundle", dir, "--no-tty"]);
  const config = `${dir}/config.json`;
  const spec = JSON.parse(await Deno.readTextFile(config));
  if (opts.args !== undefined) spec.process.args = opts.args;
  opts.edit?.(spec);
  await Deno.writeTextFile(config, JSON.stringify(spec, null, 2) + "\n");
  return {
    dir,
    config,
    cleanup: async () => {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
