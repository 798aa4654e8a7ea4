/** uid_map/gid_map of a new user namespace, written by runts for the child. */
import { RuntsError } from "../errors.ts";
import type { LinuxIDMapping } from "../spec/types.ts";

export function formatIdMap(mappings: LinuxIDMapping[] = []): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

/**
 * Write the maps of `pid`'s user namespace. Without root, the kernel requires
 * setgroups to be denied before an unprivileged gid_map is accepted.
 */
export function writeIdMaps(
  pid: number,
  uidMappings?: LinuxIDMapping[],
  gidMappings?: LinuxIDMapping[],
): void {
  const write = (file: string, content: string) => {
    try {
      Deno.writeTextFileSync(`/proc/${pid}/${file}`, content);
    } catch (e) {
      throw new RuntsError(
        `write ${file} of the container user namespace (${JSON.stringify(content.trim())}): ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
  };
  if (Deno.uid() !== 0) write("setgroups", "deny");
  write("uid_map", formatIdMap(uidMappings));
  write("gid_map", formatIdMap(gidMappings));
}

/** The host id that `id` inside the container maps to (itself without mappings). */
export function hostIdOf(
  id: number,
  mappings: LinuxIDMapping[] = [],
): number {
  const m = mappings.find((m) => id >= m.containerID && id < m.containerID + m.size);
  return m ? m.hostID + (id - m.containerID) : id;
}
