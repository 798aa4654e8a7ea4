/**
 * 32-bit x86 also reaches the socket and SysV IPC calls through the multiplexers
 * socketcall(call, args) and ipc(call, ...). libseccomp therefore adds every rule for
 * such a call on x86 a second time, as a rule for the multiplexer with argument 0 equal
 * to the call number (replacing any argument-0 check). Without this, a profile denying
 * `socket` could be bypassed with socketcall(SYS_SOCKET, ...).
 */
import type { Condition, Rule } from "./profile.ts";

const SOCKETCALL_X86 = 102;
const IPC_X86 = 117;

/** SYS_* numbers of <linux/net.h>. */
const SOCKET_CALLS: Readonly<Record<string, number>> = {
  socket: 1,
  bind: 2,
  connect: 3,
  listen: 4,
  accept: 5,
  getsockname: 6,
  getpeername: 7,
  socketpair: 8,
  send: 9,
  recv: 10,
  sendto: 11,
  recvfrom: 12,
  shutdown: 13,
  setsockopt: 14,
  getsockopt: 15,
  sendmsg: 16,
  recvmsg: 17,
  accept4: 18,
  recvmmsg: 19,
  sendmmsg: 20,
};

/** IPC call numbers of <linux/ipc.h>. */
const IPC_CALLS: Readonly<Record<string, number>> = {
  semop: 1,
  semget: 2,
  semctl: 3,
  semtimedop: 4,
  msgsnd: 11,
  msgrcv: 12,
  msgget: 13,
  msgctl: 14,
  shmat: 21,
  shmdt: 22,
  shmget: 23,
  shmctl: 24,
};

/** The multiplexer number and call number of `name` on x86, if it is multiplexed. */
export function x86Multiplexed(name: string): { nr: number; call: number } | undefined {
  if (Object.hasOwn(SOCKET_CALLS, name)) return { nr: SOCKETCALL_X86, call: SOCKET_CALLS[name] };
  if (Object.hasOwn(IPC_CALLS, name)) return { nr: IPC_X86, call: IPC_CALLS[name] };
  return undefined;
}

/** `rule` as a rule on the multiplexer: argument 0 must be the call number. */
export function multiplexedRule(rule: Rule, call: number): Rule {
  const selector: Condition = { index: 0, op: "EQ", value: BigInt(call), valueTwo: 0n };
  return {
    action: rule.action,
    conditions: [selector, ...rule.conditions.filter((c) => c.index !== 0)],
  };
}
