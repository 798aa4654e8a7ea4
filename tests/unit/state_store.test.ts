import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  type ContainerRecord,
  initAlive,
  processStartTime,
  StateStore,
  validateId,
} from "../../src/state/store.ts";
import { RuntsError } from "../../src/errors.ts";
import { Program } from "../../src/linux/program.ts";
import { spawnProgram } from "../../src/linux/spawn.ts";
import { close, socketpair, waitpid } from "../../src/linux/syscalls.ts";
import { SOCK_SEQPACKET } from "../../src/linux/constants.ts";

Deno.test("validateId: accepts what runc accepts", () => {
  for (
    const id of [
      "a",
      "abc",
      "A1",
      "my_container",
      "a.b",
      "a-b",
      "a+b",
      "...",
      ".hidden",
      "x..y",
      "1",
      "a".repeat(1024),
    ]
  ) validateId(id);
});

Deno.test("validateId: refuses path tricks, odd characters and long ids", () => {
  for (
    const id of ["", ".", "..", "a/b", "/abs", "../x", "a b", "a\nb", "é", "a:b", "a*", "a\0b"]
  ) {
    assertThrows(() => validateId(id), RuntsError, `invalid container id "${id}"`);
  }
  assertThrows(
    () => validateId("a".repeat(1025)),
    RuntsError,
    "invalid container id: longer than 1024 characters",
  );
});

function record(id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    ociVersion: "1.2.0",
    id,
    pid: 0,
    bundle: "/bundle",
    rootfs: "/bundle/rootfs",
    created: "2024-01-02T03:04:05.000Z",
    owner: "",
    spec: { ociVersion: "1.2.0" },
    ...extra,
  };
}

async function lockedElsewhere(path: string): Promise<boolean> {
  const { code } = await new Deno.Command("flock", { args: ["-n", path, "true"] }).output();
  return code !== 0;
}

Deno.test("StateStore: create, write, open, list, remove in a temp root", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "runts-state-" });
  const store = new StateStore(`${tmp}/root`);
  try {
    assertEquals(store.list(), [], "a missing root lists nothing");
    assertEquals(store.dir("abc"), `${tmp}/root/abc`);
    const c = store.create("abc");
    assertEquals(c.path, `${tmp}/root/abc`);
    assertEquals(c.stateFile, `${tmp}/root/abc/state.json`);
    assertEquals(c.execFifo, `${tmp}/root/abc/exec.fifo`);
    const umask = Deno.umask();
    assertEquals(Deno.statSync(`${tmp}/root`).mode! & 0o777, 0o711 & ~umask);
    assertEquals(Deno.statSync(c.path).mode! & 0o777, 0o711 & ~umask);
    assertEquals(await lockedElsewhere(`${c.path}/lock`), true, "create returns it locked");
    assertEquals(store.list(), [], "no state file yet: not listed");
    c.write(record("abc", { pid: 42, annotations: { a: "b" } }));
    assertEquals(Deno.statSync(c.stateFile).mode! & 0o777, 0o600 & ~umask);
    assertEquals(c.read(), record("abc", { pid: 42, annotations: { a: "b" } }));
    assertEquals(
      [...Deno.readDirSync(c.path)].map((e) => e.name).sort(),
      ["lock", "state.json"],
      "the atomic write leaves no temp file",
    );
    c.write(record("abc", { pid: 43 }));
    assertEquals(c.read().pid, 43);
    assertThrows(() => store.create("abc"), RuntsError, 'container with id "abc" already exists');
    c.unlock();
    assertEquals(await lockedElsewhere(`${c.path}/lock`), false, "unlocked");

    const d = store.create("abb");
    d.write(record("abb"));
    d.unlock();
    Deno.mkdirSync(`${tmp}/root/no-state`);
    Deno.mkdirSync(`${tmp}/root/zzz~deleted-1`);
    Deno.writeTextFileSync(`${tmp}/root/zzz~deleted-1/state.json`, "{}");
    Deno.writeTextFileSync(`${tmp}/root/file`, "");
    assertEquals(store.list(), ["abb", "abc"]);

    const o = store.open("abc");
    assertEquals(o.read().id, "abc");
    assertEquals(await lockedElsewhere(`${o.path}/lock`), true, "open returns it locked");
    o.remove();
    assertEquals(await lockedElsewhere(`${tmp}/root/abb/lock`), false);
    assertThrows(() => Deno.statSync(`${tmp}/root/abc`), Deno.errors.NotFound);
    assertEquals(
      [...Deno.readDirSync(`${tmp}/root`)].filter((e) => e.name.startsWith("abc")).length,
      0,
      "no tomb left",
    );
    assertEquals(store.list(), ["abb"]);
    o.remove(); // twice: nothing left, no error

    assertThrows(() => store.open("abc"), RuntsError, 'container "abc" does not exist');
    assertThrows(() => store.open("no-state"), RuntsError, 'container "no-state" does not exist');
    assertThrows(() => store.open("../x"), RuntsError, "invalid container id");
    assertThrows(() => store.create("a/b"), RuntsError, "invalid container id");
    assertThrows(() => Deno.statSync(`${tmp}/root/a`), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("StateStore: a corrupt state file is an error naming the container", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "runts-state-" });
  try {
    const store = new StateStore(tmp);
    const c = store.create("bad");
    Deno.writeTextFileSync(c.stateFile, "{not json");
    assertThrows(() => c.read(), RuntsError, 'read state of container "bad"');
    c.unlock();
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

/** Field 22 of /proc/<pid>/stat derived independently, from the comm in /proc/<pid>/comm. */
function startTimeViaComm(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).replace(/\n$/, "");
  const prefix = `${pid} (${comm}) `;
  assert(stat.startsWith(prefix), `${JSON.stringify(stat.slice(0, 40))} starts with ${prefix}`);
  return stat.slice(prefix.length).split(" ")[19];
}

Deno.test("processStartTime: this process, a missing one, pid 0", () => {
  const own = processStartTime(Deno.pid);
  assert(own !== undefined && /^\d+$/.test(own), `digits: ${own}`);
  assertEquals(own, startTimeViaComm(Deno.pid));
  assertEquals(processStartTime(99999999), undefined);
  assertEquals(processStartTime(0), undefined);
  assertEquals(processStartTime(-1), undefined);
});

Deno.test("processStartTime: a command name with spaces and parentheses", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "runts-comm-" });
  const exe = `${dir}/a) b (c) d`;
  Deno.copyFileSync("/bin/sleep", exe);
  Deno.chmodSync(exe, 0o755);
  const child = new Deno.Command(exe, { args: ["30"], stdout: "null", stderr: "null" }).spawn();
  try {
    let comm = "";
    for (let i = 0; i < 200 && comm !== "a) b (c) d"; i++) {
      comm = Deno.readTextFileSync(`/proc/${child.pid}/comm`).trim();
      if (comm !== "a) b (c) d") await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(comm, "a) b (c) d");
    const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
    const got = processStartTime(child.pid);
    assertEquals(got, startTimeViaComm(child.pid));
    assert(got !== stat.split(" ")[21], "a naive split would read another field");
    assert(BigInt(got!) >= BigInt(processStartTime(Deno.pid)!), "started after us");
  } finally {
    child.kill("SIGKILL");
    await child.status;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("initAlive: same live process only; not stopped, not reused, not a zombie", () => {
  const start = processStartTime(Deno.pid)!;
  assertEquals(initAlive(record("x", { pid: Deno.pid, pidStartTime: start })), true);
  assertEquals(initAlive(record("x", { pid: Deno.pid, pidStartTime: start + "1" })), false);
  assertEquals(initAlive(record("x", { pid: Deno.pid })), false, "no start time recorded");
  assertEquals(
    initAlive(record("x", { pid: Deno.pid, pidStartTime: start, stopped: true })),
    false,
  );
  assertEquals(initAlive(record("x", { pid: 0, pidStartTime: start })), false);
  // A zombie: a child that exited and was not reaped yet.
  const [a, b] = socketpair(SOCK_SEQPACKET);
  const p = new Program();
  p.op("exit_group", [0], "exit");
  const spawned = spawnProgram(p, b);
  close(b);
  try {
    let state = "";
    for (let i = 0; i < 500 && state !== "Z"; i++) {
      const stat = Deno.readTextFileSync(`/proc/${spawned.pid}/stat`);
      state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    }
    assertEquals(state, "Z");
    const zStart = processStartTime(spawned.pid);
    assert(zStart !== undefined);
    assertEquals(initAlive(record("z", { pid: spawned.pid, pidStartTime: zStart })), false);
  } finally {
    waitpid(spawned.pid);
    spawned.release();
    close(a);
  }
});
