/**
 * SEND and SENDNB (`mini_send`): deliver at once to a receiver waiting for the caller,
 * otherwise capture the message and queue the caller on the destination (FIFO), unless
 * non-blocking or deadlocked. MINIX: kernel/proc.c (MINIX-SPEC §2.4, §2.12).
 */
import { EDEADSRCDST, EFAULT, EFAULT_SRC, ELOCKED, ENOTREADY, OK } from "../../include/errno.ts";
import { SEND, SENDNB, SENDREC } from "../../include/ipc.ts";
import { M_SOURCE } from "../../include/message.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Kernel } from "../kernel.ts";
import { copyMsgBetween, copyMsgFromProc } from "../memory.ts";
import {
  MF_REPLY_PEND,
  MF_SENDING_FROM_KERNEL,
  RTS_NO_ENDPOINT,
  RTS_SENDING,
  type Proc,
} from "../proc.ts";
import { deliver, ipcStatus, received, willReceive } from "./common.ts";
import { deadlock } from "./deadlock.ts";

export const NON_BLOCKING = 1;
export const FROM_KERNEL = 2;

/**
 * Sends from `caller` to `dst`. The message is read from `msg` in the caller's memory, or,
 * with FROM_KERNEL, from `kbuf` (a kernel-built message sent on the caller's behalf).
 */
export function miniSend(
  k: Kernel,
  caller: Proc,
  dst: Proc,
  msg: VirAddr,
  flags: number,
  kbuf: Uint32Array | null = null,
): number {
  if ((dst.rtsFlags & RTS_NO_ENDPOINT) !== 0) return EDEADSRCDST;
  const fromKernel = (flags & FROM_KERNEL) !== 0;

  if (willReceive(dst, caller.endpoint)) {
    const call =
      (caller.miscFlags & MF_REPLY_PEND) !== 0
        ? SENDREC
        : (flags & NON_BLOCKING) !== 0
          ? SENDNB
          : SEND;
    const status = ipcStatus(call, fromKernel);
    if (kbuf === null) {
      const r = copyMsgBetween(k, caller, msg, dst, dst.delivermsgVir, caller.endpoint);
      if (r === OK) {
        received(k, dst, status);
        return OK;
      }
      if (r === EFAULT_SRC || copyMsgFromProc(k, caller, msg, dst.delivermsg32) !== OK) {
        return EFAULT;
      }
    } else {
      dst.delivermsg32.set(kbuf);
    }
    dst.delivermsg32[M_SOURCE >>> 2] = caller.endpoint >>> 0;
    deliver(k, dst, status);
    return OK;
  }

  if ((flags & NON_BLOCKING) !== 0) return ENOTREADY;
  if (deadlock(k, SEND, caller, dst.endpoint)) return ELOCKED;
  if (kbuf !== null) {
    caller.sendmsg32.set(kbuf);
    caller.miscFlags |= MF_SENDING_FROM_KERNEL;
  } else if (copyMsgFromProc(k, caller, msg, caller.sendmsg32) !== OK) {
    return EFAULT;
  }
  caller.sendmsg32[M_SOURCE >>> 2] = caller.endpoint >>> 0;
  k.setRts(caller, RTS_SENDING);
  caller.sendto = dst.endpoint;
  caller.qLink = null;
  if (dst.callerQ === null) {
    dst.callerQ = caller;
  } else {
    let x = dst.callerQ;
    while (x.qLink !== null) x = x.qLink;
    x.qLink = caller;
  }
  return OK;
}
