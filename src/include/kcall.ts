/**
 * Kernel calls: numbers (A era, base 0x600) and one request/reply layout per implemented
 * call. The kernel's call vector and the library's `sys*` wrappers are both typed from
 * this file. MINIX: include/minix/com.h (MINIX-SPEC §3.3).
 */
import type { Endpoint } from "./endpoint.ts";
import { defineLayout, defineStruct, type Layout, type FieldKind } from "./message.ts";

export const KERNEL_CALL = 0x600;

/** Every A-era kernel call number (call − KERNEL_CALL). */
export const KCALL_NR = {
  SYS_FORK: 0,
  SYS_EXEC: 1,
  SYS_CLEAR: 2,
  SYS_SCHEDULE: 3,
  SYS_PRIVCTL: 4,
  SYS_TRACE: 5,
  SYS_KILL: 6,
  SYS_GETKSIG: 7,
  SYS_ENDKSIG: 8,
  SYS_SIGSEND: 9,
  SYS_SIGRETURN: 10,
  SYS_NEWMAP: 11,
  SYS_SEGCTL: 12,
  SYS_MEMSET: 13,
  SYS_UMAP: 14,
  SYS_VIRCOPY: 15,
  SYS_PHYSCOPY: 16,
  SYS_IRQCTL: 19,
  SYS_INT86: 20,
  SYS_DEVIO: 21,
  SYS_SDEVIO: 22,
  SYS_VDEVIO: 23,
  SYS_SETALARM: 24,
  SYS_TIMES: 25,
  SYS_GETINFO: 26,
  SYS_ABORT: 27,
  SYS_IOPENABLE: 28,
  /** Not in the A-era table: console output (later MINIX's SYS_DIAGCTL), free slot 30. */
  SYS_DIAGCTL: 30,
  SYS_SAFECOPYFROM: 31,
  SYS_SAFECOPYTO: 32,
  SYS_VSAFECOPY: 33,
  SYS_SETGRANT: 34,
  SYS_READBIOS: 35,
  SYS_SPROF: 36,
  SYS_CPROF: 37,
  SYS_PROFBUF: 38,
  SYS_STIME: 39,
  SYS_VMCTL: 43,
  SYS_SYSCTL: 44,
  SYS_VTIMER: 45,
  SYS_RUNCTL: 46,
  SYS_SAFEMAP: 47,
  SYS_SAFEREVMAP: 48,
  SYS_SAFEUNMAP: 49,
  SYS_GETMCONTEXT: 50,
  SYS_SETMCONTEXT: 51,
  SYS_UPDATE: 52,
  SYS_EXIT: 53,
  SYS_SCHEDCTL: 54,
  SYS_STATECTL: 55,
  /** Not in MINIX's table: fill granted memory with a byte (later MINIX's SYS_SAFEMEMSET). */
  SYS_SAFEMEMSET: 56,
} as const;
export type KcallNrName = keyof typeof KCALL_NR;
export const NR_SYS_CALLS = 57;

/** The name of a call number (0-based), or undefined for unused numbers. */
export function kcallName(nr: number): KcallNrName | undefined {
  return KCALL_NAMES[nr];
}
const KCALL_NAMES: readonly (KcallNrName | undefined)[] = (() => {
  const names: (KcallNrName | undefined)[] = new Array<KcallNrName | undefined>(NR_SYS_CALLS);
  for (const [name, n] of Object.entries(KCALL_NR)) names[n] = name as KcallNrName;
  return names;
})();

/** SYS_GETINFO requests (I_REQUEST). */
export const GET_KINFO = 0;
export const GET_IMAGE = 1;
export const GET_PROCTAB = 2;
export const GET_RANDOMNESS = 3;
export const GET_PRIVTAB = 8;
export const GET_PROC = 11;
export const GET_PRIV = 17;
export const GET_HZ = 18;
export const GET_WHOAMI = 19;

/** SYS_FORK flags (PR_FORK_FLAGS): the child waits in RTS_VMINHIBIT for its page table. */
export const PFF_VMINHIBIT = 0x02;

/** SYS_EXEC limits: a program name has 1..PROGRAM_NAME_MAX bytes, the argument block at most EXEC_ARGV_MAX. */
export const PROGRAM_NAME_MAX = 32;
export const EXEC_ARGV_MAX = 4096;

/** Privilege flags (`s_flags`, MINIX kernel/priv.h), as SYS_PRIVCTL and RS see them. */
export const PREEMPTIBLE = 0x02;
export const BILLABLE = 0x04;
export const DYN_PRIV_ID = 0x08;
export const SYS_PROC = 0x10;
export const CHECK_IO_PORT = 0x20;
export const CHECK_IRQ = 0x40;
export const CHECK_MEM = 0x80;

/** SYS_PRIVCTL requests (CTL_REQUEST). */
export const SYS_PRIV_ALLOW = 1;
export const SYS_PRIV_DISALLOW = 2;
export const SYS_PRIV_SET_SYS = 3;
export const SYS_PRIV_SET_USER = 4;
export const SYS_PRIV_ADD_IO = 5;
export const SYS_PRIV_ADD_MEM = 6;
export const SYS_PRIV_ADD_IRQ = 7;
export const SYS_PRIV_QUERY_MEM = 8;

/** SYS_VMCTL parameters (SVMCTL_PARAM). */
export const VMCTL_I386_SETCR3 = 10;
export const VMCTL_CLEAR_PAGEFAULT = 12;
export const VMCTL_GET_PDBR = 13;
export const VMCTL_MEMREQ_GET = 14;
export const VMCTL_MEMREQ_REPLY = 15;
export const VMCTL_INCSP = 16;
export const VMCTL_NOPAGEZERO = 18;
export const VMCTL_I386_KERNELLIMIT = 19;
export const VMCTL_I386_PAGEDIRS = 20;
export const VMCTL_I386_FREEPDE = 23;
export const VMCTL_ENABLE_PAGING = 24;
export const VMCTL_I386_INVLPG = 25;
export const VMCTL_FLUSHTLB = 26;
export const VMCTL_KERN_PHYSMAP = 27;
export const VMCTL_KERN_MAP_REPLY = 28;
export const VMCTL_SETADDRSPACE = 29;

/** Memory-request types returned by VMCTL_MEMREQ_GET. */
export const VMPTYPE_NONE = 0;
export const VMPTYPE_CHECK = 1;
export const VMPTYPE_COWMAP = 2;
export const VMPTYPE_SMAP = 3;
export const VMPTYPE_SUNMAP = 4;

/** A call's request layout and the reply fields the kernel writes into the same message. */
interface CallDef<Req extends Readonly<Record<string, FieldKind>>> {
  readonly req: Layout<Req>;
  readonly reply: Layout<Readonly<Record<string, FieldKind>>>;
}

const none = defineLayout({});
const safecopyReq = defineLayout({
  granter: "endpoint",
  gid: "i32",
  offset: "u32",
  address: "vir",
  bytes: "u32",
});

/** Layouts of every implemented kernel call: the one place a field offset is decided. */
export const KCALLS = {
  /** I_REQUEST, I_VAL_PTR, I_VAL_LEN, I_VAL_PTR2, I_VAL_LEN2_E. */
  SYS_GETINFO: {
    req: defineLayout({
      request: "i32",
      valPtr: "vir",
      valLen: "i32",
      valPtr2: "vir",
      valLen2: "i32",
    }),
    reply: defineLayout({
      request: "i32",
      endpt: "endpoint",
      privFlags: "i32",
      initFlags: "i32",
      name: { bytes: 16 },
      count: "i32",
    }),
  },
  /** T_ENDPT in; T_USER_TIME, T_SYSTEM_TIME, T_BOOT_TICKS out. */
  SYS_TIMES: {
    req: defineLayout({ endpt: "endpoint" }),
    reply: defineLayout({
      endpt: "endpoint",
      userTime: "u32",
      systemTime: "u32",
      bootTicks: "u32",
    }),
  },
  /** ALRM_EXP_TIME, ALRM_ABS_TIME in; ALRM_TIME_LEFT out (0 = no alarm was set). */
  SYS_SETALARM: {
    req: defineLayout({ expTime: "u32", absTime: "i32" }),
    reply: defineLayout({ expTime: "u32", absTime: "i32", timeLeft: "u32" }),
  },
  /**
   * PR_ENDPT (parent), PR_SLOT (child slot), PR_FORK_FLAGS in; PR_ENDPT (child endpoint)
   * out. The child starts in the program its parent named with a "forkentry" trap.
   */
  SYS_FORK: {
    req: defineLayout({ endpt: "endpoint", slot: "i32", flags: "u32" }),
    reply: defineLayout({ endpt: "endpoint" }),
  },
  /**
   * PR_ENDPT (the process), and instead of MINIX's stack and entry point: the program's
   * name (address and length in the caller) and its arguments, a block of NUL-terminated
   * strings in the caller (address and length). The process starts the program anew.
   */
  SYS_EXEC: {
    req: defineLayout({
      endpt: "endpoint",
      name: "vir",
      nameLen: "i32",
      argv: "vir",
      argvLen: "i32",
    }),
    reply: none,
  },
  /** SIG_ENDPT, SIG_NUMBER: cause a signal for a process. */
  SYS_KILL: { req: defineLayout({ endpt: "endpoint", sig: "i32" }), reply: none },
  /**
   * The calling signal manager fetches the next process it manages with pending kernel
   * signals. Reply: SIG_ENDPT (NONE when there is none) and SIG_MAP, the pending set.
   */
  SYS_GETKSIG: {
    req: none,
    reply: defineLayout({ endpt: "endpoint", sigs: "u32" }),
  },
  /** SIG_ENDPT: the manager is done with this process's signals. */
  SYS_ENDKSIG: { req: defineLayout({ endpt: "endpoint" }), reply: none },
  /**
   * SIG_ENDPT, SIG_NUMBER: push a signal frame on a user process — before it next runs, it
   * runs the signal entry it registered (the "sigentry" trap) for `sig`.
   */
  SYS_SIGSEND: { req: defineLayout({ endpt: "endpoint", sig: "i32" }), reply: none },
  /** SIG_ENDPT: pop the process's newest signal frame; it resumes where it was interrupted. */
  SYS_SIGRETURN: { req: defineLayout({ endpt: "endpoint" }), reply: none },
  /** The caller asks to exit; no reply. */
  SYS_EXIT: { req: none, reply: none },
  /** PR_ENDPT: release a process slot. */
  SYS_CLEAR: { req: defineLayout({ endpt: "endpoint" }), reply: none },
  /** CTL_ENDPT, CTL_REQUEST, CTL_ARG_PTR. */
  SYS_PRIVCTL: {
    req: defineLayout({ endpt: "endpoint", request: "i32", argPtr: "vir" }),
    reply: none,
  },
  /** SG_ADDR, SG_SIZE. */
  SYS_SETGRANT: { req: defineLayout({ addr: "vir", size: "i32" }), reply: none },
  /** SVMCTL_WHO, SVMCTL_PARAM, SVMCTL_VALUE; MEMREQ results. */
  SYS_VMCTL: {
    req: defineLayout({ who: "endpoint", param: "i32", value: "u32" }),
    reply: defineLayout({
      who: "endpoint",
      param: "i32",
      value: "u32",
      target: "endpoint",
      addr: "vir",
      length: "u32",
      flag: "i32",
      requestor: "endpoint",
      ep2: "endpoint",
      addr2: "vir",
    }),
  },
  /** The message (address, length in the caller): halt the machine with it. */
  SYS_ABORT: { req: defineLayout({ buf: "vir", len: "i32" }), reply: none },
  /**
   * SCP_FROM_TO (granter), SCP_GID, SCP_OFFSET (in the grant), SCP_ADDRESS (in the caller),
   * SCP_BYTES: copy granted memory to the caller (no segment field: one flat space).
   */
  SYS_SAFECOPYFROM: { req: safecopyReq, reply: none },
  /** As SYS_SAFECOPYFROM, data flowing from the caller to the granter. */
  SYS_SAFECOPYTO: { req: safecopyReq, reply: none },
  /**
   * VSCP_VEC_ADDR, VSCP_VEC_SIZE (elements, 0..SCPVEC_NR) in; `done` out: elements completed,
   * which on an error is the index of the element that failed.
   */
  SYS_VSAFECOPY: {
    req: defineLayout({ vecAddr: "vir", vecSize: "i32" }),
    reply: defineLayout({ vecAddr: "vir", vecSize: "i32", done: "i32" }),
  },
  /** SMS_DST (granter), SMS_GID, SMS_OFFSET, SMS_PATTERN (low byte), SMS_BYTES. */
  SYS_SAFEMEMSET: {
    req: defineLayout({
      granter: "endpoint",
      gid: "i32",
      offset: "u32",
      char: "i32",
      bytes: "u32",
    }),
    reply: none,
  },
  /**
   * SMAP_EP (grantor), SMAP_GID, SMAP_OFFSET (in the grant), SMAP_ADDRESS (in the caller),
   * SMAP_BYTES, SMAP_FLAG (writable): map granted pages at the caller's address (no segment
   * field: one flat space).
   */
  SYS_SAFEMAP: {
    req: defineLayout({
      grantor: "endpoint",
      gid: "i32",
      offset: "u32",
      address: "vir",
      bytes: "u32",
      flag: "i32",
    }),
    reply: none,
  },
  /**
   * SMAP_FLAG, SMAP_GID: the grantor revokes its mappings made through grant id `arg`
   * (flag 1) or starting at address `arg` of its memory (flag 0).
   */
  SYS_SAFEREVMAP: { req: defineLayout({ flag: "i32", arg: "u32" }), reply: none },
  /** SMAP_ADDRESS: the grantee removes its mappings at that address. */
  SYS_SAFEUNMAP: { req: defineLayout({ address: "vir" }), reply: none },
  /** DIAG_BUF, DIAG_LEN: print bytes of the caller's memory on the console. */
  SYS_DIAGCTL: { req: defineLayout({ buf: "vir", len: "i32" }), reply: none },
} as const satisfies { readonly [K in KcallNrName]?: CallDef<Readonly<Record<string, FieldKind>>> };

export type KcallName = keyof typeof KCALLS;
export type KcallReq<K extends KcallName> = ReturnType<(typeof KCALLS)[K]["req"]["read"]>;
export type KcallReply<K extends KcallName> = ReturnType<(typeof KCALLS)[K]["reply"]["read"]>;

/** Boot image table flag: the process gets a page table of its own (MINIX `PROC_FULLVM`). */
export const PROC_FULLVM = 0x100;
/**
 * Boot image table flag (not MINIX's): this entry is the root system process the kernel booted
 * through (RS). SEF waits for RS's init request only when the image has it.
 */
export const PROC_ROOT = 0x200;
/**
 * One entry of the `GET_IMAGE` table (MINIX `struct boot_image`): every boot process in
 * boot-image order, kernel tasks first. The reply's `count` says how many entries there are;
 * the caller's buffer must hold them all (EINVAL otherwise).
 */
export const BOOT_IMAGE_ENTRY = defineStruct({
  procNr: "i32",
  flags: "u32",
  quantum: "i32",
  priority: "i32",
  endpoint: "endpoint",
  name: { bytes: 16 },
});

/** One boot process (MINIX `struct boot_image`), as the kernel keeps it and GET_IMAGE gives it. */
export interface BootImage {
  readonly procNr: number;
  /** PROC_FULLVM, PROC_ROOT or 0. */
  readonly flags: number;
  readonly quantum: number;
  readonly priority: number;
  readonly endpoint: Endpoint;
  readonly name: string;
}

/** `GET_KINFO` result written to I_VAL_PTR: six u32 (see `KINFO_FIELDS`). */
export const KINFO_FIELDS = ["nrProcs", "nrTasks", "nrSysProcs", "frames", "hz", "uptime"] as const;
export const KINFO_SIZE = KINFO_FIELDS.length * 4;
/** Upper bound on GET_RANDOMNESS lengths. */
export const GETINFO_MAX_RANDOM = 4096;

/**
 * The optional SYS_PRIV_SET_SYS argument (`struct priv` subset) at CTL_ARG_PTR. Only the
 * first 32 bits of the IPC target mask are used, as in MINIX.
 */
export const PRIV_ARG = defineStruct({
  flags: "u32",
  id: "i32",
  trapMask: "u32",
  sigMgr: "endpoint",
  ipcTo: "u32",
  kCallMask0: "u32",
  kCallMask1: "u32",
});
