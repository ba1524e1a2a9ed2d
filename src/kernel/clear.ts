/**
 * Process death: `clear_endpoint` releases every IPC reference to a dying process (blocked
 * peers get EDEADSRCDST), then the slot is freed. MINIX: kernel/system.c `clear_endpoint`,
 * `clear_proc` (MINIX-SPEC §2.13).
 */
import { NONE } from "../include/endpoint.ts";
import { EDEADSRCDST, OK } from "../include/errno.ts";
import type { Kernel } from "./kernel.ts";
import { blockedOn } from "./ipc/deadlock.ts";
import { clearMappings } from "./mapinfo.ts";
import { panic } from "./panic.ts";
import { SYS_PROC } from "./priv.ts";
import { RTS_NO_ENDPOINT, RTS_RECEIVING, RTS_SENDING, RTS_SLOT_FREE, type Proc } from "./proc.ts";
import { resetSigFrames } from "./signal.ts";
import { dropVmRequest } from "./vmrequest.ts";

/** Steps 1–3: make `rc` unreachable and release everyone blocked on it. */
export function clearEndpoint(k: Kernel, rc: Proc): void {
  if (rc.isFree) panic(`clearEndpoint: slot ${rc.nr} is already free`);
  k.setRts(rc, RTS_NO_ENDPOINT);
  const priv = rc.priv;
  const ownPriv = priv !== null && (priv.flags & SYS_PROC) !== 0 && priv.procNr === rc.nr;
  if (ownPriv) priv.asynsize = 0;

  clearMappings(k, rc);
  if ((rc.rtsFlags & RTS_SENDING) !== 0) unlinkSender(k, rc);
  rc.rtsFlags &= ~(RTS_SENDING | RTS_RECEIVING);

  for (let s = rc.callerQ; s !== null;) {
    const next = s.qLink;
    s.qLink = null;
    s = next;
  }
  rc.callerQ = null;

  for (const rp of k.procs) {
    if (rp.isFree || rp === rc) continue;
    if (priv !== null) rp.priv?.notifyPending.clear(priv.id);
    if (blockedOn(rp) === rc.endpoint) {
      rp.retreg = EDEADSRCDST;
      rp.qLink = null;
      k.clearRts(rp, RTS_SENDING | RTS_RECEIVING);
    }
  }
}

/** Removes `p` from the caller queue of the process it is sending to. */
function unlinkSender(k: Kernel, p: Proc): void {
  const dst = k.isokendpt(p.sendto);
  if (dst === undefined) return;
  let prev: Proc | null = null;
  for (let x = dst.callerQ; x !== null; prev = x, x = x.qLink) {
    if (x !== p) continue;
    if (prev === null) dst.callerQ = x.qLink;
    else prev.qLink = x.qLink;
    x.qLink = null;
    return;
  }
}

/** Step 4 (`clear_proc`): cancel the alarm, free the privilege structure and the slot. */
export function freeSlot(k: Kernel, rc: Proc): void {
  const priv = rc.priv;
  if (priv !== null && (priv.flags & SYS_PROC) !== 0 && priv.procNr === rc.nr) {
    k.timers.cancel(priv);
    priv.reset();
  }
  dropVmRequest(k, rc);
  rc.vmreq.result = OK;
  if (rc.rtsFlags === 0) k.rq.dequeue(rc);
  rc.rtsFlags = RTS_SLOT_FREE;
  rc.miscFlags = 0;
  rc.priv = null;
  rc.getfrom = NONE;
  rc.sendto = NONE;
  rc.sigPending = 0;
  rc.gen = null;
  rc.trap = null;
  rc.trapIsIpc = false;
  rc.program = null;
  rc.forkEntry = null;
  resetSigFrames(rc);
  rc.context = null;
  if (k.current === rc) k.current = null;
}

/** Ends `rc`: clears its endpoint, frees its slot and reports the exit. */
export function exitProc(k: Kernel, rc: Proc, status: number, reason: string): void {
  if (rc.isFree) return;
  clearEndpoint(k, rc);
  freeSlot(k, rc);
  k.emit({ kind: "exit", t: k.hw.clock.cycles, ep: rc.endpoint, status, reason });
}
