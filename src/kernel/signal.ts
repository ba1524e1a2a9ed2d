/**
 * Kernel-side signals: `cause_sig` stops a process and tells its signal manager; `send_sig`
 * raises a kernel signal on a system process and notifies it from SYSTEM. A process without
 * a live signal manager gets the default action here: it is terminated. The manager fetches
 * stopped processes with SYS_GETKSIG and releases them with SYS_ENDKSIG. Signal frames
 * (SYS_SIGSEND / SYS_SIGRETURN) run a process's signal entry before its interrupted code
 * resumes. MINIX: kernel/system.c `cause_sig`, `send_sig`; system/do_getksig.c,
 * do_endksig.c, do_sigsend.c, do_sigreturn.c (MINIX-SPEC §3.7, §6.7, §7.4).
 */
import { NONE, PM_PROC_NR, SYSTEM, type Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { M_TYPE } from "../include/message.ts";
import { PM_CALL_NR, PM_CALLS } from "../include/pm.ts";
import {
  SIGABRT,
  SIGBUS,
  SIGFPE,
  SIGILL,
  SIGKILL,
  SIGKSIG,
  SIGKSIGSM,
  SIGSEGV,
} from "../include/signal.ts";
import type { Kernel } from "./kernel.ts";
import { FROM_KERNEL, miniSend } from "./ipc/send.ts";
import { miniNotify } from "./ipc/notify.ts";
import { panic } from "./panic.ts";
import { SYS_PROC, USER_PRIV_ID } from "./priv.ts";
import { RTS_PROC_STOP, RTS_SIG_PENDING, RTS_SIGNALED, type Proc } from "./proc.ts";
import { exitProc } from "./clear.ts";
import { startSigEntry } from "./program.ts";

/** Signals whose default action ends a process; lethal for a signal manager itself. */
const LETHAL = new Set([SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGSEGV]);

/** `send_sig`: add kernel signal `sig` to `p`'s pending set and notify it from SYSTEM. */
export function sendSig(k: Kernel, p: Proc, sig: number): void {
  const priv = p.priv;
  if (priv === null) panic(`sendSig: ${p.name} has no privilege structure`);
  priv.sigPending |= 1 << sig;
  const system = k.procAddr(SYSTEM)!;
  miniNotify(k, system, p.endpoint);
}

/** `priv(p)->s_sig_mgr`, NONE without a privilege structure. */
export function sigMgrOf(p: Proc): Endpoint {
  return p.priv?.sigMgr ?? NONE;
}

/**
 * The process in PM's slot becomes the signal manager of every user process (the shared
 * user structure) with its first SYS_GETKSIG. MINIX fixes PM in the kernel's tables; here
 * images without a PM (or with a stand-in in its slot) keep the kernel's default actions.
 */
export function claimUserSignals(k: Kernel, caller: Proc): void {
  if (caller.nr !== (PM_PROC_NR as number)) return;
  const user = k.privs.byId(USER_PRIV_ID);
  if (user === undefined || user === caller.priv) return;
  if (k.isokendpt(user.sigMgr) === undefined) user.sigMgr = caller.endpoint;
}

/** The live signal manager of `p` other than `p` itself, if any. */
export function sigManager(k: Kernel, p: Proc): Proc | undefined {
  const mgrEp = sigMgrOf(p);
  if (mgrEp === NONE || mgrEp === p.endpoint) return undefined;
  return k.isokendpt(mgrEp);
}

/** `cause_sig`: signal `sig` for process `p`. */
export function causeSig(k: Kernel, p: Proc, sig: number): void {
  const priv = p.priv;
  if (priv === null) panic(`causeSig: ${p.name} has no privilege structure`);
  const mgrEp = sigMgrOf(p);
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

/**
 * `get_ksig`: the first process in slot order that is RTS_SIGNALED and managed by `mgr`;
 * its pending set is handed over (and cleared), it stays stopped by RTS_SIG_PENDING.
 */
export function takeKsig(k: Kernel, mgr: Proc): { p: Proc; sigs: number } | undefined {
  for (const p of k.procs) {
    if (p.isFree || p.isKernelTask || (p.rtsFlags & RTS_SIGNALED) === 0) continue;
    if (sigMgrOf(p) !== mgr.endpoint) continue;
    const sigs = p.sigPending;
    p.sigPending = 0;
    p.rtsFlags &= ~RTS_SIGNALED; // still stopped by RTS_SIG_PENDING: no queue change
    return { p, sigs };
  }
  return undefined;
}

/**
 * A process's program returned. A user process with a live signal manager (PM) exits through
 * it: the kernel sends the manager PM_EXIT with the status on the process's behalf (as it
 * sends VM_PAGEFAULT) and the process stays stopped until the manager clears it. In an image
 * booted through RS, a system process with a live manager other than itself gets SIGABRT, as
 * `sys_exit` gives it: its manager decides (restart, or cleanup when the exit was expected).
 * Anything else ends at once, as before PM and RS existed.
 */
export function programReturned(k: Kernel, p: Proc, status: number): void {
  p.gen = null;
  p.trap = null;
  p.trapIsIpc = false;
  if ((p.priv!.flags & SYS_PROC) !== 0) {
    if (!k.rootBoot || sigManager(k, p) === undefined) exitProc(k, p, status, "exit");
    else {
      k.setRts(p, RTS_PROC_STOP);
      causeSig(k, p, SIGABRT);
    }
    return;
  }
  const mgr = sigManager(k, p);
  if (mgr === undefined) {
    exitProc(k, p, status, "exit");
    return;
  }
  const m32 = k.kmsg32;
  m32.fill(0);
  m32[M_TYPE >>> 2] = PM_CALL_NR.PM_EXIT;
  m32[PM_CALLS.PM_EXIT.req.offsets.status >>> 2] = status >>> 0;
  k.setRts(p, RTS_PROC_STOP);
  if (miniSend(k, p, mgr, p.delivermsgVir, FROM_KERNEL, m32) !== OK) {
    exitProc(k, p, status, "exit");
  }
}

/**
 * Before `p` runs: push a frame for every due signal, in SYS_SIGSEND order, each saving the
 * code below it (the interrupted code, or the entry of the signal sent before) and starting
 * the signal entry in its place. The last signal sent runs first, and each SIGRETURN resumes
 * the code below: frames nest like MINIX's sigcontexts on the user stack, so the manager's
 * stack of masks to restore matches them. MINIX: the frames `sys_sigsend` pushes.
 */
export function enterSigFrames(k: Kernel, p: Proc): void {
  const entry = p.sigEntry;
  const ctx = p.context;
  const due = p.sigDeliver;
  if (entry === null || ctx === null) {
    due.length = 0;
    return;
  }
  for (const sig of due) {
    const gen = startSigEntry(entry, ctx, sig);
    if (gen === undefined) continue;
    p.sigFrames.push({
      gen: p.gen,
      retreg: p.retreg,
      ipcStatus: p.ipcStatus,
      trap: p.trap,
      trapIsIpc: p.trapIsIpc,
    });
    p.gen = gen;
    p.retreg = 0;
    p.trap = null;
    p.trapIsIpc = false;
    if (k.tracing) {
      k.emit({ kind: "trap", t: k.hw.clock.cycles, ep: p.endpoint, trap: `sig ${sig}` });
    }
  }
  due.length = 0;
}

/** `sigreturn`: the newest frame's code resumes with its registers; false if there is none. */
export function leaveSigFrame(p: Proc): boolean {
  const f = p.sigFrames.pop();
  if (f === undefined) return false;
  p.gen = f.gen;
  p.retreg = f.retreg;
  p.ipcStatus = f.ipcStatus;
  p.trap = f.trap;
  p.trapIsIpc = f.trapIsIpc;
  return true;
}

/** Forgets the signal entry and every frame (exec, slot freed). */
export function resetSigFrames(p: Proc): void {
  p.sigEntry = null;
  p.sigDeliver.length = 0;
  p.sigFrames.length = 0;
}
