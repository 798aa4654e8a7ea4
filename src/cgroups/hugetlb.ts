/** Huge page size names as the cgroup files spell them ("2MB", "1GB", "64KB"). */

/** Problems with a pageSize string (empty when valid). */
export function hugetlbProblems(pageSize: string): string[] {
  if (!/^[1-9][0-9]*[KMGT]B$/.test(pageSize)) {
    return [`must look like "2MB" or "1GB" (<size><K|M|G|T>B), got ${JSON.stringify(pageSize)}`];
  }
  return [];
}

/** "hugepages-2048kB" (a /sys/kernel/mm/hugepages entry) -> "2MB". */
export function pageSizeNameFromSysfs(entry: string): string | undefined {
  const m = /^hugepages-([0-9]+)kB$/.exec(entry);
  if (!m) return undefined;
  let size = Number(m[1]);
  const units = ["KB", "MB", "GB", "TB"];
  let unit = 0;
  while (size >= 1024 && size % 1024 === 0 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${size}${units[unit]}`;
}

/** Huge page sizes this kernel supports, as cgroup file names spell them. */
export function hostHugePageSizes(): string[] {
  try {
    const sizes: string[] = [];
    for (const e of Deno.readDirSync("/sys/kernel/mm/hugepages")) {
      const name = pageSizeNameFromSysfs(e.name);
      if (name) sizes.push(name);
    }
    return sizes;
  } catch {
    return [];
  }
}
