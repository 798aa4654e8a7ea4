/**
 * The container process' identity: bounding set, groups, uid/gid and the capability
 * sets, in runc's order (bounding drop needs CAP_SETPCAP, so it comes first;
 * KEEPCAPS keeps the permitted set across setresuid).
 */
import { RuntsError } from "../errors.ts";
import { LINUX_CAPABILITY_VERSION_3, PR } from "../linux/constants.ts";
import type { ChildProgram } from "../linux/child.ts";
import { capabilityNumber } from "../spec/capabilities.ts";
import type { LinuxCapabilities, User } from "../spec/types.ts";

/** The highest capability this kernel knows (caps above it are skipped, as runc does). */
export function kernelLastCap(): number {
  try {
    return parseInt(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim(), 10);
  } catch {
    return 40;
  }
}

/** Capability names → a 64-bit mask, refusing unknown names. */
export function capMask(names: string[] | undefined, lastCap: number, where: string): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new RuntsError(`${where}: unknown capability "${name}"`);
    if (n <= lastCap) mask |= 1n << BigInt(n);
  }
  return mask;
}

export interface CredentialOptions {
  user: User;
  capabilities?: LinuxCapabilities;
  lastCap: number;
  /** In a user namespace where setgroups is denied (rootless), setgroups is skipped. */
  skipSetgroups: boolean;
}

export function emitBoundingSet(
  p: ChildProgram,
  caps: LinuxCapabilities | undefined,
  lastCap: number,
): void {
  const keep = capMask(caps?.bounding, lastCap, "process.capabilities.bounding");
  for (let c = 0; c <= lastCap; c++) {
    if ((keep & (1n << BigInt(c))) === 0n) {
      p.op("prctl", [PR.CAPBSET_DROP, c, 0, 0, 0], `drop capability ${c} from the bounding set`);
    }
  }
}

export function emitUser(p: ChildProgram, o: CredentialOptions): void {
  const { uid, gid } = o.user;
  if (!o.skipSetgroups) {
    const groups = o.user.additionalGids ?? [];
    const arr = new Uint8Array(Math.max(groups.length, 1) * 4);
    groups.forEach((g, i) => new DataView(arr.buffer).setUint32(i * 4, g, true));
    p.op("setgroups", [groups.length, p.bytes(arr)], `setgroups(${groups.join(",")})`);
  }
  p.op("prctl", [PR.SET_KEEPCAPS, 1, 0, 0, 0], "keep capabilities across setuid");
  p.op("setresgid", [gid, gid, gid], `setresgid(${gid})`);
  p.op("setresuid", [uid, uid, uid], `setresuid(${uid})`);
  p.op("prctl", [PR.SET_KEEPCAPS, 0, 0, 0, 0], "clear keep-capabilities");
}

export function emitCapabilities(
  p: ChildProgram,
  caps: LinuxCapabilities | undefined,
  lastCap: number,
): void {
  const eff = capMask(caps?.effective, lastCap, "process.capabilities.effective");
  const perm = capMask(caps?.permitted, lastCap, "process.capabilities.permitted");
  const inh = capMask(caps?.inheritable, lastCap, "process.capabilities.inheritable");
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, LINUX_CAPABILITY_VERSION_3, true);
  const data = new Uint8Array(24);
  const v = new DataView(data.buffer);
  const lo = (m: bigint) => Number(m & 0xffffffffn);
  const hi = (m: bigint) => Number(m >> 32n);
  [eff, perm, inh].forEach((m, i) => {
    v.setUint32(i * 4, lo(m), true);
    v.setUint32(12 + i * 4, hi(m), true);
  });
  p.op("capset", [p.bytes(header), p.bytes(data)], "set capabilities (capset)");
  p.op("prctl", [PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL, 0, 0, 0], "clear ambient capabilities", {
    ignore: 22, // EINVAL: kernel without ambient capabilities
  });
  capMask(caps?.ambient, lastCap, "process.capabilities.ambient"); // refuses unknown names
  for (const name of caps?.ambient ?? []) {
    const n = capabilityNumber(name)!;
    if (n > lastCap) continue;
    // The kernel allows only caps in both permitted and inheritable; runc ignores the
    // others (its default config lists ambient caps without inheritable ones).
    p.op(
      "prctl",
      [PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, n, 0, 0],
      `raise ambient capability ${name}`,
      {
        ignore: 1, // EPERM
      },
    );
  }
}
