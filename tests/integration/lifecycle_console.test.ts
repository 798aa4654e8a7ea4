/**
 * `create --console-socket`: the pty master reaches the socket's listener via
 * SCM_RIGHTS (as conmon and containerd's shim receive it), and what is typed into it
 * reaches the container's process. The listener is python3 (socket.recv_fds): Deno's
 * unix sockets cannot receive fds.
 */
import { hasCommand, isRoot, uniqueId } from "../helpers.ts";
import { assert, assertEquals, assertMatch } from "../unit/assert.ts";
import { assertGone, assertOk, setup, waitStatus, waitUntil } from "./lifecycle_helpers.ts";

const LISTENER = `
import json, os, select, socket, sys, time
path, typed = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(60)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
print("fds=%d" % len(fds))
master = fds[0]
print("link=" + os.readlink("/proc/self/fd/%d" % master))
print("isatty=%s" % os.isatty(master))
os.write(master, typed.encode())
out = b""
deadline = time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 1)
    if not r:
        continue
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break  # EIO: the container closed its end
    if not chunk:
        break
    out += chunk
print("output=" + json.dumps(out.decode(errors="replace")))
`;

Deno.test({
  name: "lifecycle: create --console-socket sends the pty master; typing reaches the container",
  ignore: !isRoot() || !hasCommand("python3"),
  fn: async () => {
    const s = await setup({
      args: ["sh", "-c", 'read line; echo "got:$line"; tty; echo done > /shared/done'],
      edit: (spec) => (spec.process.terminal = true),
    });
    const id = uniqueId("console");
    s.ids.add(id);
    const sock = `${s.bundle.dir}/console.sock`;
    const listener = new Deno.Command("python3", {
      args: ["-c", LISTENER, sock, "hello-pty\n"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      await waitUntil(() => {
        try {
          return Deno.lstatSync(sock).isSocket === true;
        } catch {
          return false;
        }
      }, "the listener is bound");
      assertOk(
        await s.rt(["create", "--bundle", s.bundle.dir, "--console-socket", sock, id]),
        "create",
      );
      assertEquals((await waitStatus(s.root, id, "created")).status, "created");
      assertOk(await s.rt(["start", id]), "start");
      const out = await listener.output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertMatch(text, /^fds=1$/m);
      assertMatch(text, /^link=\/dev\/(pts\/)?ptmx$/m);
      assertMatch(text, /^isatty=True$/m);
      const output: string = JSON.parse(text.match(/^output=(.*)$/m)?.[1] ?? '""');
      // The line discipline echoes what was typed; the container read it and answered.
      assert(output.includes("got:hello-pty"), `container output: ${JSON.stringify(output)}`);
      assertMatch(output, /\/dev\/(console|pts\/\d+)/);
      await waitStatus(s.root, id, "stopped");
      assertEquals(await Deno.readTextFile(`${s.shared}/done`), "done\n");
      assertOk(await s.rt(["delete", id]), "delete");
      await assertGone(s.root, id, s.bundle.dir);
    } finally {
      try {
        listener.kill("SIGKILL");
      } catch { /* exited */ }
      await listener.status;
      await s.cleanup();
    }
  },
});
