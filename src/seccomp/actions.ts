/** OCI seccomp action names -> the 32-bit SECCOMP_RET_* value a filter returns. */
import { RuntsError } from "../errors.ts";

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
/** The 16 data bits of SECCOMP_RET_ERRNO / SECCOMP_RET_TRACE. */
export const SECCOMP_RET_DATA = 0x0000ffff;

const EPERM = 1;
export const ENOSYS = 38;

/** Actions without a data field; SCMP_ACT_KILL is libseccomp's old name for KILL_THREAD. */
const PLAIN: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET_KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET_TRAP,
  SCMP_ACT_ALLOW: SECCOMP_RET_ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET_LOG,
};

/** SECCOMP_RET_ERRNO with `errno` in the data bits. */
export function retErrno(errno: number): number {
  return (SECCOMP_RET_ERRNO | (errno & SECCOMP_RET_DATA)) >>> 0;
}

/**
 * The return value for `action`. `errnoRet` is only meaningful for SCMP_ACT_ERRNO (the
 * errno) and SCMP_ACT_TRACE (the tracer's message); both default to EPERM, as in runc.
 * `where` names the JSON field in error messages.
 */
export function actionValue(action: unknown, errnoRet: unknown, where: string): number {
  if (action === "SCMP_ACT_NOTIFY") {
    throw new RuntsError(
      `${where}: SCMP_ACT_NOTIFY is not supported: runts has no seccomp user-notification (agent) support`,
    );
  }
  if (action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE") {
    const data = errnoRet === undefined ? EPERM : checkErrnoRet(errnoRet, where);
    const base = action === "SCMP_ACT_ERRNO" ? SECCOMP_RET_ERRNO : SECCOMP_RET_TRACE;
    return (base | data) >>> 0;
  }
  if (typeof action === "string" && Object.hasOwn(PLAIN, action)) {
    if (errnoRet !== undefined) {
      throw new RuntsError(
        `${where}: errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${action}`,
      );
    }
    return PLAIN[action];
  }
  throw new RuntsError(`${where}: unknown seccomp action ${JSON.stringify(action)}`);
}

function checkErrnoRet(errnoRet: unknown, where: string): number {
  if (
    typeof errnoRet !== "number" || !Number.isInteger(errnoRet) || errnoRet < 0 ||
    errnoRet > SECCOMP_RET_DATA
  ) {
    throw new RuntsError(
      `${where}: errnoRet ${JSON.stringify(errnoRet)} must be an integer from 0 to 65535`,
    );
  }
  return errnoRet;
}
