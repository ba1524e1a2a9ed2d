/**
 * The kernel's state: process table, privilege table, ready queues, alarm timers and the
 * list of memory requests waiting for VM. Behaviour lives in the modules that take a
 * `Kernel` (ipc/, system/, run.ts, …); this file only holds state and the flag helpers that
 * keep "runnable iff rtsFlags === 0 iff queued" true. MINIX: kernel/glo.h, kernel/proc.h.
 */
import { NR_TASKS, slotOf, VM_PROC_NR } from "../include/endpoint.ts";
import type { BootImage } from "../include/kcall.ts";
import { MESSAGE_SIZE } from "../include/message.ts";
import type { Hardware } from "../hw/machine.ts";
import type { MachineEvent } from "../hw/events.ts";
import type { Program } from "../include/trap.ts";
import { MapInfo } from "./mapinfo.ts";
import { Proc, RTS_SLOT_FREE } from "./proc.ts";
import { PrivTable } from "./priv.ts";
import { RunQueues } from "./sched.ts";
import { Timers } from "./timers.ts";
import { checkKernel } from "./check.ts";

export interface KernelOptions {
  /** User-space process slots (NR_PROCS). */
  readonly nrProcs: number;
  /** Privilege structures (NR_SYS_PROCS), at least NR_BOOT_PROCS. */
  readonly nrSysProcs: number;
  /** Default quantum in ticks. */
  readonly quantumTicks: number;
  /** Slot of the VM server; memory requests go to the live process there. */
  readonly vmSlot: number;
  /** Clock ticks per simulated second (GET_HZ). */
  readonly hz: number;
  /**
   * The programs SYS_EXEC can start, by name (the boot option `programs`: the stand-in for
   * /bin until a file system holds them). Default: none.
   */
  readonly programs?: ReadonlyMap<string, Program>;
  /**
   * Safecopies share whole pages copy-on-write through VM (cow_safecopy.ts) when at least
   * `cowSafecopyMin` bytes are copied. Default false here (unit-test kernels often have no VM);
   * the boot option defaults to true.
   */
  readonly cowSafecopy?: boolean;
  readonly cowSafecopyMin?: number;
  /**
   * Grant ids carry a generation that must match the entry's (MINIX-SPEC §4.8). false gives
   * MINIX behaviour: only the slot counts, so a stale id is honoured by a reused slot.
   * Default true.
   */
  readonly grantGenerations?: boolean;
}

export const DEFAULT_KERNEL_OPTIONS: KernelOptions = {
  nrProcs: 256,
  nrSysProcs: 64,
  quantumTicks: 8,
  vmSlot: VM_PROC_NR,
  hz: 60,
};

export class Kernel {
  readonly hw: Hardware;
  readonly opts: KernelOptions;
  /** `proc[]`, indexed by slot + NR_TASKS. */
  readonly procs: readonly Proc[];
  readonly privs: PrivTable;
  readonly rq = new RunQueues();
  readonly timers = new Timers();
  /** Head of the LIFO list of processes waiting for VM (`vmrequest`). */
  vmrequest: Proc | null = null;
  /** The process that trapped into the kernel last. */
  current: Proc | null = null;
  /** VM has called VMCTL_ENABLE_PAGING (once). */
  pagingEnabled = false;
  /** Set when the kernel panicked; the machine no longer runs. */
  panicMessage: string | null = null;
  /** Scratch buffer for kernel-call messages and kernel-built messages. */
  readonly kmsg = new Uint8Array(MESSAGE_SIZE);
  readonly kmsg32 = new Uint32Array(this.kmsg.buffer);
  readonly kmsgView = new DataView(this.kmsg.buffer);
  /** Virtual address of the last fault seen by a kernel copy. */
  faultAddr = 0;
  /** The image booted through RS, the root system process (seed 002). */
  rootBoot = false;
  /** The boot image table (`image[]`), kernel tasks first; read with GET_IMAGE. */
  readonly image: BootImage[] = [];
  /** Live safemap mappings and the mapping calls waiting for VM (mapinfo.ts). */
  readonly mapinfo = new MapInfo();

  constructor(hw: Hardware, opts: KernelOptions) {
    this.hw = hw;
    this.opts = opts;
    const procs: Proc[] = [];
    for (let nr = -NR_TASKS; nr < opts.nrProcs; nr++) procs.push(new Proc(nr));
    this.procs = procs;
    this.privs = new PrivTable(opts.nrSysProcs);
  }

  /** `proc_addr(n)`: the entry of slot `n`, or undefined when out of range. */
  procAddr(slot: number): Proc | undefined {
    return this.procs[slot + NR_TASKS];
  }

  /** `isokendpt`: the live process with exactly this endpoint, or undefined. */
  isokendpt(e: number): Proc | undefined {
    // Generation-0 endpoints equal their slot: skip the division of `slotOf`.
    const p = this.procs[(e >= -NR_TASKS && e < this.opts.nrProcs ? e : slotOf(e)) + NR_TASKS];
    if (p === undefined || (p.rtsFlags & RTS_SLOT_FREE) !== 0 || p.endpoint !== e) return undefined;
    return p;
  }

  /** The live VM server, if there is one. */
  vmProc(): Proc | undefined {
    const p = this.procAddr(this.opts.vmSlot);
    return p !== undefined && !p.isFree ? p : undefined;
  }

  /** Sets RTS flags; a runnable process leaves its queue. */
  setRts(p: Proc, flags: number): void {
    if (p.rtsFlags === 0) this.rq.dequeue(p);
    p.rtsFlags |= flags;
  }

  /** Clears RTS flags; a process whose last flag is cleared joins its queue. */
  clearRts(p: Proc, flags: number): void {
    if (p.rtsFlags === 0) return;
    p.rtsFlags &= ~flags;
    if (p.rtsFlags === 0) this.rq.enqueue(p);
  }

  get ticks(): number {
    return this.hw.clock.ticks;
  }

  emit(e: MachineEvent): void {
    this.hw.events.emit(e);
  }

  /** Verifies the kernel's invariants (see check.ts); throws KernelPanic when one is broken. */
  check(): void {
    checkKernel(this);
  }

  get tracing(): boolean {
    return this.hw.events.active;
  }
}
