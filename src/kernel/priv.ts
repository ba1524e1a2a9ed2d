/**
 * Privilege structures: which traps, IPC targets and kernel calls a system process may use.
 * Every system process owns one; all user processes share INIT's (USER_PRIV_ID). Bit sets
 * are sized by boot option. MINIX: kernel/priv.h, kernel/system.c (MINIX-SPEC §1.4).
 */
import { INIT_PROC_NR, NONE, NR_BOOT_PROCS, NR_TASKS, type Endpoint } from "../include/endpoint.ts";
import { EBUSY, EINVAL, ENOSPC } from "../include/errno.ts";
import { RECEIVE } from "../include/ipc.ts";
import { NR_SYS_CALLS } from "../include/kcall.ts";
import type { VirAddr } from "../include/types.ts";
import { BitSet } from "./bitset.ts";

export {
  BILLABLE,
  CHECK_IO_PORT,
  CHECK_IRQ,
  CHECK_MEM,
  DYN_PRIV_ID,
  PREEMPTIBLE,
  SYS_PROC,
} from "../include/kcall.ts";

export const NULL_PRIV_ID = -1;
/** A slot number that owns no privilege structure. */
export const NO_OWNER = NONE as number;

/** `static_priv_id(slot)`: boot slots have fixed ids 0..NR_BOOT_PROCS-1. */
export function staticPrivId(slot: number): number {
  return NR_TASKS + slot;
}
export const USER_PRIV_ID = staticPrivId(INIT_PROC_NR);

export class Priv {
  readonly id: number;
  /** Owner slot, or NO_OWNER when free. */
  procNr = NO_OWNER;
  flags = 0;
  /** Bit `1 << callnr` for every allowed IPC primitive. */
  trapMask = 0;
  /** Allowed destinations, by privilege id. */
  readonly ipcTo: BitSet;
  /** Allowed kernel calls, by number (call − KERNEL_CALL). */
  readonly kCallMask = new BitSet(NR_SYS_CALLS);
  sigMgr: Endpoint = NONE;
  /** Pending notifications to the owner, by notifier privilege id. */
  readonly notifyPending: BitSet;
  intPending = 0;
  /** Pending kernel signals (bit per signal), delivered with the SYSTEM notification. */
  sigPending = 0;
  asyntab = 0 as VirAddr;
  asynsize = 0;
  /** Absolute tick at which the alarm fires, or -1. */
  alarmAt = -1;
  grantTable = 0 as VirAddr;
  grantEntries = 0;

  constructor(id: number, nrSysProcs: number) {
    this.id = id;
    this.ipcTo = new BitSet(nrSysProcs);
    this.notifyPending = new BitSet(nrSysProcs);
  }

  get isFree(): boolean {
    return this.procNr === NO_OWNER;
  }

  /** Resets everything but the id to the state of an unused structure. */
  reset(): void {
    this.procNr = NO_OWNER;
    this.flags = 0;
    this.trapMask = 0;
    this.ipcTo.clearAll();
    this.kCallMask.clearAll();
    this.sigMgr = NONE;
    this.notifyPending.clearAll();
    this.intPending = 0;
    this.sigPending = 0;
    this.asyntab = 0 as VirAddr;
    this.asynsize = 0;
    this.alarmAt = -1;
    this.grantTable = 0 as VirAddr;
    this.grantEntries = 0;
  }
}

/** The privilege table: static ids first, then dynamic ids. */
export class PrivTable {
  readonly privs: readonly Priv[];

  constructor(nrSysProcs: number) {
    const privs: Priv[] = [];
    for (let id = 0; id < nrSysProcs; id++) privs.push(new Priv(id, nrSysProcs));
    this.privs = privs;
  }

  get size(): number {
    return this.privs.length;
  }

  byId(id: number): Priv | undefined {
    return this.privs[id];
  }

  /**
   * `get_priv`: claim privilege id `id` for slot `procNr`, or the first free dynamic id when
   * `id === NULL_PRIV_ID`. Returns the structure or an error (ENOSPC, EINVAL, EBUSY).
   */
  claim(procNr: number, id: number): Priv | number {
    if (id === NULL_PRIV_ID) {
      for (let i = NR_BOOT_PROCS; i < this.privs.length; i++) {
        const p = this.privs[i]!;
        if (p.isFree) {
          p.reset();
          p.procNr = procNr;
          return p;
        }
      }
      return ENOSPC;
    }
    if (id < 0 || id >= NR_BOOT_PROCS || id >= this.privs.length) return EINVAL;
    const p = this.privs[id]!;
    if (!p.isFree) return EBUSY;
    p.reset();
    p.procNr = procNr;
    return p;
  }
}

/** The trap mask that allows only RECEIVE. */
export const RECEIVE_ONLY_MASK = 1 << RECEIVE;

/**
 * `set_sendto_bit`: allow `p` to send to privilege id `id`, and the owner of `id` to send
 * back unless its trap mask allows nothing but RECEIVE. Never to an unowned id or to itself.
 */
export function setSendtoBit(table: PrivTable, p: Priv, id: number): void {
  const other = table.byId(id);
  if (other === undefined || other.isFree || other.id === p.id) {
    p.ipcTo.clear(id);
    return;
  }
  p.ipcTo.set(id);
  if ((other.trapMask & ~RECEIVE_ONLY_MASK) !== 0) other.ipcTo.set(p.id);
}

/** `unset_sendto_bit`: forbid sending to `id` in both directions. */
export function unsetSendtoBit(table: PrivTable, p: Priv, id: number): void {
  p.ipcTo.clear(id);
  table.byId(id)?.ipcTo.clear(p.id);
}
