/**
 * The bpf(2) commands runts needs for cgroup v2 device filters: load a program,
 * attach/detach it to a cgroup directory, list the attached programs, and get an fd
 * for one of them by id. Each builds its `union bpf_attr` in a zeroed buffer.
 */
import { sys, SyscallError, sysRaw } from "./ffi.ts";
import { SYS } from "./sysno.ts";

export const BPF_CMD = {
  PROG_LOAD: 5,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_GET_FD_BY_ID: 13,
  PROG_QUERY: 16,
} as const;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_OVERRIDE = 1;
export const BPF_F_ALLOW_MULTI = 2;
export const BPF_F_REPLACE = 4;

/** sizeof(union bpf_attr) runts passes: large enough for every command used here. */
const ATTR_SIZE = 128;

function ptr(buf: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

/**
 * BPF_PROG_LOAD. `insns` is the encoded program (8 bytes per instruction). On failure
 * the verifier log is part of the error message.
 */
export function bpfProgLoad(
  progType: number,
  insns: Uint8Array,
  license: string,
  expectedAttachType = 0,
): number {
  const attr = new Uint8Array(ATTR_SIZE);
  const v = new DataView(attr.buffer);
  const lic = new TextEncoder().encode(license + "\0");
  const log = new Uint8Array(64 * 1024);
  v.setUint32(0, progType, true);
  v.setUint32(4, insns.length / 8, true);
  v.setBigUint64(8, ptr(insns), true);
  v.setBigUint64(16, ptr(lic), true);
  v.setUint32(24, 1, true); // log_level
  v.setUint32(28, log.length, true);
  v.setBigUint64(32, ptr(log), true);
  v.setUint32(68, expectedAttachType, true);
  const r = sysRaw(SYS.bpf, [BPF_CMD.PROG_LOAD, attr, ATTR_SIZE]);
  if (r < 0n) {
    const end = log.indexOf(0);
    const text = new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end)).trim();
    throw new SyscallError("bpf(BPF_PROG_LOAD)", Number(-r), text ? `(verifier: ${text})` : "");
  }
  return Number(r);
}

/** BPF_PROG_ATTACH of `progFd` to the cgroup directory `targetFd`. */
export function bpfProgAttach(
  targetFd: number,
  progFd: number,
  attachType: number,
  flags: number,
  replaceFd = 0,
): void {
  const attr = new Uint8Array(ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, targetFd, true);
  v.setUint32(4, progFd, true);
  v.setUint32(8, attachType, true);
  v.setUint32(12, flags, true);
  v.setUint32(16, replaceFd, true);
  sys(SYS.bpf, [BPF_CMD.PROG_ATTACH, attr, ATTR_SIZE], "bpf(BPF_PROG_ATTACH)");
}

/** BPF_PROG_DETACH of `progFd` from `targetFd`. */
export function bpfProgDetach(targetFd: number, progFd: number, attachType: number): void {
  const attr = new Uint8Array(ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, targetFd, true);
  v.setUint32(4, progFd, true);
  v.setUint32(8, attachType, true);
  sys(SYS.bpf, [BPF_CMD.PROG_DETACH, attr, ATTR_SIZE], "bpf(BPF_PROG_DETACH)");
}

/** BPF_PROG_QUERY: ids of the programs attached to `targetFd` (not inherited ones). */
export function bpfProgQuery(targetFd: number, attachType: number): number[] {
  let size = 64;
  for (let attempt = 0; attempt < 10; attempt++) {
    const ids = new Uint32Array(size);
    const idBytes = new Uint8Array(ids.buffer);
    const attr = new Uint8Array(ATTR_SIZE);
    const v = new DataView(attr.buffer);
    v.setUint32(0, targetFd, true);
    v.setUint32(4, attachType, true);
    v.setBigUint64(16, ptr(idBytes), true);
    v.setUint32(24, size, true);
    const r = sysRaw(SYS.bpf, [BPF_CMD.PROG_QUERY, attr, ATTR_SIZE]);
    const count = v.getUint32(24, true);
    if (r === -28n /* ENOSPC: prog_cnt now holds the real count */) {
      size = Math.max(count, size * 2);
      continue;
    }
    if (r < 0n) throw new SyscallError("bpf(BPF_PROG_QUERY)", Number(-r));
    return [...ids.subarray(0, count)];
  }
  throw new SyscallError("bpf(BPF_PROG_QUERY)", 28, "(the list kept growing)");
}

/** BPF_PROG_GET_FD_BY_ID. */
export function bpfProgGetFdById(id: number): number {
  const attr = new Uint8Array(ATTR_SIZE);
  new DataView(attr.buffer).setUint32(0, id, true);
  return Number(
    sys(SYS.bpf, [BPF_CMD.PROG_GET_FD_BY_ID, attr, ATTR_SIZE], "bpf(BPF_PROG_GET_FD_BY_ID)"),
  );
}
