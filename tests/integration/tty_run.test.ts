/**
 * `runts run` with terminal: true driven through a real pty: util-linux `script`
 * gives runts a terminal (sized with stty), the test types into it like a user.
 * Checked from inside: the console is /dev/pts/0, its size is the host terminal's,
 * input is echoed and run; and the host terminal's settings are restored afterwards.
 */
import { hasCommand, makeBundle, requireRoot, tempRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { assertNothingLeft, type TtySession, ttySession } from "./run_helpers.ts";

const ttyOk = { ignore: !hasCommand("script") || requireRoot().ignore };

async function interactiveShell(): Promise<{ s: TtySession; id: string }> {
  const bundle = await makeBundle({
    args: ["sh"],
    edit: (s) => (s.process.terminal = true),
  });
  const root = await tempRoot();
  const id = uniqueId("tty");
  try {
    const s = await ttySession({
      dir: bundle.dir,
      runtsArgs: ["--root", root, "run", "--bundle", bundle.dir, id],
      input: "tty; stty size; echo hello-$((6*7)); ls -l /dev/console | cut -c1; exit 5\n",
    });
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
