/**
 * Signals (MINIX-SPEC §7.4): kill, srv_kill, sigaction, sigprocmask, sigsuspend, pause,
 * sigreturn, and the kernel signals PM fetches as the manager of user processes.
 *
 * `sigProc` decides for one signal and one process:
 * - a system process: a signal that does not come from the kernel is re-routed through the
 *   kernel (sys_kill) so the process's own signal manager (RS) decides; one that PM got as
 *   its manager (ksig) exits it if it terminates by default, else is dropped (PM sends no
 *   SIGS_SIGNAL_RECEIVED messages yet);
 * - a user process: SIGKILL always terminates. Raised by the kernel, SIGILL, SIGTRAP, SIGBUS,
 *   SIGFPE and SIGSEGV cannot be ignored, blocked or caught: they terminate. Ignored signals
 *   (and default-ignored SIGCHLD) are dropped; blocked ones stay pending until unblocked;
 *   caught ones interrupt a wait in PM (EINTR) and get a signal frame (sys_sigsend) with the
 *   handler's mask added; everything else terminates (there are no core files: the wait
 *   status names the signal only).
 * INIT ignores every signal it does not catch unless the kernel raised it.
 * kill permission (no uids): a user process may signal user processes only (a system
 * process: EPERM); system processes may signal every process. pid -1 means every user
 * process except INIT and the caller.
 * MINIX: servers/pm/signal.c.
 */
import { NONE, PM_PROC_NR, VM_PROC_NR } from "../../include/endpoint.ts";
import { EINTR, EINVAL, EPERM, ESRCH, OK } from "../../include/errno.ts";
import {
  INIT_PID,
  SIG_BLOCK,
  SIG_CATCH,
  SIG_DFL,
  SIG_IGN,
  SIG_SETMASK,
  SIG_UNBLOCK,
  type PmReq,
} from "../../include/pm.ts";
import {
  NSIG,
  SIGBUS,
  SIGCHLD,
  SIGFPE,
  SIGILL,
  SIGKILL,
  SIGSEGV,
  SIGTRAP,
} from "../../include/signal.ts";
import type { Syscall } from "../../lib/ipc.ts";
import {
  sysEndksig,
  sysGetksig,
  sysKill,
  sysSigreturn,
  sysSigsend,
} from "../../lib/libsys/sys_signal.ts";
import { exitProcess } from "./forkexit.ts";
import { PAUSED, PRIV_PROC, SIGSUSPENDED, WAITING, type Mproc } from "./mproc.ts";
import { NO_REPLY, type Pm, type PmAnswer } from "./pm.ts";
import { vmNotifySig } from "./vmnotify.ts";

const bit = (sig: number): number => (1 << sig) >>> 0;
const setOf = (...sigs: number[]): number => sigs.reduce((s, x) => (s | bit(x)) >>> 0, 0);

/** Signals whose default action is to ignore them. */
const IGNORE_DEFAULT = setOf(SIGCHLD);
/** Kernel-raised signals that cannot be ignored, blocked or caught. */
const KERNEL_FORCED = setOf(SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV);
/** Signals that can never be blocked or caught. */
const UNCATCHABLE = setOf(SIGKILL);

function validSig(sig: number): boolean {
  return Number.isInteger(sig) && sig > 0 && sig < NSIG;
}

/** Whether `sig` ends a process that takes the default action. */
export function terminatesByDefault(sig: number): boolean {
  return (IGNORE_DEFAULT & bit(sig)) === 0;
}

/** `sig_proc`: deliver `sig` to `mp` (see the file comment). */
export function* sigProc(pm: Pm, mp: Mproc, sig: number, ksig: boolean): Syscall<void> {
  if (!mp.alive || !validSig(sig)) return;
  const b = bit(sig);
  if ((mp.flags & PRIV_PROC) !== 0) {
    if (!ksig) yield* sysKill(pm.ctx, mp.endpoint, sig);
    else if (terminatesByDefault(sig)) yield* exitProcess(pm, mp, 0, sig);
    return;
  }
  const act = mp.sigActs[sig]!;
  // INIT only gets the signals it catches (and the kernel's): it must not die of a kill.
  if (mp.pid === INIT_PID && !ksig && act.handler !== SIG_CATCH) return;
  const forced = sig === SIGKILL || (ksig && (KERNEL_FORCED & b) !== 0);
  if (!forced) {
    if (act.handler === SIG_IGN) return;
    if (act.handler === SIG_DFL && !terminatesByDefault(sig)) return;
    if ((mp.sigMask & b) !== 0) {
      mp.sigPending = (mp.sigPending | b) >>> 0;
      return;
    }
    if (act.handler === SIG_CATCH) {
      yield* catchSig(pm, mp, sig);
      return;
    }
  }
  yield* exitProcess(pm, mp, 0, sig);
}

/** A caught signal: end a wait in PM with EINTR, push a frame, block the handler's mask. */
function* catchSig(pm: Pm, mp: Mproc, sig: number): Syscall<void> {
  const restore = (mp.flags & SIGSUSPENDED) !== 0 ? mp.suspendMask : mp.sigMask;
  const r = yield* sysSigsend(pm.ctx, mp.endpoint, sig);
  if (r !== OK) {
    // No signal entry to run: the signal cannot be caught after all.
    yield* exitProcess(pm, mp, 0, sig);
    return;
  }
  mp.frameMasks.push(restore);
  mp.sigMask = (mp.sigMask | mp.sigActs[sig]!.mask | bit(sig)) >>> 0;
  mp.sigMask &= ~UNCATCHABLE;
  yield* vmNotifySig(pm, mp.endpoint);
  if ((mp.flags & (WAITING | PAUSED)) !== 0) {
    const wasPaused = (mp.flags & PAUSED) !== 0;
    mp.flags &= ~(WAITING | PAUSED | SIGSUSPENDED);
    yield* pm.reply(mp.endpoint, wasPaused ? "PM_PAUSE" : "PM_WAITPID", EINTR);
  }
}

/** Delivers pending signals that are no longer blocked, lowest first. */
export function* checkPending(pm: Pm, mp: Mproc): Syscall<void> {
  for (let sig = 1; sig < NSIG && mp.alive; sig++) {
    const b = bit(sig);
    if ((mp.sigPending & b) === 0 || (mp.sigMask & b) !== 0) continue;
    mp.sigPending = (mp.sigPending & ~b) >>> 0;
    yield* sigProc(pm, mp, sig, false);
  }
}

/** The processes `pid` names for `caller` (kill's rules), alive ones only. */
function targets(pm: Pm, caller: Mproc, pid: number): Mproc[] {
  const live = pm.table.procs.filter((mp) => mp.alive);
  if (pid > 0) return live.filter((mp) => mp.pid === pid);
  if (pid === 0) return live.filter((mp) => mp.pgrp === caller.pgrp);
  if (pid === -1)
    return live.filter(
      (mp) => mp !== caller && mp.pid !== INIT_PID && (mp.flags & PRIV_PROC) === 0,
    );
  return live.filter((mp) => mp.pgrp === -pid);
}

/** Processes PM never signals on request: itself and VM. */
function untouchable(mp: Mproc): boolean {
  return mp.slot === (PM_PROC_NR as number) || mp.slot === (VM_PROC_NR as number);
}

export function* doKill(pm: Pm, mp: Mproc, req: PmReq<"PM_KILL">): Syscall<PmAnswer<"PM_KILL">> {
  const { pid, sig } = req;
  if (!Number.isInteger(sig) || sig < 0 || sig >= NSIG) return EINVAL;
  const ts = targets(pm, mp, pid);
  if (ts.length === 0) return ESRCH;
  const allowed = ts.filter(
    (t) => !untouchable(t) && ((mp.flags & PRIV_PROC) !== 0 || (t.flags & PRIV_PROC) === 0),
  );
  if (allowed.length === 0) return EPERM;
  if (sig === 0) return OK;
  const self = allowed.includes(mp);
  for (const t of allowed) if (t !== mp) yield* sigProc(pm, t, sig, false);
  if (!self) return OK;
  // Signalling oneself: answer first, so a handler runs before kill returns.
  yield* pm.reply(mp.endpoint, "PM_KILL", OK);
  yield* sigProc(pm, mp, sig, false);
  return NO_REPLY;
}

export function* doSrvKill(
  pm: Pm,
  mp: Mproc,
  req: PmReq<"PM_SRV_KILL">,
): Syscall<PmAnswer<"PM_SRV_KILL">> {
  if (!pm.isRs(mp)) return EPERM;
  if (!validSig(req.sig)) return EINVAL;
  const t = pm.table.byPid(req.pid);
  if (t === undefined) return ESRCH;
  if (untouchable(t)) return EPERM;
  // Treated as a kernel signal: a terminating signal exits the process at once.
  if (terminatesByDefault(req.sig)) {
    yield* exitProcess(pm, t, 0, req.sig);
  } else {
    yield* sigProc(pm, t, req.sig, true);
  }
  return OK;
}

export function doSigaction(
  _pm: Pm,
  mp: Mproc,
  req: PmReq<"PM_SIGACTION">,
): PmAnswer<"PM_SIGACTION"> {
  const { sig, handler, mask } = req;
  if (!validSig(sig)) return EINVAL;
  if (handler !== SIG_DFL && handler !== SIG_IGN && handler !== SIG_CATCH) return EINVAL;
  if ((UNCATCHABLE & bit(sig)) !== 0 && handler !== SIG_DFL) return EINVAL;
  if (handler === SIG_CATCH && (mp.flags & PRIV_PROC) !== 0) return EPERM;
  const act = mp.sigActs[sig]!;
  const old = { handler: act.handler, mask: act.mask };
  act.handler = handler;
  act.mask = (mask & ~UNCATCHABLE) >>> 0;
  if (handler === SIG_IGN || (handler === SIG_DFL && !terminatesByDefault(sig)))
    mp.sigPending = (mp.sigPending & ~bit(sig)) >>> 0;
  return old;
}

export function* doSigprocmask(
  pm: Pm,
  mp: Mproc,
  req: PmReq<"PM_SIGPROCMASK">,
): Syscall<PmAnswer<"PM_SIGPROCMASK">> {
  const old = mp.sigMask;
  const set = (req.set & ~UNCATCHABLE) >>> 0;
  if (req.how === SIG_BLOCK) mp.sigMask = (old | set) >>> 0;
  else if (req.how === SIG_UNBLOCK) mp.sigMask = (old & ~set) >>> 0;
  else if (req.how === SIG_SETMASK) mp.sigMask = set;
  else return EINVAL;
  yield* pm.reply(mp.endpoint, "PM_SIGPROCMASK", { mask: old });
  yield* checkPending(pm, mp);
  return NO_REPLY;
}

export function* doSigsuspend(
  pm: Pm,
  mp: Mproc,
  req: PmReq<"PM_SIGSUSPEND">,
): Syscall<PmAnswer<"PM_SIGSUSPEND">> {
  mp.suspendMask = mp.sigMask;
  mp.sigMask = (req.mask & ~UNCATCHABLE) >>> 0;
  mp.flags |= PAUSED | SIGSUSPENDED;
  yield* checkPending(pm, mp);
  return NO_REPLY;
}

export function doPause(_pm: Pm, mp: Mproc): PmAnswer<"PM_PAUSE"> {
  mp.flags |= PAUSED;
  return NO_REPLY;
}

export function* doSigreturn(pm: Pm, mp: Mproc): Syscall<PmAnswer<"PM_SIGRETURN">> {
  const mask = mp.frameMasks.at(-1);
  if (mask === undefined) return EINVAL;
  const r = yield* sysSigreturn(pm.ctx, mp.endpoint);
  if (r !== OK) return r;
  mp.frameMasks.pop();
  mp.sigMask = mask;
  yield* checkPending(pm, mp);
  return NO_REPLY;
}

/**
 * SIGKSIG: fetch every process PM manages with kernel signals, deliver each signal as a
 * kernel signal, and release the processes that are still alive.
 */
export function* processKsigs(pm: Pm): Syscall<void> {
  for (;;) {
    const r = yield* sysGetksig(pm.ctx);
    if (typeof r === "number" || r.endpoint === NONE) return;
    const mp = pm.table.byEndpoint(r.endpoint);
    if (mp !== undefined) {
      for (let sig = 1; sig < NSIG; sig++) {
        if ((r.sigs & bit(sig)) !== 0) yield* sigProc(pm, mp, sig, true);
      }
    }
    if (mp === undefined || mp.alive) yield* sysEndksig(pm.ctx, r.endpoint);
  }
}
