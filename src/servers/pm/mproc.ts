/**
 * PM's process table (`mproc`): one entry per kernel slot, with the pid, the parent, the
 * process group, the exit status of a zombie, what the process waits for in PM, and its
 * signal state. Built at start from the kernel's boot image (MINIX-SPEC §7.1).
 * MINIX: servers/pm/mproc.h, main.c `pm_init`, utility.c `get_free_pid`.
 */
import { slotOf, type Endpoint } from "../../include/endpoint.ts";
import { INIT_PID, NR_PIDS, SIG_DFL } from "../../include/pm.ts";
import { NSIG } from "../../include/signal.ts";

/** Entry flags (`mp_flags`). */
export const IN_USE = 0x001;
/** Exited; the entry keeps the status until the parent waits for it. */
export const ZOMBIE = 0x002;
/** Blocked in waitpid. */
export const WAITING = 0x004;
/** Blocked in pause or sigsuspend. */
export const PAUSED = 0x008;
/** A system process (boot services and RS's children): no POSIX handlers, RS is its manager. */
export const PRIV_PROC = 0x010;
/** In sigsuspend: `suspendMask` is the mask to restore. */
export const SIGSUSPENDED = 0x020;

export interface SigAct {
  handler: number;
  mask: number;
}

export class Mproc {
  readonly slot: number;
  endpoint = 0 as Endpoint;
  name = "";
  flags = 0;
  pid = 0;
  /** Slot of the parent (INIT is its own parent). */
  parent = 0;
  pgrp = 0;
  exitStatus = 0;
  sigStatus = 0;
  /** The pid argument and options of a waitpid the process is blocked in. */
  waitPid = 0;
  readonly sigActs: SigAct[] = Array.from({ length: NSIG }, () => ({ handler: SIG_DFL, mask: 0 }));
  sigMask = 0;
  sigPending = 0;
  /** The mask in effect before sigsuspend. */
  suspendMask = 0;
  /** Masks to restore at sigreturn, newest last (one per signal frame). */
  readonly frameMasks: number[] = [];

  constructor(slot: number) {
    this.slot = slot;
  }

  get inUse(): boolean {
    return (this.flags & IN_USE) !== 0;
  }

  /** In use and not a zombie. */
  get alive(): boolean {
    return (this.flags & (IN_USE | ZOMBIE)) === IN_USE;
  }

  /** Makes the entry free again. */
  clear(): void {
    this.flags = 0;
    this.pid = 0;
    this.name = "";
    this.exitStatus = 0;
    this.sigStatus = 0;
    this.waitPid = 0;
    for (const a of this.sigActs) {
      a.handler = SIG_DFL;
      a.mask = 0;
    }
    this.sigMask = 0;
    this.sigPending = 0;
    this.suspendMask = 0;
    this.frameMasks.length = 0;
  }
}

/** The table and the pid allocator. */
export class ProcTable {
  readonly procs: Mproc[];
  #nextPid = INIT_PID + 1;

  constructor(nrProcs: number) {
    this.procs = Array.from({ length: nrProcs }, (_, i) => new Mproc(i));
  }

  /** The live or zombie entry of `endpoint`, if any: the one in its slot (`pm_isokendpt`). */
  byEndpoint(endpoint: Endpoint): Mproc | undefined {
    const mp = this.procs[slotOf(endpoint)];
    return mp !== undefined && mp.inUse && mp.endpoint === endpoint ? mp : undefined;
  }

  /** The live (not zombie) entry with pid `pid`, if any. */
  byPid(pid: number): Mproc | undefined {
    for (const mp of this.procs) if (mp.alive && mp.pid === pid) return mp;
    return undefined;
  }

  /** `get_free_pid`: the next pid used neither as a pid nor as a process group. */
  freePid(): number {
    for (;;) {
      this.#nextPid = this.#nextPid < NR_PIDS - 1 ? this.#nextPid + 1 : INIT_PID + 1;
      const t = this.#nextPid;
      if (!this.procs.some((mp) => mp.inUse && (mp.pid === t || mp.pgrp === t))) return t;
    }
  }
}
