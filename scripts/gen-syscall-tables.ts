/**
 * Generates src/seccomp/syscalls_<arch>.ts (syscall name -> number) from the kernel UAPI
 * headers, so seccomp profiles can be compiled for every architecture an engine lists.
 *
 *   deno run --allow-read --allow-write --allow-run scripts/gen-syscall-tables.ts
 *
 * Needs `cpp` and the headers of linux-libc-dev (x86_64, x86, x32) and of the Debian cross
 * packages linux-libc-dev-arm64-cross and linux-libc-dev-armhf-cross. `cpp -dM` does the
 * preprocessing (asm-generic/unistd.h is full of #ifdef __ARCH_WANT_*); this script only
 * evaluates the resulting `__NR_*` macros.
 *
 * Headers older than the running kernels lack the newest syscalls. Since Linux 5.1 every
 * new syscall gets the same number on every architecture (alpha excepted), so the ones
 * newer than the installed headers are appended from UNIFIED_SINCE_HEADERS below.
 */

interface ArchSource {
  /** output file suffix and exported constant suffix */
  id: string;
  header: string;
  cppArgs: string[];
  /** Numbers of the arch-private `__ARM_NR_*` calls are included too (libseccomp does). */
  armPrivate?: boolean;
  /** x32 numbers carry __X32_SYSCALL_BIT. */
  offset?: number;
  /** ABI tag used to pick entries from UNIFIED_SINCE_HEADERS. */
  abi: "x86_64" | "x86" | "x32" | "aarch64" | "arm";
}

const X32_SYSCALL_BIT = 0x40000000;

const SOURCES: ArchSource[] = [
  {
    id: "x86_64",
    header: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    cppArgs: [],
    abi: "x86_64",
  },
  { id: "x86", header: "/usr/include/x86_64-linux-gnu/asm/unistd_32.h", cppArgs: [], abi: "x86" },
  {
    id: "x32",
    header: "/usr/include/x86_64-linux-gnu/asm/unistd_x32.h",
    cppArgs: [`-D__X32_SYSCALL_BIT=${X32_SYSCALL_BIT}`],
    offset: X32_SYSCALL_BIT,
    abi: "x32",
  },
  {
    id: "aarch64",
    header: "/usr/aarch64-linux-gnu/include/asm/unistd.h",
    cppArgs: ["-nostdinc", "-I/usr/aarch64-linux-gnu/include"],
    abi: "aarch64",
  },
  {
    id: "arm",
    header: "/usr/arm-linux-gnueabihf/include/asm/unistd.h",
    cppArgs: ["-nostdinc", "-I/usr/arm-linux-gnueabihf/include", "-D__ARM_EABI__"],
    armPrivate: true,
    abi: "arm",
  },
];

/**
 * Syscalls added after linux-libc-dev 6.1 (Debian 12), with their unified numbers, from
 * the kernels' syscall tables up to 6.17. `only` limits an entry to the ABIs that wire it.
 */
const UNIFIED_SINCE_HEADERS: { name: string; nr: number; only?: ArchSource["abi"][] }[] = [
  { name: "cachestat", nr: 451 },
  { name: "fchmodat2", nr: 452 },
  { name: "map_shadow_stack", nr: 453, only: ["x86_64", "aarch64"] },
  { name: "futex_wake", nr: 454 },
  { name: "futex_wait", nr: 455 },
  { name: "futex_requeue", nr: 456 },
  { name: "statmount", nr: 457 },
  { name: "listmount", nr: 458 },
  { name: "lsm_get_self_attr", nr: 459 },
  { name: "lsm_set_self_attr", nr: 460 },
  { name: "lsm_list_modules", nr: 461 },
  { name: "mseal", nr: 462 },
  { name: "setxattrat", nr: 463 },
  { name: "getxattrat", nr: 464 },
  { name: "listxattrat", nr: 465 },
  { name: "removexattrat", nr: 466 },
  { name: "open_tree_attr", nr: 467 },
  { name: "file_getattr", nr: 468 },
  { name: "file_setattr", nr: 469 },
];

/** `__NR_*` macros that are bases or counts, not syscalls. */
const NOT_SYSCALLS = new Set([
  "syscalls",
  "SYSCALL_BASE",
  "OABI_SYSCALL_BASE",
  "SYSCALL_MASK",
  "arch_specific_syscall",
]);

async function macros(src: ArchSource): Promise<Map<string, string>> {
  const out = await new Deno.Command("cpp", {
    args: ["-dM", ...src.cppArgs, src.header],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`cpp ${src.header} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const defs = new Map<string, string>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^#define (\w+) (.+)$/.exec(line);
    if (m) defs.set(m[1], m[2].trim());
  }
  return defs;
}

/** Evaluates a macro body made of numbers, macro names, `+` and parentheses. */
function evaluate(expr: string, defs: Map<string, string>, depth = 0): number {
  if (depth > 16) throw new Error(`macro recursion too deep in ${expr}`);
  const tokens = expr.match(/0x[0-9a-fA-F]+|\d+|\w+|[()+]/g) ?? [];
  let sum = 0;
  for (const t of tokens) {
    if (t === "(" || t === ")" || t === "+") continue;
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) sum += Number(t);
    else if (defs.has(t)) sum += evaluate(defs.get(t)!, defs, depth + 1);
    else throw new Error(`undefined macro ${t} in ${expr}`);
  }
  return sum;
}

async function table(src: ArchSource): Promise<Map<string, number>> {
  const defs = await macros(src);
  const names = new Map<string, number>();
  for (const [macro, body] of defs) {
    let name: string | undefined;
    if (macro.startsWith("__NR_")) name = macro.slice(5);
    else if (src.armPrivate && macro.startsWith("__ARM_NR_") && macro !== "__ARM_NR_BASE") {
      name = macro.slice(9);
    }
    if (name === undefined || NOT_SYSCALLS.has(name)) continue;
    names.set(name, evaluate(body, defs));
  }
  for (const extra of UNIFIED_SINCE_HEADERS) {
    if (extra.only && !extra.only.includes(src.abi)) continue;
    if (!names.has(extra.name)) names.set(extra.name, extra.nr + (src.offset ?? 0));
  }
  return names;
}

function render(src: ArchSource, names: Map<string, number>): string {
  const sorted = [...names].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const hex = src.offset !== undefined;
  const lines = sorted.map(([n, nr]) => `  ${n}: ${hex ? "0x" + nr.toString(16) : nr},`);
  return [
    `// Generated by scripts/gen-syscall-tables.ts from ${src.header}; do not edit.`,
    `/** Syscall numbers of ${src.id}, by name (${names.size} entries). */`,
    `export const SYSCALLS_${src.id.toUpperCase()}: Readonly<Record<string, number>> = Object.freeze({`,
    ...lines,
    "});",
    "",
  ].join("\n");
}

if (import.meta.main) {
  const outDir = new URL("../src/seccomp/", import.meta.url);
  for (const src of SOURCES) {
    const names = await table(src);
    const file = new URL(`syscalls_${src.id}.ts`, outDir);
    await Deno.writeTextFile(file, render(src, names));
    console.log(`${file.pathname}: ${names.size} syscalls`);
  }
  const fmt = await new Deno.Command("deno", {
    args: ["fmt", ...SOURCES.map((s) => new URL(`syscalls_${s.id}.ts`, outDir).pathname)],
  }).output();
  if (!fmt.success) throw new Error("deno fmt of the generated tables failed");
}
