/**
 * The IPC trap (`do_ipc` / `do_sync_ipc`): common checks in MINIX's order, then the
 * primitive. Every failure is a status for the caller's return register.
 * MINIX: kernel/proc.c (MINIX-SPEC §2.3, §2.6).
 */
import { ANY, type Endpoint } from "../../include/endpoint.ts";
import {
  EBADCALL,
  ECALLDENIED,
  EDEADSRCDST,
  EINVAL,
  ETRAPDENIED,
  OK,
} from "../../include/errno.ts";
import { NOTIFY, RECEIVE, SEND, SENDA, SENDNB, SENDREC, ipcCallName } from "../../include/ipc.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Kernel } from "../kernel.ts";
import { panic } from "../panic.ts";
import { MF_DELIVERMSG, MF_REPLY_PEND, type Proc } from "../proc.ts";
import { miniNotify } from "./notify.ts";
import { miniReceive } from "./receive.ts";
import { miniSenda } from "./senda.ts";
import { miniSend, NON_BLOCKING } from "./send.ts";

/** Handles an IPC trap from `caller`; the result goes into its return register. */
export function doIpc(k: Kernel, caller: Proc, call: number, srcDst: number, msg: VirAddr): number {
  const r =
    call === SENDA ? miniSenda(k, caller, msg, srcDst) : doSyncIpc(k, caller, call, srcDst, msg);
  if (k.tracing) {
    k.emit({
      kind: "ipc",
      t: k.hw.clock.cycles,
      call: ipcCallName(call),
      src: caller.endpoint,
      dst: srcDst,
      mtype: 0,
      result: r,
    });
  }
  return r;
}

function doSyncIpc(k: Kernel, caller: Proc, call: number, srcDst: number, msg: VirAddr): number {
  if ((caller.miscFlags & MF_DELIVERMSG) !== 0) {
    panic(`doSyncIpc: ${caller.name} trapped with an undelivered message`);
  }
  let peer: Proc | undefined;
  if (srcDst === ANY) {
    if (call !== RECEIVE) return EINVAL;
  } else {
    peer = k.isokendpt(srcDst);
    if (peer === undefined) return EDEADSRCDST;
    if (call !== RECEIVE) {
      const to = peer.priv;
      if (caller.priv === null || to === null || !caller.priv.ipcTo.has(to.id)) return ECALLDENIED;
    }
  }
  if (call < 0 || call > 31 || caller.priv === null || (caller.priv.trapMask & (1 << call)) === 0) {
    return ETRAPDENIED;
  }
  if (peer?.isKernelTask === true && call !== SENDREC && call !== RECEIVE) return ETRAPDENIED;

  const ep = srcDst as Endpoint;
  switch (call) {
    case SENDREC: {
      caller.miscFlags |= MF_REPLY_PEND;
      const r = miniSend(k, caller, peer!, msg, 0);
      if (r !== OK) return r;
      return miniReceive(k, caller, ep, msg, false, peer);
    }
    case SEND:
    case SENDNB:
      return miniSend(k, caller, peer!, msg, call === SENDNB ? NON_BLOCKING : 0);
    case RECEIVE:
      caller.miscFlags &= ~MF_REPLY_PEND;
      caller.ipcStatus = 0;
      return miniReceive(k, caller, ep, msg, false);
    case NOTIFY:
      return miniNotify(k, caller, ep);
    default:
      return EBADCALL;
  }
}
