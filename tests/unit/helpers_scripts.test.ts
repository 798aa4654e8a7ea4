// Unit tests of the test helpers and the permissions list (no root needed).
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { hasCommand, repoRoot, run, runtsPath, uniqueId } from "../helpers.ts";
import { parsePermissions, readPermissions } from "../../scripts/permissions.ts";

Deno.test("permissions: all access (FFI implies it; /proc needs it)", () => {
  assertEquals(readPermissions(), ["--allow-all", "--v8-flags=--single-threaded"]);
});

Deno.test("permissions: comments and blanks skipped, other text refused", () => {
  assertEquals(parsePermissions("# c\n\n--allow-ffi\n  --allow-read  \n"), [
    "--allow-ffi",
    "--allow-read",
  ]);
  assertThrows(() => parsePermissions("--allow-all; rm\n"));
  assertThrows(() => parsePermissions("-A\n"));
});

Deno.test("uniqueId: prefixed, distinct, short enough for a container id", () => {
  const ids = new Set(Array.from({ length: 200 }, () => uniqueId("x")));
  assertEquals(ids.size, 200);
  for (const id of ids) {
    assert(/^x-[a-z0-9]+$/.test(id), id);
    assert(id.length <= 32, id);
  }
});

Deno.test("repoRoot and runtsPath point into the checkout", () => {
  assert(Deno.statSync(`${repoRoot}/deno.json`).isFile);
  if (Deno.env.get("RUNTS_BIN") === undefined) {
    assertEquals(runtsPath, `${repoRoot}/scripts/runts`);
  }
});

Deno.test("hasCommand looks through PATH without running anything", () => {
  assert(hasCommand("sh"));
  assert(!hasCommand("no-such-command-runts-test"));
});

Deno.test("run: captures stdout, stderr, exit code and feeds stdin", async () => {
  const r = await run("sh", ["-c", "cat; echo err >&2; exit 3"], { stdin: "in" });
  assertEquals(r, { code: 3, stdout: "in", stderr: "err\n" });
});

Deno.test("run: kills a child that outlives timeoutMs", async () => {
  let message = "";
  try {
    await run("sleep", ["10"], { timeoutMs: 100 });
  } catch (e) {
    message = String(e);
  }
  assert(message.includes("killed after 100 ms"), message);
});
