/** Lexical POSIX path helpers (no file system access). */

/** Clean a path: collapse "//", ".", and ".." (never above "/" for absolute paths). */
export function cleanPath(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  return abs ? "/" + joined : joined || ".";
}

export function joinPath(...parts: string[]): string {
  return cleanPath(parts.filter((p) => p !== "").join("/"));
}

/** A mount destination inside the container: absolute and clean (relative means from "/"). */
export function normalizeDestination(dest: string): string {
  return cleanPath("/" + dest);
}

export function dirname(path: string): string {
  const c = cleanPath(path);
  const i = c.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : c.slice(0, i);
}

export function basename(path: string): string {
  const c = cleanPath(path);
  return c.slice(c.lastIndexOf("/") + 1);
}
