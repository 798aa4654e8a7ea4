/**
 * runts' own /proc/self/mountinfo, read once per process: the cgroup detection and
 * the rootfs' parent mount both need it on the container start path, and runts never
 * changes its own mount table.
 */
let text: string | undefined;

export function selfMountinfo(): string {
  text ??= Deno.readTextFileSync("/proc/self/mountinfo");
  return text;
}
