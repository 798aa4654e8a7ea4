/**
 * The file operations the cgroup code needs, behind an interface so path maths,
 * resource plans and stats parsing can be unit-tested against an in-memory tree.
 * All calls are synchronous: they sit on the container start path.
 */
import { RuntsError } from "../errors.ts";

export interface CgroupFs {
  /** Whole file as text; throws RuntsError naming the path. */
  read(path: string): string;
  /** Write to an existing file (never creates: cgroupfs refuses unknown files). */
  write(path: string, data: string): void;
  exists(path: string): boolean;
  /** mkdir -p. */
  mkdirAll(path: string): void;
  /** rmdir of one empty directory; returns false when it was already gone. */
  rmdir(path: string): boolean;
  /** Names of the subdirectories of `path` ([] when missing). */
  subdirs(path: string): string[];
}

/** errno name ("EBUSY", ...) of a Deno file error, when it carries one. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

function describe(e: unknown): string {
  return errorCode(e) ?? (e instanceof Error ? e.message : String(e));
}

const encoder = new TextEncoder();

/** The real file system, through Deno's synchronous APIs. */
export const realCgroupFs: CgroupFs = {
  read(path) {
    try {
      return Deno.readTextFileSync(path);
    } catch (e) {
      throw new RuntsError(`cgroup: read ${path}: ${describe(e)}`, { cause: e });
    }
  },
  write(path, data) {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { write: true });
    } catch (e) {
      throw new RuntsError(`cgroup: open ${path}: ${describe(e)}`, { cause: e });
    }
    try {
      // One write() call: cgroup files parse each write separately.
      const bytes = encoder.encode(data);
      const n = file.writeSync(bytes);
      if (n !== bytes.length) throw new Error(`short write (${n} of ${bytes.length} bytes)`);
    } catch (e) {
      throw new RuntsError(`cgroup: write ${JSON.stringify(data)} to ${path}: ${describe(e)}`, {
        cause: e,
      });
    } finally {
      file.close();
    }
  },
  exists(path) {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  mkdirAll(path) {
    try {
      Deno.mkdirSync(path, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new RuntsError(`cgroup: mkdir ${path}: ${describe(e)}`, { cause: e });
    }
  },
  rmdir(path) {
    try {
      Deno.removeSync(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw new RuntsError(`cgroup: rmdir ${path}: ${describe(e)}`, { cause: e });
    }
  },
  subdirs(path) {
    try {
      const names: string[] = [];
      for (const entry of Deno.readDirSync(path)) if (entry.isDirectory) names.push(entry.name);
      return names;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw new RuntsError(`cgroup: readdir ${path}: ${describe(e)}`, { cause: e });
    }
  },
};
