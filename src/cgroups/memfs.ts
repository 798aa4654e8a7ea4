/**
 * In-memory CgroupFs: lets the unit tests (no root) run path, plan, freezer and
 * stats logic against a fake cgroup tree, and inspect every write made.
 */
import { RuntsError } from "../errors.ts";
import type { CgroupFs } from "./fs.ts";

/** An error shaped like Deno's file errors (errno name in `code`). */
function fsError(op: string, path: string, code: string): RuntsError {
  const cause = Object.assign(new Error(code), { code });
  return new RuntsError(`cgroup: ${op} ${path}: ${code}`, { cause });
}

export class MemCgroupFs implements CgroupFs {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(["/"]);
  /** Every successful write, in order: [path, data]. */
  readonly writes: [string, string][] = [];
  /** path -> errno name to fail writes (or rmdirs) of that path with. */
  readonly failures = new Map<string, string>();
  /** Files the "kernel" puts in every new directory below a prefix: prefix -> file -> text. */
  readonly templates = new Map<string, Record<string, string>>();

  constructor(files: Record<string, string> = {}) {
    for (const [path, text] of Object.entries(files)) this.setFile(path, text);
  }

  setFile(path: string, text: string): void {
    this.mkdirAll(path.slice(0, path.lastIndexOf("/")) || "/");
    this.files.set(path, text);
  }

  read(path: string): string {
    const text = this.files.get(path);
    if (text === undefined) throw fsError("read", path, "ENOENT");
    return text;
  }

  write(path: string, data: string): void {
    const failure = this.failures.get(path);
    if (failure) throw fsError("write", path, failure);
    if (!this.files.has(path)) throw fsError("open", path, "ENOENT");
    this.files.set(path, data);
    this.writes.push([path, data]);
  }

  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }

  mkdirAll(path: string): void {
    const parts = path.split("/").filter((p) => p);
    for (let i = 1; i <= parts.length; i++) {
      const dir = "/" + parts.slice(0, i).join("/");
      if (this.dirs.has(dir)) continue;
      this.dirs.add(dir);
      for (const [prefix, files] of this.templates) {
        if (!dir.startsWith(prefix + "/")) continue;
        for (const [name, text] of Object.entries(files)) this.files.set(`${dir}/${name}`, text);
      }
    }
  }

  rmdir(path: string): boolean {
    const failure = this.failures.get(path);
    if (failure) throw fsError("rmdir", path, failure);
    if (!this.dirs.has(path)) return false;
    if (this.subdirs(path).length > 0) throw fsError("rmdir", path, "ENOTEMPTY");
    this.dirs.delete(path);
    for (const f of [...this.files.keys()]) if (f.startsWith(path + "/")) this.files.delete(f);
    return true;
  }

  subdirs(path: string): string[] {
    const prefix = path.endsWith("/") ? path : path + "/";
    const out: string[] = [];
    for (const d of this.dirs) {
      if (d.startsWith(prefix) && !d.slice(prefix.length).includes("/") && d !== prefix) {
        out.push(d.slice(prefix.length));
      }
    }
    return out;
  }
}
