/**
 * The kernel loop: pick the next runnable process, finish what the kernel owes it (a kernel
 * call to re-execute, a message to copy out), resume its generator with its return register,
 * decode the trap it yields and handle it; charge simulated time and handle clock ticks.
 * A due signal frame starts the process's signal entry first; a returning program exits (a
 * user process through PM, see signal.ts); an exception is SIGILL. When nothing is runnable,
 * time jumps to the next alarm. MINIX: kernel/proc.c `switch_to_user`, `schedcheck`,
 * kernel/clock.c.
 */
import { CLOCK } from "../include/endpoint.ts";
import { EFAULT, EINVAL, OK, VMSUSPEND } from "../include/errno.ts";
import { SENDA } from "../include/ipc.ts";
import { M_SOURCE, MESSAGE_SIZE } from "../include/message.ts";
import type { IpcTrap, Program, SigEntry, Trap } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";
import { NONE } from "../include/endpoint.ts";
import { SIGILL, SIGSEGV } from "../include/signal.ts";
import { COST } from "../hw/clock.ts";
import { exitProc } from "./clear.ts";
import { doIpc } from "./ipc/ipc.ts";
import { miniNotify } from "./ipc/notify.ts";
import type { Kernel } from "./kernel.ts";
import { copyMsgToProc } from "./memory.ts";
import { pageFault } from "./pagefault.ts";
import { KernelPanic } from "./panic.ts";
import { MF_DELIVERMSG, MF_KCALL_RESUME, VMSTYPE_DELIVERMSG, type Proc } from "./proc.ts";
import { causeSig, enterSigFrames, leaveSigFrame, programReturned } from "./signal.ts";
import { kernelCall, resumeKernelCall } from "./system.ts";
import { vmSuspend } from "./vmrequest.ts";

/** Cycles charged for an IPC trap: the trap and one message copy. */
const IPC_CYCLES = COST.trap + MESSAGE_SIZE * COST.ipcCopyPerByte;

const T_NONE = 0;
const T_IPC = 1;
const T_KCALL = 2;
const T_PAGEFAULT = 3;
const T_FORKENTRY = 4;
const T_SIGENTRY = 5;
const T_BAD = 6;

/** Registers of the trap being handled, decoded from the process's trap record. */
const regs = {
  kind: T_NONE,
  call: 0,
  ep: 0,
  addr: 0,
  write: false,
  program: null as Program | null,
  sigEntry: null as SigEntry | null,
};

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

/** Reads a trap record into kernel-owned registers. May throw (hostile getters): caller catches. */
function decodeTrap(t: unknown): void {
  if (typeof t !== "object" || t === null) {
    regs.kind = T_BAD;
    return;
  }
  const r = t as Partial<Record<keyof Trap, unknown>> & { kind?: unknown };
  switch (r.kind) {
    case "ipc": {
      const x = t as Record<string, unknown>;
      regs.kind = T_IPC;
      regs.call = num(x.call) | 0;
      regs.ep = num(x.srcDst) | 0;
      regs.addr = num(x.msg) >>> 0;
      return;
    }
    case "senda": {
      const x = t as Record<string, unknown>;
      regs.kind = T_IPC;
      regs.call = SENDA;
      regs.ep = num(x.count) | 0;
      regs.addr = num(x.table) >>> 0;
      return;
    }
    case "kcall":
      regs.kind = T_KCALL;
      regs.addr = num((t as Record<string, unknown>).msg) >>> 0;
      return;
    case "pagefault": {
      const x = t as Record<string, unknown>;
      regs.kind = T_PAGEFAULT;
      regs.addr = num(x.addr) >>> 0;
      regs.write = x.write === true;
      return;
    }
    case "forkentry": {
      const prog = (t as Record<string, unknown>).program;
      regs.kind = T_FORKENTRY;
      regs.program = typeof prog === "function" ? (prog as Program) : null;
      return;
    }
    case "sigentry": {
      const entry = (t as Record<string, unknown>).entry;
      regs.kind = T_SIGENTRY;
      regs.sigEntry = typeof entry === "function" ? (entry as SigEntry) : null;
      return;
    }
    default:
      regs.kind = T_BAD;
  }
}

/**
 * Runs one scheduling step. Returns false when the machine is idle: nothing is runnable and
 * no alarm is pending.
 */
export function step(k: Kernel): boolean {
  const p = k.rq.pick();
  if (p === null) return idle(k);
  if ((p.miscFlags & (MF_KCALL_RESUME | MF_DELIVERMSG)) !== 0) {
    preRun(k, p);
    if (p.rtsFlags !== 0) return true;
  }
  if (k.current !== p) {
    // The switch is charged together with the trap that follows it.
    k.current = p;
    switchCycles = COST.contextSwitch;
    if (k.tracing) k.emit({ kind: "switch", t: k.hw.clock.cycles, ep: p.endpoint });
  }
  resume(k, p);
  return true;
}

/** Runs until idle or until `maxSteps` steps were taken. Returns the number of steps. */
export function runUntilIdle(k: Kernel, maxSteps = Number.POSITIVE_INFINITY): number {
  let n = 0;
  while (n < maxSteps && step(k)) n++;
  return n;
}

/** The pre-run hook: re-execute a suspended kernel call, copy out a buffered message. */
function preRun(k: Kernel, p: Proc): void {
  while (p.rtsFlags === 0) {
    if ((p.miscFlags & MF_KCALL_RESUME) !== 0) {
      const r = resumeKernelCall(k, p);
      if (r !== VMSUSPEND) p.retreg = r;
    } else if ((p.miscFlags & MF_DELIVERMSG) !== 0) {
      deliverMsg(k, p);
    } else {
      return;
    }
  }
}

/** Copies `p.delivermsg` to the address `p` gave in RECEIVE (MINIX-SPEC §2.10). */
function deliverMsg(k: Kernel, p: Proc): void {
  if (copyMsgToProc(k, p, p.delivermsgVir, p.delivermsg32) === OK) {
    p.miscFlags &= ~MF_DELIVERMSG;
    p.delivermsg32[M_SOURCE >>> 2] = NONE;
    p.vmreq.result = OK;
    return;
  }
  const vmResult = p.vmreq.result;
  const vm = k.vmProc();
  if ((vmResult !== OK && vmResult !== VMSUSPEND) || vm === undefined || vm === p) {
    // VM could not make the buffer present (or there is no VM): the message is lost.
    p.miscFlags &= ~MF_DELIVERMSG;
    p.vmreq.result = OK;
    p.retreg = EFAULT;
    return;
  }
  vmSuspend(k, p, p, k.faultAddr, 64, VMSTYPE_DELIVERMSG);
}

function resume(k: Kernel, p: Proc): void {
  if (p.sigDeliver.length !== 0) enterSigFrames(k, p);
  const gen = p.gen;
  if (gen === null) {
    exitProc(k, p, 0, "no program");
    return;
  }
  try {
    const last = p.trap;
    if (p.trapIsIpc) (last as IpcTrap).status = p.ipcStatus;
    const res = gen.next(p.retreg);
    if (res.done === true) {
      // A signal entry that returns ends its frame; a program that returns exits.
      if (!leaveSigFrame(p)) programReturned(k, p, num(res.value) | 0);
      return;
    }
    decodeTrap(res.value);
    p.trap = regs.kind === T_BAD ? null : res.value;
    p.trapIsIpc = regs.kind === T_IPC;
  } catch (e) {
    if (e instanceof KernelPanic) throw e;
    crash(k, p, e);
    return;
  }
  handleTrap(k, p);
}

function handleTrap(k: Kernel, p: Proc): void {
  switch (regs.kind) {
    case T_IPC:
      p.retreg = doIpc(k, p, regs.call, regs.ep, regs.addr as VirAddr);
      advance(k, IPC_CYCLES, p);
      return;
    case T_KCALL: {
      const r = kernelCall(k, p, regs.addr as VirAddr);
      if (r !== VMSUSPEND) p.retreg = r;
      advance(k, COST.kcall, p);
      return;
    }
    case T_FORKENTRY:
      p.retreg = regs.program === null ? EINVAL : OK;
      if (regs.program !== null) p.forkEntry = regs.program;
      regs.program = null;
      advance(k, COST.trap, p);
      return;
    case T_SIGENTRY:
      p.retreg = regs.sigEntry === null ? EINVAL : OK;
      if (regs.sigEntry !== null) p.sigEntry = regs.sigEntry;
      regs.sigEntry = null;
      advance(k, COST.trap, p);
      return;
    case T_PAGEFAULT:
      pageFault(k, p, regs.addr as VirAddr, regs.write);
      advance(k, COST.pageFault, p);
      return;
    default:
      if (k.tracing) k.emit({ kind: "trap", t: k.hw.clock.cycles, ep: p.endpoint, trap: "bad" });
      causeSig(k, p, SIGSEGV);
      advance(k, COST.trap, p);
  }
}

/** An exception thrown out of a process: an illegal instruction, signalled as SIGILL. */
function crash(k: Kernel, p: Proc, e: unknown): void {
  p.gen = null;
  p.trap = null;
  p.trapIsIpc = false;
  const reason = e instanceof Error ? e.message : String(e);
  if (k.tracing)
    k.emit({ kind: "trap", t: k.hw.clock.cycles, ep: p.endpoint, trap: `crash: ${reason}` });
  causeSig(k, p, SIGILL);
}

/** Cycles of a context switch not yet charged to the clock. */
let switchCycles = 0;

/** Charges `cycles` (and a pending switch) to the clock; crossed ticks are handled for `cur`. */
function advance(k: Kernel, cycles: number, cur: Proc): void {
  const crossed = k.hw.clock.advance(cycles + switchCycles);
  switchCycles = 0;
  if (crossed > 0) onTicks(k, crossed, cur);
}

/** Clock ticks: account time, rotate a process whose quantum ran out, fire alarms. */
function onTicks(k: Kernel, n: number, cur: Proc | null): void {
  if (cur !== null && !cur.isFree) {
    cur.userTime += n;
    cur.ticksLeft -= n;
    if (cur.ticksLeft <= 0) {
      cur.ticksLeft = cur.quantum;
      if (cur.rtsFlags === 0) k.rq.rotate(cur);
    }
  }
  fireAlarms(k);
  if (k.tracing) k.emit({ kind: "tick", t: k.hw.clock.cycles, ticks: k.ticks });
}

function fireAlarms(k: Kernel): void {
  if (k.timers.size === 0) return;
  const clock = k.procAddr(CLOCK)!;
  for (const priv of k.timers.expire(k.ticks)) {
    const owner = k.procAddr(priv.procNr);
    if (owner !== undefined && !owner.isFree) miniNotify(k, clock, owner.endpoint);
  }
}

/** Nothing runnable: jump to the next alarm, or report idle. */
function idle(k: Kernel): boolean {
  const next = k.timers.next();
  if (next < 0) return false;
  const crossed = k.hw.clock.jumpToTick(Math.max(next, k.ticks));
  k.current = null;
  if (crossed > 0) onTicks(k, crossed, null);
  else fireAlarms(k);
  return true;
}
