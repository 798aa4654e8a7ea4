/**
 * Container state under --root: one directory per container holding `state.json`
 * (written atomically: temp file + rename) and, between create and start, the exec
 * fifo. A per-container lock file serializes commands on one container; different
 * containers never share a lock. Creating the directory is the duplicate-id check.
 */
import { RuntsError } from "../errors.ts";
import { ERRNO } from "../linux/errno.ts";
import { O } from "../linux/constants.ts";
import { SyscallError } from "../linux/ffi.ts";
import { close, flock, openat } from "../linux/syscalls.ts";
import type { SavedCgroup } from "../cgroups/mod.ts";
import type { Spec } from "../spec/types.ts";

/** What runts records about a container (a superset of the OCI state). */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Host pid of the init; 0 before it exists. */
  pid: number;
  /** Start time of the init (field 22 of /proc/<pid>/stat): guards against pid reuse. */
  pidStartTime?: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339. */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  cgroup?: SavedCgroup;
  /** The config the container was created from (exec, hooks and delete need it). */
  spec: Spec;
  /** Set once the init process is gone (run --keep). */
  stopped?: boolean;
}

/** runc's rule for container ids: no path tricks, no odd characters. */
export function validateId(id: string): void {
  if (!/^[\w+\-.]+$/.test(id) || id === "." || id === "..") {
    throw new RuntsError(
      `invalid container id "${id}": use letters, digits, "_", "+", "-" and "." only`,
    );
  }
  if (id.length > 1024) throw new RuntsError(`invalid container id: longer than 1024 characters`);
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    validateId(id);
    return `${this.root}/${id}`;
  }

  private ensureRoot(): void {
    Deno.mkdirSync(this.root, { recursive: true, mode: 0o711 });
  }

  /** Claim `id`: fails if a container with that id exists. Returns it locked. */
  create(id: string): ContainerDir {
    const dir = this.dir(id);
    this.ensureRoot();
    try {
      Deno.mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new RuntsError(`container with id "${id}" already exists`);
      }
      throw new RuntsError(`create state directory ${dir}: ${(e as Error).message}`, { cause: e });
    }
    const c = new ContainerDir(id, dir);
    c.lock();
    return c;
  }

  /** An existing container, locked. */
  open(id: string): ContainerDir {
    const dir = this.dir(id);
    const c = new ContainerDir(id, dir);
    try {
      c.lock();
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) {
        throw new RuntsError(`container "${id}" does not exist`);
      }
      throw e;
    }
    if (!exists(`${dir}/state.json`)) {
      c.unlock();
      throw new RuntsError(`container "${id}" does not exist`);
    }
    return c;
  }

  /** Ids of all containers (directories with a state file). */
  list(): string[] {
    const ids: string[] = [];
    try {
      for (const e of Deno.readDirSync(this.root)) {
        if (e.name.includes("~")) continue; // being removed (ContainerDir.remove)
        if (e.isDirectory && exists(`${this.root}/${e.name}/state.json`)) ids.push(e.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return ids.sort();
  }
}

export class ContainerDir {
  private lockFd = -1;
  constructor(readonly id: string, readonly path: string) {}

  get stateFile(): string {
    return `${this.path}/state.json`;
  }

  get execFifo(): string {
    return `${this.path}/exec.fifo`;
  }

  /** Exclusive lock held until unlock() or process exit. */
  lock(): void {
    if (this.lockFd >= 0) return;
    const fd = openat(`${this.path}/lock`, O.RDWR | O.CREAT | O.CLOEXEC, 0o600);
    try {
      flock(fd, 2 /* LOCK_EX */);
    } catch (e) {
      close(fd);
      throw e;
    }
    this.lockFd = fd;
  }

  unlock(): void {
    if (this.lockFd < 0) return;
    close(this.lockFd);
    this.lockFd = -1;
  }

  read(): ContainerRecord {
    try {
      return JSON.parse(Deno.readTextFileSync(this.stateFile));
    } catch (e) {
      throw new RuntsError(`read state of container "${this.id}": ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Atomic: readers see the old or the new state, never half of one. */
  write(record: ContainerRecord): void {
    const tmp = `${this.stateFile}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    Deno.renameSync(tmp, this.stateFile);
  }

  /**
   * Remove the whole directory (state, fifo, lock). It is first renamed out of the way
   * (to a name no id can have): a command waiting for the lock then finds no state,
   * and none can create a new lock file in it while it is emptied (rmdir: ENOTEMPTY).
   */
  remove(): void {
    let target = this.path;
    try {
      const tomb = `${this.path}~deleted-${Deno.pid}`;
      Deno.renameSync(this.path, tomb);
      target = tomb;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        this.unlock();
        return;
      }
    }
    try {
      Deno.removeSync(target, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    this.unlock();
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** State (field 3) and start time (field 22) of /proc/<pid>/stat, or undefined if gone. */
function procStat(pid: number): { state: string; startTime: string } | undefined {
  if (pid <= 0) return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may contain spaces and parentheses: split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or undefined if gone. */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/** Whether the recorded init is still the same live (non-zombie) process. */
export function initAlive(record: ContainerRecord): boolean {
  if (record.stopped) return false;
  const stat = procStat(record.pid);
  return stat !== undefined && stat.startTime === record.pidStartTime && stat.state !== "Z";
}
