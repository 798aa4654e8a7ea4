/**
 * `runts run` with terminal: true driven through a real pty: util-linux `script`
 * gives runts a terminal (sized with stty), the test types into it like a user.
 * Checked from inside: the console is /dev/pts/0, its size is the host terminal's,
 * input is echoed and run; and the host terminal's settings are restored afterwards.
 */
import { hasCommand, makeBundle, requireRoot, runtsPath, tempRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { assertNothingLeft } from "./run_helpers.ts";

interface TtySession {
  output: string;
  code: number;
  before: string;
  after: string;
  runtsCode: string;
}

/**
 * Runs `runts run` inside `script`'s pty (rows × cols), waits for `prompt`, types
 * `input`, and collects everything until the session ends.
 */
async function ttySession(
  bundleDir: string,
  root: string,
  id: string,
  input: string,
  prompt = "/ # ",
): Promise<TtySession> {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const cmd = `stty rows 33 cols 101; stty -g > ${q(bundleDir + "/before")}; ` +
    `${q(runtsPath)} --root ${q(root)} run --bundle ${q(bundleDir)} ${q(id)}; ` +
    `echo "runts-rc=$?"; stty -g > ${q(bundleDir + "/after")}`;
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
        await writer.write(new TextEncoder().encode(input));
      }
    }
    const status = await child.status;
    await writer.close().catch(() => {});
    return {
      output,
      code: status.code,
      before: (await Deno.readTextFile(`${bundleDir}/before`)).trim(),
      after: (await Deno.readTextFile(`${bundleDir}/after`)).trim(),
      runtsCode: output.match(/runts-rc=(\d+)/)?.[1] ?? "none",
    };
  } finally {
    clearTimeout(timer);
    await child.stderr.cancel().catch(() => {});
  }
}

const ttyOk = { ignore: !hasCommand("script") || requireRoot().ignore };

async function interactiveShell(): Promise<{ s: TtySession; id: string }> {
  const bundle = await makeBundle({
    args: ["sh"],
    edit: (s) => (s.process.terminal = true),
  });
  const root = await tempRoot();
  const id = uniqueId("tty");
  try {
    const s = await ttySession(
      bundle.dir,
      root,
      id,
      "tty; stty size; echo hello-$((6*7)); ls -l /dev/console | cut -c1; exit 5\n",
    );
    await assertNothingLeft(root, id, bundle.dir);
    return { s, id };
  } finally {
    await bundle.cleanup();
  }
}

Deno.test({
  name: "tty: console is /dev/pts/0 with the host terminal's size; input is echoed and run",
  ...ttyOk,
  fn: async () => {
    const { s } = await interactiveShell();
    const out = s.output.replaceAll("\r", "");
    // The command line comes back as typed (echo by the container's pty), then its output.
    assertMatch(out, /echo hello-\$\(\(6\*7\)\)/);
    assertMatch(out, /^\/dev\/pts\/0$/m);
    assertMatch(out, /^33 101$/m);
    assertMatch(out, /^hello-42$/m);
    assertMatch(out, /^c$/m); // /dev/console is the pty (a character device)
    assertEquals(s.runtsCode, "5", s.output);
    assertEquals(s.code, 0, s.output);
  },
});

Deno.test({
  name: "tty: the host terminal's settings are restored",
  ...ttyOk,
  fn: async () => {
    const { s } = await interactiveShell();
    assert(s.before.length > 0, "stty -g printed nothing");
    assertEquals(s.after, s.before);
  },
});

Deno.test({
  name: "tty: output passes unchanged (host side raw like cfmakeraw: no double CR)",
  ...ttyOk,
  fn: async () => {
    // The container's pty turns "\n" into "\r\n"; the host terminal must not add another
    // "\r" (runc puts it in raw mode with OPOST off). See the report on console_relay.ts.
    const { s } = await interactiveShell();
    assertMatch(s.output, /\r\nhello-42\r\n/);
    assert(!s.output.includes("\r\r\n"), `output translated twice: ${JSON.stringify(s.output)}`);
  },
});
