/**
 * The Deno permission flags runts runs with, from `scripts/permissions.txt` (the single
 * source, also read by the bash launcher `scripts/runts`). Used by `scripts/compile.ts`.
 */

/** Parses permissions.txt content: one flag per line, `#` comments and blank lines ignored. */
export function parsePermissions(text: string): string[] {
  const flags: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!/^--(allow-[a-z-]+|v8-flags)(=.*)?$/.test(line)) {
      throw new Error(`permissions.txt: not a permission flag: ${JSON.stringify(line)}`);
    }
    flags.push(line);
  }
  return flags;
}

/** URL of the plain-text source file. */
export const permissionsFile: URL = new URL("./permissions.txt", import.meta.url);

/** Reads the permission flags (e.g. `--allow-ffi`). */
export function readPermissions(): string[] {
  return parsePermissions(Deno.readTextFileSync(permissionsFile));
}
