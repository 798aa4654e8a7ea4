/**
 * `runts ps ID [--format table|json] [ps-args...]`, as runc does it: the container's host
 * pids come from its cgroup; json prints them, table runs the host's `ps` (default `-ef`)
 * and keeps its header plus the lines whose PID column is one of them.
 */
import { RuntsError } from "../errors.ts";
import { StateStore } from "../state/store.ts";
import { cgroupOf } from "./status.ts";

/** Host pids of every process in the container's cgroup, sorted. */
export function containerPids(root: string, id: string): number[] {
  const dir = new StateStore(root).open(id);
  let record;
  try {
    record = dir.read();
  } finally {
    dir.unlock();
  }
  const cgroup = cgroupOf(record);
  if (!cgroup) return [];
  return cgroup.processes().sort((a, b) => a - b);
}

/** Index of the `PID` column in a ps header line (runc's getPidIndex). */
export function pidColumn(header: string): number {
  const index = header.trim().split(/\s+/).indexOf("PID");
  if (index === -1) throw new RuntsError("couldn't find PID field in ps output");
  return index;
}

/** The header and the lines of `output` whose PID column is in `pids`. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split("\n");
  const header = lines[0] ?? "";
  const index = pidColumn(header);
  const wanted = new Set(pids);
  const kept = [header];
  for (const line of lines.slice(1)) {
    if (line.trim() === "") continue;
    const field = line.trim().split(/\s+/)[index];
    const pid = field !== undefined && /^\d+$/.test(field) ? Number(field) : NaN;
    if (Number.isNaN(pid)) throw new RuntsError(`unable to parse pid "${field ?? ""}": ${line}`);
    if (wanted.has(pid)) kept.push(line);
  }
  return kept.join("\n") + "\n";
}

/** Runs the host's `ps` with `args`; its combined output, or an error naming why it failed. */
async function hostPs(args: string[]): Promise<string> {
  let out;
  try {
    out = await new Deno.Command("ps", { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    throw new RuntsError(`exec "ps": ${(e as Error).message}`, { cause: e });
  }
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  if (!out.success) {
    const why = (dec.decode(out.stderr) + stdout).trim().split("\n")[0] ?? "";
    throw new RuntsError(`ps ${args.join(" ")}: exit status ${out.code}: ${why}`);
  }
  return stdout;
}

export async function psContainer(
  root: string,
  id: string,
  format: "table" | "json",
  psArgs: string[],
): Promise<string> {
  const pids = containerPids(root, id);
  if (format === "json") return JSON.stringify(pids) + "\n";
  // `runts ps ID -- -o pid,comm`: the separator is ours, not ps's.
  const args = psArgs[0] === "--" ? psArgs.slice(1) : psArgs;
  return filterPsOutput(await hostPs(args.length ? args : ["-ef"]), pids);
}
