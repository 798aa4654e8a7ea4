/**
 * Installing the cgroup v2 device filter (devices_bpf.ts) on a cgroup2 directory:
 * BPF_PROG_LOAD, then BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI, replacing whatever
 * device program runts (or anyone) attached there before, as runc does:
 *
 * - exactly one old program: attach with BPF_F_REPLACE (atomic swap, kernel >= 5.6);
 * - otherwise, or when the kernel rejects BPF_F_REPLACE with EINVAL (older kernels,
 *   the fallback): attach the new program next to the old ones, then detach each old
 *   one. Between the two steps both filters apply, and a request must pass both, so
 *   the container never gets more access than either set of rules allows.
 * - kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK: when BPF_PROG_LOAD fails
 *   with EPERM, runts raises its own RLIMIT_MEMLOCK to infinity (not inherited by the
 *   container, which is already running or gets its rlimits from config) and retries.
 *
 * Old programs that runts may not open (EPERM/EACCES from an LSM) are left attached:
 * device programs only ever restrict, so leaving one cannot widen access.
 */
import { RuntsError } from "../errors.ts";
import type { LinuxDeviceCgroup } from "../spec/types.ts";
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_F_REPLACE,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgAttach,
  bpfProgDetach,
  bpfProgGetFdById,
  bpfProgLoad,
  bpfProgQuery,
} from "../linux/bpf.ts";
import { O } from "../linux/constants.ts";
import { ERRNO } from "../linux/errno.ts";
import { sys, SyscallError } from "../linux/ffi.ts";
import { SYS } from "../linux/sysno.ts";
import { close, openat } from "../linux/syscalls.ts";
import { DEVICE_FILTER_LICENSE, deviceFilterProgram, encodeProgram } from "./devices_bpf.ts";

const RLIMIT_MEMLOCK = 8;

function raiseMemlock(): void {
  const rlim = new BigUint64Array([0xffffffffffffffffn, 0xffffffffffffffffn]);
  sys(SYS.prlimit64, [0, RLIMIT_MEMLOCK, new Uint8Array(rlim.buffer), null], "prlimit64");
}

function load(program: Uint8Array): number {
  const go = () =>
    bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, program, DEVICE_FILTER_LICENSE, BPF_CGROUP_DEVICE);
  try {
    return go();
  } catch (e) {
    if (!(e instanceof SyscallError) || e.errno !== ERRNO.EPERM) throw e;
    raiseMemlock();
    return go();
  }
}

/** fds of the device programs attached to the cgroup (skipping ones we may not open). */
function attachedPrograms(dirFd: number): number[] {
  const fds: number[] = [];
  for (const id of bpfProgQuery(dirFd, BPF_CGROUP_DEVICE)) {
    try {
      fds.push(bpfProgGetFdById(id));
    } catch (e) {
      const errno = e instanceof SyscallError ? e.errno : undefined;
      if (errno === ERRNO.EPERM || errno === ERRNO.EACCES || errno === ERRNO.ENOENT) continue;
      throw e;
    }
  }
  return fds;
}

/** Load the filter for `rules` and make it the only runts device program of `dir`. */
export function attachDeviceFilter(dir: string, rules: LinuxDeviceCgroup[]): void {
  const program = encodeProgram(deviceFilterProgram(rules));
  let dirFd = -1;
  const fds: number[] = [];
  try {
    dirFd = openat(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC);
    const old = attachedPrograms(dirFd);
    fds.push(...old);
    const progFd = load(program);
    fds.push(progFd);
    if (old.length === 1) {
      try {
        bpfProgAttach(dirFd, progFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI | BPF_F_REPLACE, old[0]);
        return;
      } catch (e) {
        if (!(e instanceof SyscallError) || e.errno !== ERRNO.EINVAL) throw e;
        // No BPF_F_REPLACE (kernel < 5.6): attach, then detach below.
      }
    }
    bpfProgAttach(dirFd, progFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
    for (const fd of old) bpfProgDetach(dirFd, fd, BPF_CGROUP_DEVICE);
  } catch (e) {
    throw new RuntsError(
      `/linux/resources/devices: cannot install the cgroup v2 device filter on ${dir}: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  } finally {
    for (const fd of fds) close(fd);
    if (dirFd >= 0) close(dirFd);
  }
}

/** Ids of the device programs attached to `dir` (for tests and diagnostics). */
export function attachedDeviceFilterIds(dir: string): number[] {
  const dirFd = openat(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC);
  try {
    return bpfProgQuery(dirFd, BPF_CGROUP_DEVICE);
  } finally {
    close(dirFd);
  }
}
