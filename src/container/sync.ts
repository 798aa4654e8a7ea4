/**
 * The setup protocol between runts and the container child over a SOCK_SEQPACKET
 * socketpair. Child → runts: 16-byte records {u32 code, u32 errno, i64 value};
 * a code below SYNC_BASE is a failed op's index (written by the interpreter).
 * runts → child: 8 bytes, "go on".
 */
export const SYNC_BASE = 0x10000;

export const Sync = {
  /** Child made its user namespace (if any): write id maps, join the cgroup, then go. */
  SETUP: SYNC_BASE + 1,
  /** From the intermediate process: value = pid of the container init (host pid). */
  PID: SYNC_BASE + 2,
  /** Carries the pty master as SCM_RIGHTS. */
  PTY: SYNC_BASE + 3,
  /** Mounts done, before pivot_root: createRuntime/createContainer hooks run now. */
  HOOKS: SYNC_BASE + 4,
  /** Everything but credentials and exec done: runts may do last host-side work. */
  READY: SYNC_BASE + 5,
  /** create: waiting on the exec fifo until `start`. */
  CREATED: SYNC_BASE + 6,
} as const;

export const SYNC_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Sync).map(([k, v]) => [v, k]),
);

export function syncRecord(code: number, value = 0n): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, code, true);
  v.setBigInt64(8, value, true);
  return b;
}
