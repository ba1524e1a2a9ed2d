/**
 * Kernel-side signals: `cause_sig` stops a process and tells its signal manager; `send_sig`
 * raises a kernel signal on a system process and notifies it from SYSTEM. Until PM and RS
 * exist, a process without a live signal manager gets the default action here: it is
 * terminated. MINIX: kernel/system.c (MINIX-SPEC §3.7).
 */
import { SYSTEM } from "../include/endpoint.ts";
import { SIGKSIG, SIGKSIGSM } from "../include/signal.ts";
import type { Kernel } from "./kernel.ts";
import { miniNotify } from "./ipc/notify.ts";
import { panic } from "./panic.ts";
import { RTS_SIG_PENDING, RTS_SIGNALED, type Proc } from "./proc.ts";
import { exitProc } from "./clear.ts";

/** Signals whose default action ends a process; lethal for a signal manager itself. */
const LETHAL = new Set([4, 6, 7, 8, 9, 11]);

/** `send_sig`: add kernel signal `sig` to `p`'s pending set and notify it from SYSTEM. */
export function sendSig(k: Kernel, p: Proc, sig: number): void {
  const priv = p.priv;
  if (priv === null) panic(`sendSig: ${p.name} has no privilege structure`);
  priv.sigPending |= 1 << sig;
  const system = k.procAddr(SYSTEM)!;
  miniNotify(k, system, p.endpoint);
}

/** `cause_sig`: signal `sig` for process `p`. */
export function causeSig(k: Kernel, p: Proc, sig: number): void {
  const priv = p.priv;
  if (priv === null) panic(`causeSig: ${p.name} has no privilege structure`);
  const mgrEp = priv.sigMgr;
  if (mgrEp === p.endpoint) {
    if (LETHAL.has(sig)) panic(`${p.name} (its own signal manager) got lethal signal ${sig}`);
    priv.sigPending |= 1 << sig;
    sendSig(k, p, SIGKSIGSM);
    return;
  }
  const mgr = k.isokendpt(mgrEp);
  if (mgr === undefined) {
    exitProc(k, p, -sig, `signal ${sig}`);
    return;
  }
  const bit = 1 << sig;
  if ((p.sigPending & bit) !== 0) return;
  p.sigPending |= bit;
  if ((p.rtsFlags & RTS_SIGNALED) === 0) {
    k.setRts(p, RTS_SIGNALED | RTS_SIG_PENDING);
    sendSig(k, mgr, SIGKSIG);
  }
}
