/**
 * The reincarnation server's protocol: request numbers (RS_RQ_BASE 0x700), one layout per
 * request, the service flags (`sys_flags`), the init handshake of the System Event Framework
 * and the boot information the loader leaves in RS's memory (RS's priv/sys tables).
 * MINIX: include/minix/com.h, include/minix/rs.h, servers/rs/table.c (MINIX-SPEC §6).
 */
import { defineLayout, defineStruct, type Fields } from "./message.ts";
import { I386_PAGE_SIZE } from "./vmpt.ts";

export const RS_RQ_BASE = 0x700;

/** Label length (`RS_MAX_LABEL_LEN`), program name length in RS_UP. */
export const RS_MAX_LABEL_LEN = 16;
export const RS_MAX_PROG_LEN = 32;

const LABEL = defineLayout({ label: { bytes: RS_MAX_LABEL_LEN } });

/**
 * Requests to RS (SENDREC; RS answers with `m_type` = status and the reply fields) and RS's
 * init request to a service. RS_LIST is not MINIX's: one service record per request, by index
 * (`service list`), instead of a grant over RS's public table.
 */
export const RS_CALLS = {
  /** Start `program` (a program-table name) under `label` (default: the program name). */
  RS_UP: {
    nr: RS_RQ_BASE + 0,
    req: defineLayout({
      label: { bytes: RS_MAX_LABEL_LEN },
      program: { bytes: RS_MAX_PROG_LEN },
      period: "i32",
      flags: "u32",
    }),
    reply: defineLayout({ endpoint: "endpoint" }),
  },
  /** Stop a service for good (SIGTERM, then SIGKILL after 2·RS_DELTA_T). */
  RS_DOWN: { nr: RS_RQ_BASE + 1, req: LABEL, reply: defineLayout({}) },
  /** Stop a service and start it again at once. */
  RS_REFRESH: { nr: RS_RQ_BASE + 2, req: LABEL, reply: defineLayout({}) },
  /** Restart a service now (a crashed one waiting in its backoff, or a running one). */
  RS_RESTART: { nr: RS_RQ_BASE + 3, req: LABEL, reply: defineLayout({}) },
  /** The endpoint of the service with this label. */
  RS_LOOKUP: { nr: RS_RQ_BASE + 8, req: LABEL, reply: defineLayout({ endpoint: "endpoint" }) },
  /** The `index`-th service in use (ESRCH past the last). */
  RS_LIST: {
    nr: RS_RQ_BASE + 0x20,
    req: defineLayout({ index: "i32" }),
    reply: defineLayout({
      label: { bytes: RS_MAX_LABEL_LEN },
      endpoint: "endpoint",
      pid: "i32",
      flags: "u32",
      sysFlags: "u32",
      restarts: "i32",
      period: "i32",
      backoff: "i32",
    }),
  },
} as const;

export type RsCallName = keyof typeof RS_CALLS;
export type RsReq<K extends RsCallName> = Fields<(typeof RS_CALLS)[K]["req"]["fields"]>;
export type RsReply<K extends RsCallName> = Fields<(typeof RS_CALLS)[K]["reply"]["fields"]>;

export const RS_UP = RS_CALLS.RS_UP.nr;
export const RS_DOWN = RS_CALLS.RS_DOWN.nr;
export const RS_REFRESH = RS_CALLS.RS_REFRESH.nr;
export const RS_RESTART = RS_CALLS.RS_RESTART.nr;
export const RS_LOOKUP = RS_CALLS.RS_LOOKUP.nr;
export const RS_LIST = RS_CALLS.RS_LIST.nr;

/** The name of an RS request number, or undefined. */
export function rsCallName(type: number): RsCallName | undefined {
  return RS_CALL_NAMES.get(type);
}
const RS_CALL_NAMES: ReadonlyMap<number, RsCallName> = new Map(
  Object.entries(RS_CALLS).map(([n, c]) => [c.nr, n as RsCallName]),
);

/**
 * The SEF init handshake: RS sends RS_INIT (`type`) to a service it has just allowed to run;
 * the service answers with RS_INIT (`result`) by SENDREC and RS's reply lets it go on.
 */
export const RS_INIT = RS_RQ_BASE + 0x14;
export const RS_INIT_LAYOUT = defineLayout({ result: "i32", type: "i32" });
export const SEF_INIT_FRESH = 0;
export const SEF_INIT_LU = 1;
export const SEF_INIT_RESTART = 2;

/**
 * A signal forwarded by a system process's signal manager (RS or PM) as a message.
 * MINIX: `SIGS_SIGNAL_RECEIVED` (com.h).
 */
export const SIGS_SIGNAL_RECEIVED = 0x1300;
export const SIGS_LAYOUT = defineLayout({ signo: "i32" });

/** `sys_flags` of a service (MINIX-SPEC §6.1). */
export const SF_CORE_SRV = 0x001;
export const SF_SYNCH_BOOT = 0x002;
export const SF_NEED_COPY = 0x004;
export const SF_USE_COPY = 0x008;

/** `r_flags` of an RS record (MINIX-SPEC §6.1). */
export const RS_IN_USE = 0x001;
export const RS_EXITING = 0x002;
export const RS_REFRESHING = 0x004;
export const RS_NOPINGREPLY = 0x008;
export const RS_TERMINATED = 0x010;
export const RS_LATEREPLY = 0x020;
export const RS_INITIALIZING = 0x040;
export const RS_ACTIVE = 0x100;

/** Timing in clock ticks: allowed init time, RS's alarm period, backoff cap in periods. */
export const RS_INIT_T = 600;
export const RS_DELTA_T = 60;
export const MAX_BACKOFF = 30;

/**
 * Boot information the loader leaves at the start of RS's data area: RS's priv and sys
 * tables (MINIX `boot_image_priv_table`, `boot_image_sys_table`), one entry per boot process
 * other than RS, in the order RS sets them up.
 */
export const RS_BOOTINFO_MAGIC = 0x52534249;
export const RS_BOOTINFO = defineStruct({ magic: "u32", nprocs: "u32" });
export const RS_BOOTPROC_USER = 0x1;
export const RS_BOOTPROC_IPC_ALL = 0x2;
export const RS_BOOTPROC_KCALL_ALL = 0x4;
export const RS_BOOTPROC = defineStruct({
  slot: "i32",
  label: { bytes: RS_MAX_LABEL_LEN },
  /** RS_BOOTPROC_* bits. */
  bootFlags: "u32",
  sysFlags: "u32",
  period: "i32",
  privFlags: "u32",
  trapMask: "u32",
  /** Allowed IPC targets by slot 0..63 (unless RS_BOOTPROC_IPC_ALL). */
  ipcSlots0: "u32",
  ipcSlots1: "u32",
  kCallMask0: "u32",
  kCallMask1: "u32",
  sigMgr: "endpoint",
});
export const RS_BOOTINFO_MAX_PROCS = 64;
export const RS_BOOTINFO_SIZE = RS_BOOTINFO.size + RS_BOOTINFO_MAX_PROCS * RS_BOOTPROC.size;
/** Pages of RS's boot information: the loader puts them right below RS's heap. */
export const RS_BOOTINFO_PAGES = Math.ceil(RS_BOOTINFO_SIZE / I386_PAGE_SIZE);
