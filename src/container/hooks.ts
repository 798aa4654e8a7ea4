/**
 * OCI hooks: each hook runs with the container state on stdin, its own args and env,
 * and an optional timeout. prestart, createRuntime, poststart and poststop run in
 * runts' namespaces; createContainer and startContainer in the container's (through
 * the init's /proc/<pid>/ns).
 */
import { RuntsError } from "../errors.ts";
import { libc } from "../linux/ffi.ts";
import { close, kill, waitpidAsync, write } from "../linux/syscalls.ts";
import { spawnCommand } from "../process/spawn_command.ts";
import type { Hook, Hooks, LinuxNamespace } from "../spec/types.ts";

export type HookPhase = keyof Hooks;

/** A failed hook: the operation fails and the container is destroyed (runtime.md). */
export class HookError extends RuntsError {
  constructor(message: string) {
    super(message);
    this.name = "HookError";
  }
}

export interface HookContext {
  /** The state document passed on stdin. */
  state: Record<string, unknown>;
  /** For container-namespace hooks: the init's pid and the container's namespaces. */
  container?: { pid: number; namespaces: LinuxNamespace[] };
}

export function hasHooks(hooks: Hooks | undefined, ...phases: HookPhase[]): boolean {
  return phases.some((p) => (hooks?.[p]?.length ?? 0) > 0);
}

/** Run every hook of `phase` in order; the first failure throws HookError. */
export async function runHooks(
  hooks: Hooks | undefined,
  phase: HookPhase,
  ctx: HookContext,
): Promise<void> {
  const list = hooks?.[phase] ?? [];
  const stdin = new TextEncoder().encode(JSON.stringify(ctx.state));
  for (let i = 0; i < list.length; i++) {
    await runHook(list[i], `${phase} hook #${i} (${list[i].path})`, stdin, ctx);
  }
}

async function runHook(
  hook: Hook,
  label: string,
  stdin: Uint8Array,
  ctx: HookContext,
): Promise<void> {
  let child;
  try {
    child = spawnCommand({
      path: hook.path,
      // args follow execv: args[0] is the hook's argv[0] (runc: exec.Cmd{Path, Args}).
      args: hook.args?.length ? hook.args : [hook.path],
      env: hook.env ?? [],
      namespacesOf: ctx.container && {
        pid: ctx.container.pid,
        types: ctx.container.namespaces.map((n) => n.type),
      },
    });
  } catch (e) {
    throw new HookError(`${label}: cannot start: ${(e as Error).message}`);
  }
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  try {
    writeAll(child.stdin, stdin);
  } catch { /* a hook may exit without reading its stdin */ }
  close(child.stdin);
  let timedOut = false;
  // The hook leads its own session: a timeout kills it and everything it started.
  const timer = hook.timeout && hook.timeout > 0
    ? setTimeout(() => {
      timedOut = true;
      try {
        kill(-child.pid, 9);
      } catch { /* already gone */ }
    }, hook.timeout * 1000)
    : undefined;
  let result;
  try {
    result = await waitpidAsync(child.pid);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  // Output still buffered is read; a descendant keeping the pipes open can't hold us.
  const grace = new Promise<string>((r) => setTimeout(() => r(""), 200));
  const err = await Promise.race([stderr, grace]);
  await Promise.race([stdout, grace]);
  if (timedOut) throw new HookError(`${label}: timed out after ${hook.timeout}s`);
  if (result.exitCode !== 0) {
    const tail = err.trim().split("\n").slice(-3).join(" ");
    const why = result.signal
      ? `killed by signal ${result.signal}`
      : `exit status ${result.exitCode}`;
    throw new HookError(`${label} failed: ${why}${tail ? `: ${tail}` : ""}`);
  }
}

/** Read `fd` to EOF on a helper thread, then close it. */
async function collect(fd: number): Promise<string> {
  const chunks: string[] = [];
  const buf = new Uint8Array(4096);
  const dec = new TextDecoder();
  try {
    for (;;) {
      const n = Number(await libc().readAsync(fd, buf, BigInt(buf.length)));
      if (n <= 0) break;
      chunks.push(dec.decode(buf.subarray(0, n), { stream: true }));
    }
  } finally {
    close(fd);
  }
  return chunks.join("");
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length;) off += write(fd, data.subarray(off));
}

/** poststop: failures are only warnings (runtime.md step 13). */
export async function runPoststop(
  hooks: Hooks | undefined,
  state: Record<string, unknown>,
  warn: (m: string) => void,
): Promise<void> {
  const list = hooks?.poststop ?? [];
  for (let i = 0; i < list.length; i++) {
    try {
      await runHooks({ poststop: [list[i]] }, "poststop", { state });
    } catch (e) {
      warn(`poststop hook #${i} (${list[i].path}): ${(e as Error).message}`);
    }
  }
}
