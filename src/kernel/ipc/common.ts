/**
 * Pieces shared by the IPC primitives: the WILLRECEIVE test, handing a message that is already
 * in `dst.delivermsg` to the receiver, and building notification messages.
 * MINIX: kernel/proc.c (MINIX-SPEC §2.4–2.7, §2.11).
 */
import { HARDWARE, SYSTEM, ANY, type Endpoint } from "../../include/endpoint.ts";
import { M_SOURCE, M_TYPE } from "../../include/message.ts";
import { IPC_STATUS_FLAGS_SHIFT, NOTIFY_LAYOUT, notifyFrom } from "../../include/ipc.ts";
import { OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import { copyMsgToProc } from "../memory.ts";
import { MF_DELIVERMSG, MF_REPLY_PEND, RTS_RECEIVING, RTS_SENDING, type Proc } from "../proc.ts";

const ARG_WORD = NOTIFY_LAYOUT.offsets.arg >>> 2;
const TIMESTAMP_WORD = NOTIFY_LAYOUT.offsets.timestamp >>> 2;

/** `WILLRECEIVE(dst, src)`: dst waits in RECEIVE (not in a blocked send) for src or ANY. */
export function willReceive(dst: Proc, src: Endpoint): boolean {
  return (
    (dst.rtsFlags & (RTS_RECEIVING | RTS_SENDING)) === RTS_RECEIVING &&
    (dst.getfrom === ANY || dst.getfrom === src)
  );
}

/** The IPC status word for a message delivered by primitive `call`. */
export function ipcStatus(call: number, fromKernel: boolean): number {
  return fromKernel ? call | (1 << IPC_STATUS_FLAGS_SHIFT) : call;
}

/**
 * Completes a delivery whose bytes are already in `dst.delivermsg`: copy them to the buffer
 * dst named in RECEIVE, or, when that page is not present, keep them buffered for the
 * pre-run hook (MF_DELIVERMSG, which may ask VM); record the status word and end dst's
 * RECEIVE.
 */
export function deliver(k: Kernel, dst: Proc, status: number): void {
  if (copyMsgToProc(k, dst, dst.delivermsgVir, dst.delivermsg32) !== OK) {
    dst.miscFlags |= MF_DELIVERMSG;
  }
  received(k, dst, status);
}

/**
 * Completes a delivery whose bytes are already in dst's receive buffer. A SENDREC that got
 * its reply is over, so MF_REPLY_PEND is cleared as in MINIX's `mini_send`.
 */
export function received(k: Kernel, dst: Proc, status: number): void {
  dst.miscFlags &= ~MF_REPLY_PEND;
  dst.ipcStatus = status;
  dst.retreg = 0;
  k.clearRts(dst, RTS_RECEIVING);
}

/**
 * `BuildNotifyMessage`: writes the notification from `src` into `dst.delivermsg`. From
 * HARDWARE the argument is dst's pending interrupts, from SYSTEM its pending kernel signals
 * (both are then cleared); otherwise 0.
 */
export function buildNotify(k: Kernel, src: Proc, dst: Proc): void {
  const m32 = dst.delivermsg32;
  m32.fill(0);
  m32[M_SOURCE >>> 2] = src.endpoint >>> 0;
  m32[M_TYPE >>> 2] = notifyFrom(src.nr);
  let arg = 0;
  const priv = dst.priv;
  if (priv !== null) {
    if (src.endpoint === HARDWARE) {
      arg = priv.intPending;
      priv.intPending = 0;
    } else if (src.endpoint === SYSTEM) {
      arg = priv.sigPending;
      priv.sigPending = 0;
    }
  }
  m32[ARG_WORD] = arg >>> 0;
  m32[TIMESTAMP_WORD] = k.ticks >>> 0;
}
