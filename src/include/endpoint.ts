/**
 * Endpoints: one incarnation of a process slot, `endpoint = gen * GEN_SIZE + slot`.
 * MINIX: include/minix/endpoint.h, include/minix/com.h (MINIX-SPEC §1.1–1.2).
 */
declare const endpointBrand: unique symbol;

/** A process endpoint (slot + generation), or one of the magic values ANY/NONE/SELF. */
export type Endpoint = number & { readonly [endpointBrand]: true };

export const MAX_NR_TASKS = 1023;
export const ANY = 0x7ace as Endpoint;
export const NONE = 0x6ace as Endpoint;
export const SELF = 0x8ace as Endpoint;
const MAX_MAGIC_PROC = SELF;
export const GEN_SIZE = MAX_NR_TASKS + MAX_MAGIC_PROC + 1;
export const MAX_GEN = Math.floor(0x7fffffff / GEN_SIZE) - 1;

/** Kernel tasks live at negative slots. */
export const IDLE = -4 as Endpoint;
export const CLOCK = -3 as Endpoint;
export const SYSTEM = -2 as Endpoint;
export const KERNEL = -1 as Endpoint;
/** Pseudo-source of interrupt notifications; an alias of KERNEL. */
export const HARDWARE = KERNEL;
export const NR_TASKS = 4;

/** Fixed boot slots (generation 0, so these are also the boot endpoints). */
export const PM_PROC_NR = 0 as Endpoint;
export const VFS_PROC_NR = 1 as Endpoint;
export const RS_PROC_NR = 2 as Endpoint;
export const MEM_PROC_NR = 3 as Endpoint;
export const LOG_PROC_NR = 4 as Endpoint;
export const TTY_PROC_NR = 5 as Endpoint;
export const DS_PROC_NR = 6 as Endpoint;
export const MFS_PROC_NR = 7 as Endpoint;
export const VM_PROC_NR = 8 as Endpoint;
export const PFS_PROC_NR = 9 as Endpoint;
export const INIT_PROC_NR = 10 as Endpoint;
export const LAST_SPECIAL_PROC_NR = 10;
export const NR_BOOT_PROCS = NR_TASKS + LAST_SPECIAL_PROC_NR + 1;

/** `_ENDPOINT(g, p)`: the endpoint of generation `gen` of slot `slot`. */
export function makeEndpoint(gen: number, slot: number): Endpoint {
  return (gen * GEN_SIZE + slot) as Endpoint;
}

/** `_ENDPOINT_G(e)`: the generation encoded in an endpoint. */
export function generationOf(e: number): number {
  return Math.floor((e + MAX_NR_TASKS) / GEN_SIZE);
}

/** `_ENDPOINT_P(e)`: the slot encoded in an endpoint. */
export function slotOf(e: number): number {
  return ((e + MAX_NR_TASKS) % GEN_SIZE) - MAX_NR_TASKS;
}

/** The generation that follows `gen` when a slot is reused; wraps from MAX_GEN to 1. */
export function nextGeneration(gen: number): number {
  const next = gen + 1;
  return next >= MAX_GEN ? 1 : next;
}

const TASK_NAMES: Readonly<Record<number, string>> = {
  [IDLE]: "IDLE",
  [CLOCK]: "CLOCK",
  [SYSTEM]: "SYSTEM",
  [KERNEL]: "KERNEL",
  [ANY]: "ANY",
  [NONE]: "NONE",
  [SELF]: "SELF",
};

/** A printable name for magic endpoints and kernel tasks; other endpoints print as numbers. */
export function endpointName(e: number): string {
  return TASK_NAMES[e] ?? String(e);
}
