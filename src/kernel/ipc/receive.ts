/**
 * RECEIVE (`mini_receive`): take, in this order, a pending notification (not inside SENDREC),
 * an asynchronous message, or the first queued sender that matches; otherwise block unless
 * non-blocking or deadlocked. MINIX: kernel/proc.c (MINIX-SPEC §2.5).
 */
import { ANY, type Endpoint } from "../../include/endpoint.ts";
import { EDEADSRCDST, ELOCKED, ENOTREADY, OK } from "../../include/errno.ts";
import { NOTIFY, RECEIVE, SEND, SENDREC } from "../../include/ipc.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Kernel } from "../kernel.ts";
import { copy16 } from "../../include/message.ts";
import {
  MF_ASYNMSG,
  MF_REPLY_PEND,
  MF_SENDING_FROM_KERNEL,
  RTS_NO_ENDPOINT,
  RTS_RECEIVING,
  RTS_SENDING,
  type Proc,
} from "../proc.ts";
import { buildNotify, deliver, ipcStatus } from "./common.ts";
import { deadlock } from "./deadlock.ts";
import { tryAsync, tryOne } from "./senda.ts";

/**
 * Receives into `msg` from `src` (an endpoint already validated, or ANY); `known` is the
 * process behind `src` when the caller has already looked it up.
 */
export function miniReceive(
  k: Kernel,
  caller: Proc,
  src: Endpoint,
  msg: VirAddr,
  nonBlocking: boolean,
  known?: Proc,
): number {
  caller.delivermsgVir = msg;
  let srcProc: Proc | undefined;
  if (src !== ANY) {
    srcProc = known ?? k.isokendpt(src);
    if (srcProc === undefined || (srcProc.rtsFlags & RTS_NO_ENDPOINT) !== 0) return EDEADSRCDST;
  }

  if ((caller.rtsFlags & RTS_SENDING) === 0) {
    if ((caller.miscFlags & MF_REPLY_PEND) === 0 && takeNotification(k, caller, src)) return OK;

    if ((caller.miscFlags & MF_ASYNMSG) !== 0) {
      const r = srcProc !== undefined ? tryOne(k, srcProc, caller) : tryAsync(k, caller);
      if (r === OK) return OK;
    }

    let prev: Proc | null = null;
    for (let s = caller.callerQ; s !== null; prev = s, s = s.qLink) {
      if (src !== ANY && s.endpoint !== src) continue;
      copy16(caller.delivermsg32, 0, s.sendmsg32, 0);
      const fromKernel = (s.miscFlags & MF_SENDING_FROM_KERNEL) !== 0;
      s.miscFlags &= ~MF_SENDING_FROM_KERNEL;
      if (prev === null) caller.callerQ = s.qLink;
      else prev.qLink = s.qLink;
      s.qLink = null;
      const call = (s.miscFlags & MF_REPLY_PEND) !== 0 ? SENDREC : SEND;
      k.clearRts(s, RTS_SENDING);
      deliver(k, caller, ipcStatus(call, fromKernel));
      return OK;
    }
  }

  if (nonBlocking) return ENOTREADY;
  if (deadlock(k, RECEIVE, caller, src)) return ELOCKED;
  caller.getfrom = src;
  k.setRts(caller, RTS_RECEIVING);
  return OK;
}

/** Delivers the lowest-id pending notification that matches `src`, if any. */
function takeNotification(k: Kernel, caller: Proc, src: Endpoint): boolean {
  const priv = caller.priv;
  if (priv === null) return false;
  const pending = priv.notifyPending;
  for (let id = pending.nextSet(0); id >= 0; id = pending.nextSet(id + 1)) {
    const owner = k.privs.byId(id);
    if (owner === undefined || owner.isFree) continue;
    const notifier = k.procAddr(owner.procNr);
    if (notifier === undefined) continue;
    if (src !== ANY && notifier.endpoint !== src) continue;
    pending.clear(id);
    buildNotify(k, notifier, caller);
    deliver(k, caller, NOTIFY);
    return true;
  }
  return false;
}
