/**
 * OCI hooks: each hook runs with the container state on stdin, its own args and env,
 * and an optional timeout. prestart, createRuntime, poststart and poststop run in
 * runts' namespaces; createContainer and startContainer in the container's (through
 * the init's /proc/<pid>/ns).
 */
import { RuntsError } from "../errors.ts";
import { inNamespacesOf } from "../linux/nsenter.ts";
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
  const command = new Deno.Command(hook.path, {
    // Deno sets argv[0] to the path; args[0] of the hook is its conventional name.
    args: (hook.args ?? []).slice(1),
    env: Object.fromEntries((hook.env ?? []).map((e) => {
      const i = e.indexOf("=");
      return i < 0 ? [e, ""] : [e.slice(0, i), e.slice(i + 1)];
    })),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  let child: Deno.ChildProcess;
  try {
    child = ctx.container
      ? inNamespacesOf(
        ctx.container.pid,
        ctx.container.namespaces.map((n) => n.type),
        () => command.spawn(),
      )
      : command.spawn();
  } catch (e) {
    throw new HookError(`${label}: cannot start: ${(e as Error).message}`);
  }
  let timedOut = false;
  const timer = hook.timeout && hook.timeout > 0
    ? setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }, hook.timeout * 1000)
    : undefined;
  try {
    const writer = child.stdin.getWriter();
    await writer.write(stdin).catch(() => {}); // a hook may not read its stdin
    await writer.close().catch(() => {});
    const out = await child.output();
    if (timedOut) throw new HookError(`${label}: timed out after ${hook.timeout}s`);
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" ");
      const why = out.signal ? `killed by ${out.signal}` : `exit status ${out.code}`;
      throw new HookError(`${label} failed: ${why}${err ? `: ${err}` : ""}`);
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
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
