/**
 * RS keeping services alive (MINIX servers/rs/manager.c, MINIX-SPEC §6.6–6.9):
 * - `manageSignals`: RS is the signal manager of every system service. On SIGKSIG it fetches
 *   each signalled process (`sys_getksig`); a termination signal (SIGILL, SIGBUS, SIGFPE,
 *   SIGSEGV, SIGEMT, SIGABRT, SIGKILL, SIGPIPE) ends the service (`terminate`), any other is
 *   forwarded to it as SIGS_SIGNAL_RECEIVED and the process goes on (`sys_endksig`).
 * - `terminate`: an expected death (RS_DOWN) frees the record — a core service's is a panic;
 *   a refresh restarts at once; a death during init stops the service; otherwise the first
 *   death restarts at once and later ones wait min(2^restarts, MAX_BACKOFF) RS periods.
 * - `startService`: srv_fork (the child waits in RTS_NO_PRIV), SET_SYS with a dynamic id,
 *   srv_exec of the program copy, ALLOW, RS_INIT — a new endpoint under the same label.
 *   Without a copy of the program a service cannot be restarted; for a core service
 *   (SF_CORE_SRV) that is a system panic naming it.
 * - `doPeriod`: every RS_DELTA_T ticks: backoffs count down, a SIGTERM that was ignored for
 *   2·RS_DELTA_T becomes SIGKILL, services with a period are pinged, and one that missed two
 *   periods (RS_INIT_T while initialising) is killed and so restarted.
 * The dead instance is cleaned up through PM (srv_kill, then reaped with waitpid WNOHANG).
 */
import { NONE, SELF, type Endpoint } from "../../include/endpoint.ts";
import { EDEADSRCDST, EPERM, OK } from "../../include/errno.ts";
import {
  MAX_BACKOFF,
  RS_ACTIVE,
  RS_CALLS,
  RS_DELTA_T,
  RS_EXITING,
  RS_IN_USE,
  RS_INIT_T,
  RS_INITIALIZING,
  RS_NOPINGREPLY,
  RS_REFRESHING,
  RS_TERMINATED,
  SEF_INIT_RESTART,
  SF_CORE_SRV,
  SIGS_LAYOUT,
  SIGS_SIGNAL_RECEIVED,
} from "../../include/rs.ts";
import {
  NSIG,
  SIGABRT,
  SIGBUS,
  SIGEMT,
  SIGFPE,
  SIGILL,
  SIGKILL,
  SIGPIPE,
  SIGSEGV,
} from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { asynsend } from "../../lib/asynsend.ts";
import { notify, sendnb, type Syscall } from "../../lib/ipc.ts";
import { srvExec, srvFork, srvKill } from "../../lib/libsys/srv.ts";
import { sysClear, sysExit } from "../../lib/libsys/sys_misc.ts";
import { sysEndksig, sysKill } from "../../lib/libsys/sys_signal.ts";
import { sendInit } from "./boot.ts";
import { dsLabelDown, dsLabelUp } from "./ds_labels.ts";
import { rsVmPriv } from "./vm_priv.ts";
import { rsGetksig, rsPidOf, rsReap } from "./pm_calls.ts";
import type { Rproc } from "./rproc.ts";
import type { RsState } from "./state.ts";

const TERMINATION = new Set([SIGILL, SIGBUS, SIGFPE, SIGSEGV, SIGEMT, SIGABRT, SIGKILL, SIGPIPE]);

/** What a child of RS's srv_fork runs until PM execs the service in it (never, normally). */
function* forkChild(ctx: ProcessContext): Syscall {
  return yield* sysExit(ctx);
}

/** The SIGKSIG loop (MINIX `process_ksig` via SEF's signal manager loop). */
export function* manageSignals(rs: RsState): Syscall<void> {
  for (;;) {
    const next = yield* rsGetksig(rs.ctx);
    if (next === null) return;
    const rp = rs.table.byEndpoint(next.endpoint);
    let dead = false;
    for (let s = 1; s < NSIG && !dead; s++) {
      if ((next.sigs & (1 << s)) === 0) continue;
      dead = (yield* signalService(rs, next.endpoint, rp, s)) === EDEADSRCDST;
    }
    if (!dead) yield* sysEndksig(rs.ctx, next.endpoint);
  }
}

/** RS's signal-manager callback for one signal of `ep`. */
function* signalService(rs: RsState, ep: Endpoint, rp: Rproc | undefined, sig: number): Syscall {
  if (rp === undefined) return OK;
  if ((rp.flags & RS_TERMINATED) !== 0) return EDEADSRCDST;
  if (TERMINATION.has(sig)) {
    rp.flags |= RS_TERMINATED;
    yield* rs.print(`service ${rp.label} (endpoint ${ep}) died of signal ${sig}`);
    yield* terminate(rs, rp);
    return EDEADSRCDST;
  }
  rs.out.m.set(SIGS_SIGNAL_RECEIVED, SIGS_LAYOUT, { signo: sig });
  yield* asynsend(rs.ctx, ep, rs.out.m);
  return OK;
}

/** `terminate_service`: the service in `rp` is dead (its process is still there, stopped). */
export function* terminate(rs: RsState, rp: Rproc): Syscall<void> {
  const deadEp = rp.endpoint;
  const deadPid = rp.pid;
  rp.deadEndpoint = deadEp;
  rp.endpoint = NONE;
  rp.pid = 0;
  rp.stopTm = 0;
  rp.flags &= ~(RS_ACTIVE | RS_NOPINGREPLY);
  yield* cleanup(rs, deadEp, deadPid);
  if ((rp.flags & RS_INITIALIZING) !== 0 && (rp.flags & RS_REFRESHING) === 0) {
    rp.flags |= RS_EXITING;
  }
  if ((rp.flags & RS_EXITING) !== 0) {
    if ((rp.sysFlags & SF_CORE_SRV) !== 0) {
      yield* rs.panic(`core service ${rp.label} died and may not be restarted`);
      return;
    }
    yield* lateReply(rs, rp, OK);
    yield* dsLabelDown(rs, rp);
    rs.table.remove(rp);
    return;
  }
  if ((rp.flags & RS_REFRESHING) !== 0 || rp.restarts === 0) {
    rp.flags &= ~RS_REFRESHING;
    yield* restart(rs, rp);
    return;
  }
  rp.backoff = backoffPeriods(rp.restarts);
  yield* rs.print(`service ${rp.label} will be restarted in ${rp.backoff * RS_DELTA_T} ticks`);
}

/**
 * RS periods to wait before restarting a service that was restarted `restarts` times already:
 * min(2^restarts, MAX_BACKOFF). (MINIX caps it at 1 for services with an in-memory copy; here
 * every restartable service has one, so the cap would make backoff disappear.)
 */
export function backoffPeriods(restarts: number): number {
  return Math.min(2 ** Math.min(restarts, 30), MAX_BACKOFF);
}

/** Ends the dead instance for good: PM kills its pid (or it was never PM's) and reaps it. */
function* cleanup(rs: RsState, ep: Endpoint, pid: number): Syscall<void> {
  if (ep === NONE) return;
  const p = pid !== 0 ? pid : yield* rsPidOf(rs.ctx, ep);
  if (p > 0 && (yield* srvKill(rs.ctx, p, SIGKILL)) === OK) {
    yield* rsReap(rs.ctx);
    return;
  }
  // No PM to ask: release the slot in the kernel directly.
  yield* sysClear(rs.ctx, ep);
}

/** Starts a new incarnation of `rp`; a service that cannot be restarted is given up. */
export function* restart(rs: RsState, rp: Rproc): Syscall<void> {
  rp.flags &= ~(RS_TERMINATED | RS_INITIALIZING);
  rp.backoff = 0;
  rp.restarts++;
  const r = yield* startService(rs, rp, SEF_INIT_RESTART);
  if (r === OK) return;
  if ((rp.sysFlags & SF_CORE_SRV) !== 0) {
    yield* rs.panic(`core service ${rp.label} cannot be restarted (${r})`);
    return;
  }
  yield* rs.print(`service ${rp.label} cannot be restarted (${r})`);
  yield* lateReply(rs, rp, r);
  yield* dsLabelDown(rs, rp);
  rs.table.remove(rp);
}

/**
 * `start_service`: fork (PM), privileges (dynamic id), exec the program copy, allow, init.
 * Returns OK or the first error; on error a half-made child is killed.
 */
export function* startService(rs: RsState, rp: Rproc, type: number): Syscall {
  if (rp.program === null) return EPERM;
  const child = yield* srvFork(rs.ctx, forkChild);
  if (typeof child === "number") return child;
  const fail = function* (r: number): Syscall {
    yield* cleanup(rs, child.endpoint, child.pid);
    return r;
  };
  let r = yield* rs.setPriv(child.endpoint, rp.priv, null);
  if (r !== OK) return yield* fail(r);
  r = yield* srvExec(rs.ctx, child.endpoint, rp.program, rp.argv);
  if (r !== OK) return yield* fail(r);
  r = yield* rs.allow(child.endpoint);
  if (r !== OK) return yield* fail(r);
  const old = rp.deadEndpoint;
  rp.endpoint = child.endpoint;
  rp.pid = child.pid;
  rp.flags |= RS_IN_USE | RS_ACTIVE;
  if (old !== NONE) yield* rsVmPriv(rs, rp, old);
  yield* dsLabelUp(rs, rp);
  if (type === SEF_INIT_RESTART) {
    yield* rs.print(
      `restarted ${rp.label}: endpoint ${old === NONE ? "-" : old} -> ${child.endpoint}`,
    );
  }
  // Should it die before taking the request, its death is reported as a signal.
  yield* sendInit(rs, rp, type);
  return OK;
}

/** Sends a deferred reply to whoever waits for `rp` (RS_UP, RS_DOWN, RS_REFRESH). */
export function* lateReply(rs: RsState, rp: Rproc, status: number): Syscall<void> {
  if (rp.lateReply === NONE) return;
  const to = rp.lateReply;
  rp.lateReply = NONE;
  rs.out.m.set(status, RS_CALLS.RS_UP.reply, { endpoint: rp.endpoint });
  yield* rs.out.put();
  yield* sendnb(to, rs.out.va);
}

/** `do_period`: RS's alarm (MINIX-SPEC §6.9). */
export function* doPeriod(rs: RsState, now: number): Syscall<void> {
  for (const rp of [...rs.table.all]) {
    if (rp.backoff > 0) {
      rp.backoff--;
      if (rp.backoff === 0) yield* restart(rs, rp);
      continue;
    }
    if (rp.endpoint === NONE || rp.priv === "user") continue;
    if (rp.stopTm > 0 && now - rp.stopTm > 2 * RS_DELTA_T) {
      rp.stopTm = 0;
      yield* kill(rs, rp, SIGKILL);
      continue;
    }
    const initializing = (rp.flags & RS_INITIALIZING) !== 0;
    const period = initializing ? RS_INIT_T : rp.period;
    if (period <= 0) continue;
    if (rp.aliveTm < rp.checkTm) {
      if (now - rp.aliveTm > 2 * period && (rp.flags & RS_NOPINGREPLY) === 0) {
        rp.flags |= RS_NOPINGREPLY;
        yield* rs.print(`service ${rp.label} does not answer pings`);
        yield* kill(rs, rp, SIGKILL);
      }
    } else if (!initializing && now - rp.checkTm > rp.period) {
      rp.checkTm = now;
      yield* notify(rp.endpoint);
    }
  }
}

/** Raises `sig` on the service through the kernel; RS sees it again as its manager. */
export function* kill(rs: RsState, rp: Rproc, sig: number): Syscall {
  if (rp.endpoint === NONE || rp.endpoint === SELF) return OK;
  return yield* sysKill(rs.ctx, rp.endpoint, sig);
}
