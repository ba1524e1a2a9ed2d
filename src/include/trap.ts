/**
 * Traps: the only way a process enters the kernel. A process is a generator that yields a
 * trap record (its registers) and is resumed with the value of its return register.
 * MINIX: the IPC trap (int 33), the kernel-call trap (int 32) and the page-fault exception.
 */
import type { Endpoint } from "./endpoint.ts";
import type { VirAddr } from "./types.ts";

/** SEND, RECEIVE, SENDREC, NOTIFY or SENDNB. `status` is written back by the kernel. */
export interface IpcTrap {
  readonly kind: "ipc";
  readonly call: number;
  readonly srcDst: Endpoint;
  readonly msg: VirAddr;
  /** Output register (ebx): the IPC status word of a received message. */
  status: number;
}

/** SENDA: `count` entries of `asynmsg_t` at `table`. */
export interface SendaTrap {
  readonly kind: "senda";
  readonly table: VirAddr;
  readonly count: number;
}

/** A kernel call: the request message at `msg` is overwritten with the reply. */
export interface KcallTrap {
  readonly kind: "kcall";
  readonly msg: VirAddr;
}

/** A load or store through the CPU port faulted at `addr`. */
export interface PageFaultTrap {
  readonly kind: "pagefault";
  readonly addr: VirAddr;
  readonly write: boolean;
}

/**
 * Names the program a child created by fork starts in: the child's "instruction pointer",
 * kept in the process's registers until the next fork (SYS_FORK copies it to the child).
 */
export interface ForkEntryTrap {
  readonly kind: "forkentry";
  readonly program: Program;
}

/**
 * Names the process's signal entry: the code the kernel starts, with the signal number, when
 * a signal frame is pushed on the process (SYS_SIGSEND) — MINIX's handler address and
 * return trampoline in one. It runs before the interrupted code resumes; the frame is popped
 * by SYS_SIGRETURN (or when the entry returns). Kept until exec; a fork child starts without.
 */
export interface SigEntryTrap {
  readonly kind: "sigentry";
  readonly entry: SigEntry;
}

export type Trap = IpcTrap | SendaTrap | KcallTrap | PageFaultTrap | ForkEntryTrap | SigEntryTrap;
export type TrapResult = number;

/** Result of a CPU-port access: OK (0) or a fault (the address is in `faultAddr`). */
export const CPU_OK = 0;
export const CPU_FAULT = -1;

/**
 * The process's view of its own memory: loads and stores through the MMU with user-mode
 * permissions. A failing access returns CPU_FAULT and leaves `faultAddr`/`faultWrite` set;
 * the library then yields a page-fault trap and retries.
 */
export interface CpuPort {
  read(va: VirAddr, dst: Uint8Array): number;
  write(va: VirAddr, src: Uint8Array): number;
  /** `read` into words (host order = little-endian); the fast way to load a message. */
  readWords(va: VirAddr, dst: Uint32Array): number;
  /** `write` from words; the fast way to store a message. */
  writeWords(va: VirAddr, src: Uint32Array): number;
  /** A little-endian 32-bit load of an aligned word: its value, or CPU_FAULT. */
  read32(va: VirAddr): number;
  /** A little-endian 32-bit store to an aligned word: CPU_OK or CPU_FAULT. */
  write32(va: VirAddr, value: number): number;
  /**
   * `n` words (word aligned, inside one page) of the process's own memory at `va`, mapped
   * for loads and stores: a view of the memory itself, as a TLB entry gives the CPU, for the
   * library's message and key buffers (see lib/mapped.ts). Valid while `tlbGen` is unchanged.
   * Null when the words cannot be mapped writable now (not present, read-only): then the
   * copying calls, which fault and are retried, reach them. `last`, an earlier answer for the
   * same words, is returned again when they are still at the same place (no allocation).
   */
  mapWords(va: VirAddr, n: number, last?: Uint32Array | null): Uint32Array | null;
  /** Changes whenever a mapping from `mapWords` may have gone stale (any TLB change). */
  readonly tlbGen: number;
  readonly faultAddr: VirAddr;
  readonly faultWrite: boolean;
}

/** What a process may hold: its arguments and its CPU port. */
export interface ProcessContext {
  readonly argv: readonly string[];
  readonly cpu: CpuPort;
  /** Start and size of the data area the loader mapped for this process. */
  readonly heapBase: VirAddr;
  readonly heapSize: number;
}

/** A program: resumed with the trap result, returns its exit status. */
export type Program = (ctx: ProcessContext) => Generator<Trap, number, TrapResult>;

/** A signal entry: runs the handler of `sig` in the process (see SigEntryTrap). */
export type SigEntry = (ctx: ProcessContext, sig: number) => Generator<Trap, number, TrapResult>;
