/**
 * Start-up benchmark (`deno task bench`, as root): one hyperfine run comparing
 * `runts run`, `runc run` and `crun run` of a busybox bundle whose process is /bin/true.
 *
 * Uses $RUNTS_BIN if set, else dist/runts when it exists, else scripts/runts. Installs
 * hyperfine/runc/crun with apt-get when missing. A runtime whose trial run fails (e.g. crun
 * on a cgroup v1/hybrid host) is reported and left out. Results: a table on stdout,
 * docs/bench-latest.md, and the table between the bench marks of README.md.
 */

import { readPermissions } from "./permissions.ts";

const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const bundle = `${repoRoot}/.cache/bench-bundle`;
const resultsMd = `${repoRoot}/docs/bench-latest.md`;
const dec = new TextDecoder();

interface Runtime {
  name: string;
  bin: string;
  root: string;
  note: string;
}

interface Result {
  name: string;
  mean: number;
  stddev: number;
  min: number;
  max: number;
}

/** Run a command line given as words (its first word is the program). */
async function sh(
  cmd: string,
  args: string[],
  inherit = false,
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: inherit ? "inherit" : "piped",
    stderr: inherit ? "inherit" : "piped",
  }).output();
  return {
    code: o.code,
    out: inherit ? "" : dec.decode(o.stdout),
    err: inherit ? "" : dec.decode(o.stderr),
  };
}

function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const st = Deno.statSync(`${dir}/${name}`);
      if (st.isFile && ((st.mode ?? 0) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function ensurePackages(): Promise<void> {
  const missing = ["hyperfine", "runc", "crun"].filter((p) => which(p) === undefined);
  if (missing.length === 0) return;
  console.log(`bench: installing ${missing.join(" ")} with apt-get`);
  Deno.env.set("DEBIAN_FRONTEND", "noninteractive");
  const install = ["install", "-y", "-q", "--no-install-recommends", ...missing];
  if ((await sh("apt-get", install, true)).code !== 0) {
    await sh("apt-get", ["update", "-q"], true);
    if ((await sh("apt-get", install, true)).code !== 0) {
      throw new Error(`apt-get install ${missing.join(" ")} failed`);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Busybox bundle running /bin/true without a terminal; ociVersion 1.0.2 for crun 1.8. */
async function makeBundle(runts: string): Promise<void> {
  const mk = await sh(`${repoRoot}/scripts/make-busybox-bundle.sh`, [bundle]);
  if (mk.code !== 0) throw new Error(`make-busybox-bundle.sh: ${mk.err}`);
  await Deno.remove(`${bundle}/config.json`).catch(() => {});
  const spec = await call(runts, ["spec", "--bundle", bundle, "--no-tty"]);
  if (spec.code !== 0) throw new Error(`runts spec: ${spec.err}`);
  const config = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`));
  config.ociVersion = "1.0.2"; // crun 1.8 rejects newer versions ("unknown version specified")
  config.process.terminal = false;
  config.process.args = ["/bin/true"];
  await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(config, null, 2) + "\n");
}

function runArgs(rt: Runtime, id: string): string[] {
  return ["--root", rt.root, "run", "--bundle", bundle, id];
}

/** `bin` may be several words ("deno run ... runts.js"). */
function call(bin: string, args: string[]) {
  const [cmd, ...pre] = bin.split(" ");
  return sh(cmd, [...pre, ...args]);
}

/** One trial run; returns an error text, or undefined when the runtime works here. */
async function trial(rt: Runtime): Promise<string | undefined> {
  const id = `bench-trial-${Deno.pid}`;
  const r = await call(rt.bin, runArgs(rt, id));
  await call(rt.bin, ["--root", rt.root, "delete", "--force", id]);
  if (r.code === 0) return undefined;
  return (r.err.trim() || r.out.trim() || `exit ${r.code}`).split("\n").slice(-3).join("\n");
}

function ms(s: number): string {
  return (s * 1000).toFixed(1);
}

async function hostInfo(): Promise<string> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1];
  const cg = await exists("/sys/fs/cgroup/cgroup.controllers")
    ? "v2"
    : await exists("/sys/fs/cgroup/unified")
    ? "hybrid (v1 + v2)"
    : "v1";
  return `Linux ${Deno.osRelease()}, ${navigator.hardwareConcurrency} CPUs (${cpu ?? "?"}), ` +
    `cgroups ${cg}`;
}

async function versionLine(bin: string): Promise<string> {
  const r = await call(bin, ["--version"]);
  return r.out.split("\n")[0].trim() || `exit ${r.code}`;
}

const markStart = "<!-- bench:start -->";
const markEnd = "<!-- bench:end -->";

/** Replaces the text between the bench markers of README.md; false when absent. */
async function updateReadme(readme: string, table: string, runtsNote: string): Promise<boolean> {
  let text: string;
  try {
    text = await Deno.readTextFile(readme);
  } catch {
    return false;
  }
  const a = text.indexOf(markStart);
  const b = text.indexOf(markEnd);
  if (a < 0 || b < a) return false;
  const day = new Date().toISOString().slice(0, 10);
  const body = `\n\n${table}\n\nMeasured ${day} on ${await hostInfo()}; runts: ${runtsNote}. ` +
    "Details: [docs/bench-latest.md](docs/bench-latest.md).\n\n";
  await Deno.writeTextFile(readme, text.slice(0, a + markStart.length) + body + text.slice(b));
  return true;
}

/** One hyperfine run of `command(rt, id)` for every runtime; the markdown table, or undefined. */
async function measure(
  base: string,
  usable: Runtime[],
  command: (rt: Runtime, id: string) => string,
): Promise<string | undefined> {
  const json = `${base}/hyperfine.json`;
  const args = ["-N", "--warmup", "3", "--runs", "30", "--export-json", json];
  for (const rt of usable) {
    const id = `bench-${rt.name}-${Deno.pid}`;
    const del = [rt.bin, "--root", rt.root, "delete", "--force", id].join(" ");
    args.push("--prepare", `sh -c '${del} >/dev/null 2>&1 || true'`);
  }
  for (const rt of usable) args.push("-n", rt.name, command(rt, `bench-${rt.name}-${Deno.pid}`));
  const hf = await sh("hyperfine", args, true);
  if (hf.code !== 0) {
    console.error(`bench: hyperfine exited ${hf.code}`);
    return undefined;
  }
  const parsed = JSON.parse(await Deno.readTextFile(json)) as {
    results: { command: string; mean: number; stddev: number; min: number; max: number }[];
  };
  const results: Result[] = parsed.results.map((r) => ({
    name: r.command,
    mean: r.mean,
    stddev: r.stddev,
    min: r.min,
    max: r.max,
  }));
  const runtsResult = results.find((r) => r.name === "runts");
  const rows = results.map((r) => {
    const ratio = runtsResult && r.name !== "runts"
      ? `${(runtsResult.mean / r.mean).toFixed(2)}×`
      : "";
    return `| ${r.name} | ${ms(r.mean)} ± ${ms(r.stddev)} | ${ms(r.min)} | ${
      ms(r.max)
    } | ${ratio} |`;
  });
  return [
    "| runtime | mean ± σ (ms) | min (ms) | max (ms) | runts / this |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

async function main(): Promise<number> {
  if (Deno.uid() !== 0) {
    console.error("bench: needs root: sudo deno task bench");
    return 1;
  }
  await ensurePackages();
  const dist = `${repoRoot}/dist/runts`;
  const override = Deno.env.get("RUNTS_BIN");
  // Without a compiled binary: what it would run, the bundle with the same flags
  // (`scripts/runts` minus its bash launcher and staleness check).
  let runtsBin = override ?? dist;
  let runtsNote = override !== undefined ? `${override} (from RUNTS_BIN)` : "dist/runts (compiled)";
  if (override === undefined && !(await exists(dist))) {
    const built = await sh(`${repoRoot}/scripts/bundle.sh`, [], true);
    if (built.code !== 0) return 1;
    const flags = readPermissions().join(" ");
    runtsBin =
      `${Deno.execPath()} run --quiet --no-prompt --no-config ${flags} ${repoRoot}/dist/runts.js`;
    runtsNote = `\`deno run ${flags} dist/runts.js\` (the bundle the binary is compiled from; ` +
      "dist/runts not built here: deno compile needs denort)";
  }
  console.log(`bench: runts = ${runtsNote}`);
  await makeBundle(runtsBin);

  const base = await Deno.makeTempDir({ dir: (await exists("/run")) ? "/run" : undefined });
  const all: Runtime[] = [
    { name: "runts", bin: runtsBin, root: `${base}/runts`, note: runtsNote },
    { name: "runc", bin: which("runc") ?? "runc", root: `${base}/runc`, note: "" },
    { name: "crun", bin: which("crun") ?? "crun", root: `${base}/crun`, note: "" },
  ];
  const usable: Runtime[] = [];
  const excluded: string[] = [];
  for (const rt of all) {
    if (rt.note === "") rt.note = await versionLine(rt.bin);
    const err = await trial(rt);
    if (err === undefined) {
      usable.push(rt);
    } else {
      console.log(`bench: ${rt.name} left out, its trial run failed:\n  ${err}`);
      excluded.push(`${rt.name}: ${err.replaceAll("\n", " ")}`);
    }
  }
  if (usable.length === 0) {
    console.error("bench: no runtime could run the bundle");
    await Deno.remove(base, { recursive: true }).catch(() => {});
    return 1;
  }

  // `run` removes the container when it exits; `--prepare` also force-deletes the id
  // (not timed) so one leftover cannot fail the following runs.
  const runTable = await measure(base, usable, (rt, id) => [rt.bin, ...runArgs(rt, id)].join(" "));
  // The engines' path: create, start, delete (of a container whose process exits at once).
  const lifecycleTable = await measure(base, usable, (rt, id) => {
    const r = `${rt.bin} --root ${rt.root}`;
    return `sh -c '${r} create --bundle ${bundle} ${id} && ${r} start ${id} && ${r} delete --force ${id}'`;
  });
  await Deno.remove(base, { recursive: true }).catch(() => {});
  if (runTable === undefined || lifecycleTable === undefined) return 1;
  const table = [
    "`run` (create, start, wait, delete in one command):",
    "",
    runTable,
    "",
    "`create` + `start` + `delete --force` (three commands, through `sh -c`):",
    "",
    lifecycleTable,
  ].join("\n");
  console.log(`\n${table}\n`);
  const runtsResult = usable.find((rt) => rt.name === "runts");

  const md = [
    "# Latest benchmark",
    "",
    "Written by `scripts/bench.ts` (`sudo deno task bench`): a busybox bundle whose process",
    "is `/bin/true`, `hyperfine -N --warmup 3 --runs 30`, all runtimes in one run.",
    "",
    `- date: ${new Date().toISOString()}`,
    `- host: ${await hostInfo()}`,
    ...usable.map((rt) => `- ${rt.name}: ${rt.note}`),
    ...excluded.map((e) => `- left out: ${e}`),
    "",
    table,
    "",
  ].join("\n");
  if (runtsResult === undefined) {
    console.error(`bench: runts could not run the bundle; ${resultsMd} not written`);
    return 1;
  }
  await Deno.writeTextFile(resultsMd, md);
  const readme = `${repoRoot}/README.md`;
  const updated = await updateReadme(readme, table, runtsNote);
  // Keep `deno fmt --check` clean (it aligns markdown tables).
  await sh(Deno.execPath(), ["fmt", "--quiet", resultsMd, ...(updated ? [readme] : [])]);
  console.log(`bench: wrote ${resultsMd}${updated ? " and the table in README.md" : ""}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
