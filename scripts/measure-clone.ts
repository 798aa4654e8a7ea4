/**
 * Measures what docs/design.md compares: how long until a clone()d child runs its
 * first syscall, sharing runts' memory (CLONE_VM, what runts does) or copying it
 * (plain fork semantics), and the Deno process' own size, which the copy is of.
 *   deno run -A scripts/measure-clone.ts [runs]
 */
import { Program } from "../src/linux/program.ts";
import { spawnProgram } from "../src/linux/spawn.ts";
import { close, recvWithFds, socketpair, waitpid } from "../src/linux/syscalls.ts";
import { SOCK_SEQPACKET } from "../src/linux/constants.ts";

const runs = Number(Deno.args[0] ?? 200);

function once(shareMemory: boolean): number {
  const [parent, child] = socketpair(SOCK_SEQPACKET);
  const p = new Program();
  p.op("write", [child, p.u64s([1, 2]), 16], "hello");
  p.op("exit_group", [0], "exit");
  const t0 = performance.now();
  const s = spawnProgram(p, child, 0, shareMemory);
  recvWithFds(parent, 16);
  const dt = performance.now() - t0;
  waitpid(s.pid);
  s.release();
  close(parent);
  close(child);
  return dt;
}

function stats(xs: number[]): string {
  xs.sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `mean ${mean.toFixed(3)} ms, median ${xs[xs.length >> 1].toFixed(3)} ms, p90 ${
    xs[Math.floor(xs.length * 0.9)].toFixed(3)
  } ms`;
}

const rss = Deno.readTextFileSync("/proc/self/status").match(/VmRSS:\s+(\d+)/)?.[1];
const size = Deno.readTextFileSync("/proc/self/status").match(/VmSize:\s+(\d+)/)?.[1];
console.log(`runts-like Deno process: VmRSS ${rss} kB, VmSize ${size} kB`);
for (const share of [true, false]) once(share); // warm up
for (const share of [true, false]) {
  const xs = Array.from({ length: runs }, () => once(share));
  console.log(`${share ? "CLONE_VM (shared memory)" : "copied memory (fork-like)"}: ${stats(xs)}`);
}
