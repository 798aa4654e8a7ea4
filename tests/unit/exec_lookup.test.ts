import { assertEquals } from "./assert.ts";
import { emitExec, executableCandidates } from "../../src/process/exec.ts";
import { ChildProgram } from "../../src/linux/child.ts";
import { spawnProgram } from "../../src/linux/spawn.ts";
import { close, pollIn, recvWithFds, socketpair, waitpid } from "../../src/linux/syscalls.ts";
import { SOCK_SEQPACKET } from "../../src/linux/constants.ts";
import { decodeFailure } from "../../src/linux/program.ts";
import { ERRNO } from "../../src/linux/errno.ts";

const DEFAULT = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

Deno.test("executableCandidates: a name with a slash is used as is", () => {
  assertEquals(executableCandidates("/bin/sh", ["PATH=/x"]), ["/bin/sh"]);
  assertEquals(executableCandidates("./run", []), ["./run"]);
  assertEquals(executableCandidates("sub/prog", ["PATH=/x"]), ["sub/prog"]);
});

Deno.test("executableCandidates: without PATH, runc's default PATH", () => {
  assertEquals(executableCandidates("sh", []), DEFAULT.map((d) => `${d}/sh`));
  assertEquals(
    executableCandidates("sh", ["HOME=/root", "path=/lower", "XPATH=/x", "PATHX=/y"]),
    DEFAULT.map((d) => `${d}/sh`),
    "only an exact PATH= entry counts",
  );
});

Deno.test("executableCandidates: PATH from the env, in order; the last PATH wins", () => {
  assertEquals(executableCandidates("ls", ["PATH=/a:/b/c"]), ["/a/ls", "/b/c/ls"]);
  assertEquals(executableCandidates("ls", ["PATH=/first", "A=1", "PATH=/last:/x"]), [
    "/last/ls",
    "/x/ls",
  ]);
  assertEquals(executableCandidates("ls", ["PATH=/a=b"]), ["/a=b/ls"], "value after the first =");
});

Deno.test("executableCandidates: empty PATH entries mean the current directory", () => {
  assertEquals(executableCandidates("p", ["PATH=/a::/b:"]), ["/a/p", "./p", "/b/p", "./p"]);
  assertEquals(executableCandidates("p", ["PATH=:/a"]), ["./p", "/a/p"]);
});

/** A searched candidate's options: skip it when missing or not executable. */
function skip(next: number) {
  return {
    ignore: [ERRNO.ENOENT, ERRNO.ENOTDIR],
    onErrno: { errno: ERRNO.EACCES, to: { index: next } },
  };
}

Deno.test("emitExec: one execve per candidate skipping missing/unusable ones, then a not-found op", () => {
  const p = new ChildProgram();
  emitExec(p, ["top", "-b"], ["PATH=/usr/bin:/bin", "TERM=dumb"]);
  assertEquals(p.ops.map((o) => [o.name, o.what, o.options]), [
    ["execve", "exec /usr/bin/top", skip(1)],
    ["execve", "exec /bin/top", skip(2)],
    ["openat", 'exec "top": executable file not found in $PATH', { complete: true }],
  ]);
  const abs = new ChildProgram();
  emitExec(abs, ["/bin/top"], []);
  assertEquals(abs.ops.map((o) => [o.name, o.what, o.options]), [
    ["execve", "exec /bin/top", {}],
  ]);
});

/** Run emitExec's ops in a real child; its failure record (if any) and exit code. */
function runExec(args: string[], env: string[]) {
  const [parent, child] = socketpair(SOCK_SEQPACKET);
  const p = new ChildProgram();
  emitExec(p, args, env);
  let spawned;
  try {
    spawned = spawnProgram(p, child);
  } finally {
    close(child);
  }
  const messages: Uint8Array[] = [];
  for (;;) {
    if (!pollIn(parent, 10_000)) break;
    const { data } = recvWithFds(parent, 64);
    if (data.length === 0) break;
    messages.push(data.slice());
  }
  const exit = waitpid(spawned.pid)!;
  spawned.release();
  close(parent);
  return { program: p, failures: messages.map(decodeFailure), exitCode: exit.exitCode };
}

function scriptDirs(): { a: string; b: string; cleanup: () => void } {
  const a = Deno.makeTempDirSync({ prefix: "runts-path-a-" });
  const b = Deno.makeTempDirSync({ prefix: "runts-path-b-" });
  Deno.writeTextFileSync(`${b}/prog`, "#!/bin/sh\nexit 7\n", { mode: 0o755 });
  Deno.chmodSync(`${b}/prog`, 0o755);
  return {
    a,
    b,
    cleanup: () => {
      Deno.removeSync(a, { recursive: true });
      Deno.removeSync(b, { recursive: true });
    },
  };
}

Deno.test("emitExec in a real child: the first existing candidate runs", () => {
  const { a, b, cleanup } = scriptDirs();
  try {
    const r = runExec(["prog"], [`PATH=${a}:/nonexistent:${b}`]);
    assertEquals(r.failures, []);
    assertEquals(r.exitCode, 7);
    const missing = runExec(["prog"], [`PATH=${a}:/nonexistent`]);
    assertEquals(missing.failures, [
      { op: missing.program.ops.length - 1, errno: ERRNO.ENOENT, result: -2n },
    ]);
    assertEquals(missing.exitCode, 1);
  } finally {
    cleanup();
  }
});

Deno.test({
  name: "emitExec in a real child: non-executable files and non-directories are skipped",
  fn: () => {
    const { a, b, cleanup } = scriptDirs();
    try {
      Deno.writeTextFileSync(`${a}/prog`, "#!/bin/sh\nexit 3\n", { mode: 0o644 });
      Deno.chmodSync(`${a}/prog`, 0o644);
      const r = runExec(["prog"], [`PATH=${a}:/etc/passwd:${b}`]);
      assertEquals(r.failures, []);
      assertEquals(r.exitCode, 7);
    } finally {
      cleanup();
    }
  },
});
