/**
 * The boot image: which programs start at boot, in which slots, with which privileges.
 * Entries name their IPC targets and kernel calls by name; `resolveImage` turns them into
 * the kernel's boot specifications. MINIX: kernel/table.c `image[]`.
 */
import {
  LAST_SPECIAL_PROC_NR,
  NONE,
  RS_PROC_NR,
  VM_PROC_NR,
  type Endpoint,
} from "../include/endpoint.ts";
import { IPC_CALLS, type IpcCallName } from "../include/ipc.ts";
import { KCALL_NR, type KcallNrName } from "../include/kcall.ts";
import { RS_MAX_LABEL_LEN, SF_NEED_COPY, SF_USE_COPY } from "../include/rs.ts";
import type { Program } from "../include/trap.ts";
import { NR_SCHED_QUEUES, USER_Q } from "../kernel/sched.ts";
import { PREEMPTIBLE, SYS_PROC } from "../kernel/priv.ts";
import type { BootPriv } from "../kernel/main.ts";
import type { ResolvedOptions } from "./options.ts";

export interface BootPrivSpec {
  /** IPC primitives allowed (default: all). */
  readonly traps?: "all" | readonly IpcCallName[];
  /** Names of boot processes it may send to (default: all). */
  readonly ipcTo?: "all" | readonly string[];
  /** Kernel calls allowed (default: all). */
  readonly kcalls?: "all" | readonly KcallNrName[];
  /** Signal manager (default NONE: the kernel applies default actions). */
  readonly sigMgr?: Endpoint;
}

export interface BootImageEntry {
  readonly name: string;
  readonly program: Program;
  /** Process slot; default: the next free slot after the fixed MINIX boot slots. */
  readonly slot?: number;
  readonly argv?: readonly string[];
  /** Words appended to `argv` from the boot options (how DS gets its limits). */
  readonly optionArgv?: (opts: ResolvedOptions) => readonly string[];
  /** Scheduling queue 0..15 (default USER_Q). */
  readonly priority?: number;
  /** Quantum in ticks (default: the boot option). */
  readonly quantum?: number;
  /** Zeroed data pages mapped at DATA_BASE (default 16). */
  readonly dataPages?: number;
  /** "user" shares INIT's privileges; otherwise a system process (default: all allowed). */
  readonly priv?: "user" | BootPrivSpec;
  /** False: waits in RTS_NO_PRIV until allowed (default true). */
  readonly runnable?: boolean;
  /**
   * This entry is the VM server (it must be in VM's slot): it gets a window onto physical
   * memory and the boot information, and every other process's data area becomes
   * demand-zero memory that VM serves. Without it, the loader maps all memory eagerly.
   */
  readonly vm?: boolean;
  /**
   * This entry is RS, the root system process (it must be in RS's slot): only it runs at boot,
   * every other boot process waits in RTS_NO_PRIV until RS gives it privileges, and the loader
   * leaves RS its boot tables. Without it a process in RS's slot is an ordinary one.
   */
  readonly rs?: boolean;
  /**
   * Boot image flag PROC_FULLVM (default true): the process gets a page table of its own that
   * VM manages. Without it (rs, pm, vm in MINIX) the loader maps its data at boot, so it can
   * run before VM does.
   */
  readonly fullvm?: boolean;
  /**
   * RS's sys flags for this boot service (SF_* of include/rs.ts; only with RS in the image).
   * Default SF_NEED_COPY | SF_USE_COPY: RS keeps the program to restart it from.
   */
  readonly sysFlags?: number;
  /** Heartbeat period in ticks (0 = RS does not ping it; default 0). */
  readonly period?: number;
}

export interface ResolvedEntry {
  readonly entry: BootImageEntry;
  readonly slot: number;
  readonly priority: number;
  readonly quantum: number;
  readonly dataPages: number;
  readonly priv: BootPriv;
  readonly fullvm: boolean;
  readonly sysFlags: number;
  readonly period: number;
}

/** Validates the image and assigns slots; throws an Error naming the bad entry. */
export function resolveImage(
  image: readonly BootImageEntry[],
  nrProcs: number,
  quantum: number,
): ResolvedEntry[] {
  const bad = (i: number, why: string): never => {
    throw new Error(`Invalid boot option image[${i}]: ${why}`);
  };
  const slots = new Map<string, number>();
  const used = new Set<number>();
  let nextSlot = LAST_SPECIAL_PROC_NR + 1;
  image.forEach((e, i) => {
    if (typeof e.name !== "string" || e.name === "") bad(i, "name must be a non-empty string");
    if (slots.has(e.name)) bad(i, `duplicate name ${e.name}`);
    if (typeof e.program !== "function") bad(i, `${e.name}: program must be a generator function`);
    let slot = e.slot;
    if (slot === undefined) {
      while (used.has(nextSlot) || image.some((x) => x.slot === nextSlot)) nextSlot++;
      slot = nextSlot++;
    }
    if (!Number.isInteger(slot) || slot < 0 || slot >= nrProcs)
      bad(i, `${e.name}: slot ${slot} out of range`);
    if (used.has(slot)) bad(i, `${e.name}: slot ${slot} given twice`);
    if (e.vm === true && slot !== VM_PROC_NR)
      bad(i, `${e.name}: the VM server must be in slot ${VM_PROC_NR}`);
    if (e.rs === true && slot !== RS_PROC_NR) bad(i, `${e.name}: RS must be in slot ${RS_PROC_NR}`);
    used.add(slot);
    slots.set(e.name, slot);
  });
  return image.map((e, i) => {
    const priority = e.priority ?? USER_Q;
    if (!Number.isInteger(priority) || priority < 0 || priority >= NR_SCHED_QUEUES) {
      bad(i, `${e.name}: priority ${priority} not in 0..${NR_SCHED_QUEUES - 1}`);
    }
    const q = e.quantum ?? quantum;
    if (!Number.isInteger(q) || q < 1) bad(i, `${e.name}: quantum must be a positive integer`);
    const dataPages = e.dataPages ?? 16;
    if (!Number.isInteger(dataPages) || dataPages < 1 || dataPages > 65536) {
      bad(i, `${e.name}: dataPages must be in 1..65536`);
    }
    const sysFlags = e.sysFlags ?? SF_NEED_COPY | SF_USE_COPY;
    if (!Number.isInteger(sysFlags) || sysFlags < 0 || sysFlags > 0xf) {
      bad(i, `${e.name}: sysFlags must be a combination of SF_* flags`);
    }
    const period = e.period ?? 0;
    if (!Number.isInteger(period) || period < 0 || period > 1_000_000) {
      bad(i, `${e.name}: period must be an integer in 0..1000000`);
    }
    if (new TextEncoder().encode(e.name).length >= RS_MAX_LABEL_LEN) {
      bad(i, `${e.name}: name longer than ${RS_MAX_LABEL_LEN - 1} bytes`);
    }
    return {
      entry: e,
      fullvm: e.fullvm ?? true,
      sysFlags,
      period,
      slot: slots.get(e.name)!,
      priority,
      quantum: q,
      dataPages,
      priv:
        e.priv === "user"
          ? "user"
          : sysPriv(e.priv ?? {}, slots, (why) => bad(i, `${e.name}: ${why}`)),
    };
  });
}

function sysPriv(
  s: BootPrivSpec,
  slots: ReadonlyMap<string, number>,
  bad: (why: string) => never,
): BootPriv {
  const traps = s.traps ?? "all";
  let trapMask = 0;
  if (traps === "all") for (const n of Object.values(IPC_CALLS)) trapMask |= 1 << n;
  else for (const t of traps) trapMask |= 1 << (IPC_CALLS[t] ?? bad(`unknown trap ${t}`));
  const ipcTo = s.ipcTo ?? "all";
  const kcalls = s.kcalls ?? "all";
  return {
    flags: SYS_PROC | PREEMPTIBLE,
    trapMask,
    ipcTo:
      ipcTo === "all" ? "all" : ipcTo.map((n) => slots.get(n) ?? bad(`unknown IPC target ${n}`)),
    kcalls:
      kcalls === "all" ? "all" : kcalls.map((c) => KCALL_NR[c] ?? bad(`unknown kernel call ${c}`)),
    sigMgr: s.sigMgr ?? NONE,
  };
}
