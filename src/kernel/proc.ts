/**
 * Process table entries. A process is runnable iff `rtsFlags === 0`; the scheduler keeps
 * exactly the runnable processes in its queues. MINIX: kernel/proc.h (MINIX-SPEC §1.1, §1.3).
 */
import { NONE, type Endpoint } from "../include/endpoint.ts";
import { MESSAGE_SIZE } from "../include/message.ts";
import type { Program, ProcessContext, SigEntry, Trap, TrapResult } from "../include/trap.ts";
import type { PhysAddr, VirAddr } from "../include/types.ts";
import type { Priv } from "./priv.ts";

export const RTS_SLOT_FREE = 0x01;
export const RTS_PROC_STOP = 0x02;
export const RTS_SENDING = 0x04;
export const RTS_RECEIVING = 0x08;
export const RTS_SIGNALED = 0x10;
export const RTS_SIG_PENDING = 0x20;
export const RTS_P_STOP = 0x40;
export const RTS_NO_PRIV = 0x80;
export const RTS_NO_ENDPOINT = 0x100;
export const RTS_VMINHIBIT = 0x200;
export const RTS_PAGEFAULT = 0x400;
export const RTS_VMREQUEST = 0x800;
export const RTS_VMREQTARGET = 0x1000;
export const RTS_PREEMPTED = 0x4000;
export const RTS_NO_QUANTUM = 0x8000;

export const MF_REPLY_PEND = 0x001;
export const MF_VIRT_TIMER = 0x002;
export const MF_PROF_TIMER = 0x004;
export const MF_KCALL_RESUME = 0x008;
export const MF_ASYNMSG = 0x010;
export const MF_FULLVM = 0x020;
export const MF_DELIVERMSG = 0x040;
export const MF_SIG_DELAY = 0x080;
export const MF_SENDING_FROM_KERNEL = 0x2000;

const RTS_NAMES: readonly (readonly [number, string])[] = [
  [RTS_SLOT_FREE, "SLOT_FREE"],
  [RTS_PROC_STOP, "PROC_STOP"],
  [RTS_SENDING, "SENDING"],
  [RTS_RECEIVING, "RECEIVING"],
  [RTS_SIGNALED, "SIGNALED"],
  [RTS_SIG_PENDING, "SIG_PENDING"],
  [RTS_P_STOP, "P_STOP"],
  [RTS_NO_PRIV, "NO_PRIV"],
  [RTS_NO_ENDPOINT, "NO_ENDPOINT"],
  [RTS_VMINHIBIT, "VMINHIBIT"],
  [RTS_PAGEFAULT, "PAGEFAULT"],
  [RTS_VMREQUEST, "VMREQUEST"],
  [RTS_VMREQTARGET, "VMREQTARGET"],
  [RTS_PREEMPTED, "PREEMPTED"],
  [RTS_NO_QUANTUM, "NO_QUANTUM"],
];

/** `"SENDING|RECEIVING"` for a flag word; `""` when runnable. */
export function rtsFlagNames(flags: number): string {
  return RTS_NAMES.filter(([bit]) => (flags & bit) !== 0)
    .map(([, name]) => name)
    .join("|");
}

/** VMSTYPE_*: what a suspended caller was doing when its memory request was made. */
export const VMSTYPE_KERNELCALL = 1;
export const VMSTYPE_DELIVERMSG = 2;

/** A pending kernel→VM memory request (`p_vmrequest`). */
export interface VmRequest {
  reqType: number;
  type: number;
  target: Endpoint;
  start: VirAddr;
  length: number;
  writeflag: boolean;
  /**
   * Mapping requests (VMPTYPE_SMAP / SUNMAP / COWMAP, mapinfo.ts): `target`/`start` is the
   * destination, `ep2`/`start2` the source, `mapFlag` 1 / 0 / -1 (writable, read-only, COW).
   */
  ep2: Endpoint;
  start2: VirAddr;
  mapFlag: number;
  /** VM's answer (VMCTL_MEMREQ_REPLY), consulted when the call is re-executed. */
  result: number;
  /** The saved kernel-call message, re-executed on MF_KCALL_RESUME. */
  readonly savedMsg: Uint8Array;
  /** Next requestor in the kernel's LIFO list of requests not yet fetched by VM. */
  next: Proc | null;
}

/** What a signal frame saves: the interrupted code and its registers (MINIX sigcontext). */
export interface SigFrame {
  readonly gen: Generator<Trap, number, TrapResult> | null;
  readonly retreg: TrapResult;
  readonly ipcStatus: number;
  readonly trap: Trap | null;
  readonly trapIsIpc: boolean;
}

export class Proc {
  /** Slot number; kernel tasks are negative. */
  readonly nr: number;
  endpoint: Endpoint;
  name = "";
  rtsFlags = RTS_SLOT_FREE;
  miscFlags = 0;

  priority = 0;
  quantum = 0;
  ticksLeft = 0;
  /** Next runnable process in the same scheduling queue. */
  nextReady: Proc | null = null;

  priv: Priv | null = null;

  /** Head of the queue of processes blocked sending to this one, and the link in it. */
  callerQ: Proc | null = null;
  qLink: Proc | null = null;
  getfrom: Endpoint = NONE;
  sendto: Endpoint = NONE;
  /** Outgoing message captured while blocked sending. */
  readonly sendmsg = new Uint8Array(MESSAGE_SIZE);
  readonly sendmsg32 = new Uint32Array(this.sendmsg.buffer);
  /** Incoming message waiting to be copied to `delivermsgVir` before this process runs. */
  readonly delivermsg = new Uint8Array(MESSAGE_SIZE);
  readonly delivermsg32 = new Uint32Array(this.delivermsg.buffer);
  delivermsgVir = 0 as VirAddr;

  readonly vmreq: VmRequest = {
    reqType: 0,
    type: 0,
    target: NONE,
    start: 0 as VirAddr,
    length: 0,
    writeflag: false,
    ep2: NONE,
    start2: 0 as VirAddr,
    mapFlag: 0,
    result: 0,
    savedMsg: new Uint8Array(MESSAGE_SIZE),
    next: null,
  };

  /** Page-directory base ("cr3"); 0 means no address space. */
  cr3 = 0 as PhysAddr;
  /** Return register (eax) and IPC status register (ebx). */
  retreg: TrapResult = 0;
  ipcStatus = 0;
  /** Kernel signals pending for this process (`p_pending`), one bit per signal. */
  sigPending = 0;
  userTime = 0;
  sysTime = 0;

  program: Program | null = null;
  /** The program a child created by SYS_FORK starts in (set by the "forkentry" trap). */
  forkEntry: Program | null = null;
  context: ProcessContext | null = null;
  gen: Generator<Trap, number, TrapResult> | null = null;
  /** Signal entry (the "sigentry" trap), frames to push before it next runs, pushed frames. */
  sigEntry: SigEntry | null = null;
  sigDeliver = 0;
  readonly sigFrames: SigFrame[] = [];
  /** The trap record the process is blocked in, written back when it resumes. */
  trap: Trap | null = null;
  /** `trap` is an IPC trap record, whose status register is written back on resume. */
  trapIsIpc = false;

  constructor(nr: number) {
    this.nr = nr;
    this.endpoint = nr as Endpoint;
  }

  get isKernelTask(): boolean {
    return this.nr < 0;
  }

  get isFree(): boolean {
    return (this.rtsFlags & RTS_SLOT_FREE) !== 0;
  }
}
