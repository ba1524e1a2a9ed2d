/**
 * Kernel start-up: the kernel tasks at negative slots, the shared user privilege structure,
 * and the boot processes of the image with their address spaces already prepared by the boot
 * loader. When the image marks its process in RS's slot as root, RS is the root system process
 * (seed 002): only it gets privileges (RSYS defaults) and runs; every other boot process waits
 * in RTS_NO_PRIV, pointing at the shared user structure (no structure of its own), until RS
 * sets and allows its privileges. Images without RS get each entry's privileges here.
 * MINIX: kernel/main.c `main`, kernel/table.c.
 */
import {
  CLOCK,
  IDLE,
  INIT_PROC_NR,
  KERNEL,
  RS_PROC_NR,
  SYSTEM,
  type Endpoint,
} from "../include/endpoint.ts";
import { SENDREC } from "../include/ipc.ts";
import { KCALL_NR, PROC_ROOT } from "../include/kcall.ts";
import type { Program, ProcessContext } from "../include/trap.ts";
import type { PhysAddr, VirAddr } from "../include/types.ts";
import { UserCpuPort } from "./cpu_port.ts";
import type { Kernel } from "./kernel.ts";
import { panic } from "./panic.ts";
import { startProgram } from "./program.ts";
import {
  BILLABLE,
  NULL_PRIV_ID,
  PREEMPTIBLE,
  RECEIVE_ONLY_MASK,
  setSendtoBit,
  staticPrivId,
  SYS_PROC,
  USER_PRIV_ID,
  type Priv,
} from "./priv.ts";
import { RTS_NO_PRIV, RTS_PROC_STOP } from "./proc.ts";
import { TASK_Q } from "./sched.ts";

/** Privileges of a boot process: its own structure, or the shared user one. */
export type BootPriv =
  | "user"
  | {
      readonly flags: number;
      readonly trapMask: number;
      /** Slots it may send to, or "all". */
      readonly ipcTo: "all" | readonly number[];
      /** Kernel-call numbers it may use, or "all". */
      readonly kcalls: "all" | readonly number[];
      readonly sigMgr: Endpoint;
    };

export interface BootProcSpec {
  readonly slot: number;
  readonly name: string;
  readonly program: Program;
  readonly argv: readonly string[];
  readonly priority: number;
  readonly quantum: number;
  readonly cr3: PhysAddr;
  readonly heapBase: VirAddr;
  readonly heapSize: number;
  readonly priv: BootPriv;
  /** False: the process waits in RTS_NO_PRIV until someone allows it. */
  readonly runnable: boolean;
  /**
   * Boot image flags (default 0): PROC_FULLVM; PROC_ROOT marks RS (in RS's slot), the root
   * system process: the image boots through RS.
   */
  readonly flags?: number;
}

const TASKS: readonly (readonly [Endpoint, string, number, number])[] = [
  [IDLE, "idle", SYS_PROC | BILLABLE, 0],
  [CLOCK, "clock", SYS_PROC, RECEIVE_ONLY_MASK],
  [SYSTEM, "system", SYS_PROC, RECEIVE_ONLY_MASK],
  [KERNEL, "kernel", SYS_PROC, 0],
];

/** Sets up the kernel tasks (never runnable) and the user privilege structure. */
export function initKernel(k: Kernel): void {
  for (const [ep, name, flags, trapMask] of TASKS) {
    const p = k.procAddr(ep)!;
    const priv = claim(k, p.nr, staticPrivId(p.nr));
    priv.flags = flags;
    priv.trapMask = trapMask;
    p.name = name;
    p.priv = priv;
    p.priority = TASK_Q;
    p.rtsFlags = RTS_PROC_STOP;
    k.image.push({ procNr: p.nr, flags: 0, quantum: 0, priority: TASK_Q, endpoint: ep, name });
  }
  const user = claim(k, INIT_PROC_NR, USER_PRIV_ID);
  user.trapMask = 1 << SENDREC;
  user.ipcTo.setAll();
  user.ipcTo.clear(USER_PRIV_ID);
}

function claim(k: Kernel, slot: number, id: number): Priv {
  const r = k.privs.claim(slot, id);
  if (typeof r === "number") panic(`initKernel: cannot claim privilege id ${id} for slot ${slot}`);
  return r;
}

/** `RSYS_F`: flags of the root system process. */
const RSYS_F = SYS_PROC | PREEMPTIBLE;

/** Installs the boot processes; privileges are resolved after all slots are known. */
export function bootProcs(k: Kernel, specs: readonly BootProcSpec[]): void {
  const isRoot = (s: BootProcSpec): boolean => ((s.flags ?? 0) & PROC_ROOT) !== 0;
  const rsBoot = specs.some(isRoot);
  if (specs.some((s) => isRoot(s) && s.slot !== (RS_PROC_NR as number))) {
    panic("bootProcs: the root system process must be in RS's slot");
  }
  k.rootBoot = rsBoot;
  installProcs(k, specs);
  if (rsBoot) setRootPrivs(k, specs);
  else setImagePrivs(k, specs);
  for (const s of specs) {
    const p = k.procAddr(s.slot)!;
    const ctx: ProcessContext = {
      argv: s.argv,
      cpu: new UserCpuPort(k, p),
      heapBase: s.heapBase,
      heapSize: s.heapSize,
    };
    p.context = ctx;
    const gen = startProgram(s.program, ctx);
    if (gen === undefined) panic(`bootProcs: the program of ${s.name} is not a generator function`);
    p.gen = gen;
    p.rtsFlags = RTS_NO_PRIV;
    if (rsBoot ? s.slot === (RS_PROC_NR as number) : s.runnable) k.clearRts(p, RTS_NO_PRIV);
  }
}

function installProcs(k: Kernel, specs: readonly BootProcSpec[]): void {
  for (const s of specs) {
    const p = k.procAddr(s.slot);
    if (p === undefined || p.isKernelTask) panic(`bootProcs: bad slot ${s.slot} for ${s.name}`);
    if (!p.isFree) panic(`bootProcs: slot ${s.slot} given twice (${s.name})`);
    p.name = s.name;
    p.endpoint = s.slot as Endpoint;
    p.priority = s.priority;
    p.quantum = s.quantum;
    p.ticksLeft = s.quantum;
    p.cr3 = s.cr3;
    p.program = s.program;
    k.image.push({
      procNr: s.slot,
      flags: s.flags ?? 0,
      quantum: s.quantum,
      priority: s.priority,
      endpoint: p.endpoint,
      name: s.name,
    });
  }
}

/**
 * Boot through RS: RS gets its static structure with the RSYS defaults (all traps, targets
 * and kernel calls, its own signal manager); every other process shares the user structure.
 */
function setRootPrivs(k: Kernel, specs: readonly BootProcSpec[]): void {
  const user = k.privs.byId(USER_PRIV_ID)!;
  // User programs of the full system print on the console, the stand-in for writing to the
  // terminal until a TTY driver exists (MINIX users make no kernel call at all).
  user.kCallMask.set(KCALL_NR.SYS_DIAGCTL);
  for (const s of specs) {
    const p = k.procAddr(s.slot)!;
    if (s.slot !== (RS_PROC_NR as number)) {
      p.priv = user;
      continue;
    }
    const priv = claim(k, s.slot, staticPrivId(s.slot));
    priv.flags = RSYS_F;
    priv.trapMask = 0xffffffff;
    priv.sigMgr = p.endpoint;
    priv.kCallMask.setAll();
    p.priv = priv;
    for (let id = 0; id < k.privs.size; id++) setSendtoBit(k.privs, priv, id);
  }
}

/** Boot without RS: every entry's privileges come from the image. */
function setImagePrivs(k: Kernel, specs: readonly BootProcSpec[]): void {
  for (const s of specs) {
    const p = k.procAddr(s.slot)!;
    if (s.priv === "user") {
      p.priv = k.privs.byId(USER_PRIV_ID)!;
    } else {
      const id = s.slot < INIT_PROC_NR ? staticPrivId(s.slot) : NULL_PRIV_ID;
      const priv = claim(k, s.slot, id);
      priv.flags = s.priv.flags;
      priv.trapMask = s.priv.trapMask;
      priv.sigMgr = s.priv.sigMgr;
      if (s.priv.kcalls === "all") priv.kCallMask.setAll();
      else for (const c of s.priv.kcalls) priv.kCallMask.set(c);
      p.priv = priv;
    }
  }
  for (const s of specs) {
    if (s.priv === "user") continue;
    const priv = k.procAddr(s.slot)!.priv!;
    const targets = s.priv.ipcTo === "all" ? specs.map((x) => x.slot) : s.priv.ipcTo;
    for (const slot of targets) {
      const to = k.procAddr(slot)?.priv;
      if (to !== undefined && to !== null && to !== priv) priv.ipcTo.set(to.id);
    }
    if (s.priv.ipcTo === "all") {
      for (const t of [CLOCK, SYSTEM]) priv.ipcTo.set(staticPrivId(t));
    }
  }
}
