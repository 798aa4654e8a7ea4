/**
 * Builds the standalone binary `dist/runts` with `deno compile` (`deno task compile`).
 *
 * Same permissions as scripts/runts (scripts/permissions.txt), host target. `deno compile`
 * needs the `denort` runtime: it downloads it unless DENORT_BIN names a local copy
 * (passed through from the environment). On failure nothing is written to dist/runts.
 */
import { readPermissions } from "./permissions.ts";

const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const output = `${repoRoot}/dist/runts`;

/** Runtime-read files to embed; the schema is imported as a JSON module, so none today. */
const includes: string[] = [];

/** The binary is compiled from the same bundle scripts/runts runs (dist/runts.js). */
function compileArgs(): string[] {
  const args = ["compile", "--no-config", ...readPermissions()];
  for (const path of includes) args.push("--include", path);
  args.push("--output", output, `${repoRoot}/dist/runts.js`);
  return args;
}

async function bundle(): Promise<boolean> {
  const out = await new Deno.Command(`${repoRoot}/scripts/bundle.sh`, {
    env: { DENO: Deno.execPath() },
    stdin: "null",
  }).output();
  return out.success;
}

/** `cmd ...args --version` stdout (trimmed), or `exit N: stderr` on failure. */
async function versionOf(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args: [...args, "--version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) return `exit ${out.code}: ${dec.decode(out.stderr).trim()}`;
  return dec.decode(out.stdout).trim();
}

async function main(): Promise<number> {
  await Deno.mkdir(`${repoRoot}/dist`, { recursive: true });
  if (!(await bundle())) {
    console.error("compile: scripts/bundle.sh failed");
    return 1;
  }
  const denort = Deno.env.get("DENORT_BIN");
  console.error(`compile: ${denort ? `DENORT_BIN=${denort}` : "denort will be downloaded"}`);
  const args = compileArgs();
  console.error(`compile: deno ${args.join(" ")}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: repoRoot,
    env: { DENO_DIR: Deno.env.get("DENO_DIR") ?? `${repoRoot}/.cache/deno` },
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  await Deno.stderr.write(out.stderr);
  if (out.code !== 0) {
    if (/denort|Setting up base binary|release\/v[0-9]/.test(stderr)) {
      console.error(
        "compile: deno compile needs denort: set DENORT_BIN to a local denort binary " +
          "or allow access to dl.deno.land",
      );
    } else {
      console.error(`compile: deno compile failed (exit ${out.code})`);
    }
    return 1;
  }
  // The binary must answer like the sources (a `deno` given as DENORT_BIN would make a
  // binary that starts a REPL instead): compare `--version` of both.
  const [got, want] = await Promise.all([
    versionOf(output, []),
    versionOf(Deno.execPath(), ["run", ...readPermissions(), `${repoRoot}/main.ts`]),
  ]);
  if (got !== want) {
    await Deno.remove(output).catch(() => {});
    console.error(
      `compile: ${output} --version printed ${JSON.stringify(got)}, ` +
        `main.ts prints ${JSON.stringify(want)}; removed it (is DENORT_BIN a denort binary?)`,
    );
    return 1;
  }
  const version = got.split("\n")[0];
  const size = (await Deno.stat(output)).size / 1e6;
  console.log(`compile: ${output} (${size.toFixed(1)} MB): ${version}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
