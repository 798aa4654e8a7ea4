/**
 * A `runts create` SIGKILLed part-way (an engine timing out, the OOM killer) must be
 * recoverable: `runts delete --force ID` then leaves no mount, cgroup, process or state.
 * The kill lands at each phase reliably: runts runs with RUNTS_TRACE=1 and is killed as
 * soon as it reports reaching that phase; blind delays cover the gaps in between.
 */
import { requireRoot, runts, runtsPath, uniqueId } from "../helpers.ts";
import { assert, assertEquals } from "../unit/assert.ts";
import {
  assertGone,
  assertOk,
  cmdlineOf,
  processesMentioning,
  type Setup,
  setup,
  waitUntil,
} from "./lifecycle_helpers.ts";

interface Outcome {
  /** Trace lines runts printed before it died. */
  trace: string[];
  /** runts exited on its own (the kill came too late). */
  completed: boolean;
  /** The state dir existed after the kill. */
  stateDir: boolean;
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
 * Starts `runts create` and SIGKILLs it as soon as it traces `label`, or after `delayMs`.
 * Its stderr is a pipe the container init may inherit: it is read, never waited on.
 */
async function createKilled(
  s: Setup,
  id: string,
  at: { label?: string; delayMs?: number; afterMs?: number },
): Promise<Outcome> {
  const child = new Deno.Command(runtsPath, {
    args: ["--root", s.root, "create", "--bundle", s.bundle.dir, id],
    env: { RUNTS_TRACE: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.getReader();
  const dec = new TextDecoder();
  let text = "";
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (at.delayMs !== undefined) timer = setTimeout(kill, at.delayMs);
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += dec.decode(value, { stream: true });
      if (at.label !== undefined && text.includes(` ${at.label}\n`)) {
        at.label = undefined;
        if (at.afterMs) timer = setTimeout(kill, at.afterMs);
        else kill();
      }
    }
  })();
  const status = await child.status;
  clearTimeout(timer);
  // A created init holds the pipe open: stop reading instead of waiting for EOF.
  await reader.cancel().catch(() => {});
  await reading.catch(() => {});
  return {
    trace: text.split("\n").filter((l) => l.startsWith("runts-trace ")),
    completed: status.signal === null,
    stateDir: exists(`${s.root}/${id}`),
  };
}

/** After the kill: delete --force succeeds and nothing of the container is left. */
async function assertRecovers(s: Setup, id: string, o: Outcome, what: string): Promise<void> {
  what += ` (last traced phase: ${o.trace.at(-1)?.split(" ").slice(2).join(" ") ?? "none"})`;
  const r = await runts(["delete", "--force", id], { root: s.root });
  assertOk(r, `delete --force after ${what}`);
  try {
    await assertGone(s.root, id, s.bundle.dir);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  // Not even a clone of runts that never reached execve (it still has runts' argv).
  try {
    await waitUntil(
      () => processesMentioning(s.root).length === 0,
      "no process names --root",
      10_000,
    );
  } catch {
    const left = processesMentioning(s.root).map((p) => `${p}: ${cmdlineOf(p)}`);
    throw new Error(`${what}: processes left:\n${left.join("\n")}`);
  }
  assertEquals([...Deno.readDirSync(s.root)].map((e) => e.name), [], `${what}: left in --root`);
}

Deno.test({
  name: "interrupted create: SIGKILL at every traced phase, then delete --force leaves nothing",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: ["sleep", "600"] });
    try {
      // A complete create, to learn the phases (and warm up scripts/runts' bundle).
      const full = uniqueId("phases");
      s.ids.add(full);
      const whole = await createKilled(s, full, {});
      assert(whole.completed, `create did not complete: ${whole.trace.join("\n")}`);
      await assertRecovers(s, full, whole, "a complete create");
      const labels = whole.trace.map((l) => l.split(" ").slice(2).join(" "))
        .filter((l) => !l.startsWith("main: exit"));
      assert(labels.includes("setup: state dir"), `phases: ${labels}`);
      assert(labels.some((l) => l.startsWith("launch: cloned")), `phases: ${labels}`);

      let midCreate = 0;
      for (const label of labels) {
        const id = uniqueId("intr");
        s.ids.add(id);
        const o = await createKilled(s, id, { label });
        if (!o.completed && o.stateDir) midCreate++;
        await assertRecovers(s, id, o, `SIGKILL at "${label}"`);
      }
      // Killed after claiming the state dir and before returning: really mid-create.
      assert(midCreate >= 3, `only ${midCreate} kills landed mid-create`);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "interrupted create: SIGKILL after blind delays, then delete --force leaves nothing",
  ...requireRoot(),
  fn: async () => {
    const s = await setup({ args: ["sleep", "600"] });
    try {
      for (const delayMs of [5, 20, 40, 60, 80, 100, 120, 150, 200, 300]) {
        const id = uniqueId("delay");
        s.ids.add(id);
        const o = await createKilled(s, id, { delayMs });
        await assertRecovers(s, id, o, `SIGKILL after ${delayMs} ms`);
      }
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "interrupted create: SIGKILL while the cgroup is being made, then delete --force",
  ...requireRoot(),
  fn: async () => {
    // Right after "setup: state dir" runts creates the cgroup dirs: a kill there must
    // not leave them behind (the state must name the cgroup before it exists).
    const s = await setup({ args: ["sleep", "600"] });
    try {
      for (let afterMs = 0; afterMs <= 12; afterMs++) {
        const id = uniqueId("cg");
        s.ids.add(id);
        const o = await createKilled(s, id, { label: "setup: state dir", afterMs });
        await assertRecovers(s, id, o, `SIGKILL ${afterMs} ms after "setup: state dir"`);
      }
    } finally {
      await s.cleanup();
    }
  },
});
