/**
 * PM's protocol: requests processes send PM with SENDREC (`m_type` = call number, MINIX's
 * callnr.h where the call exists), replies with `m_type` = status (OK or a negative error
 * code) and the call's reply fields. One layout per call; strings (program names,
 * arguments) travel inside the message (see `PM_EXEC_STR_MAX`) because no copy kernel call
 * exists yet. MINIX: include/minix/callnr.h, servers/pm/table.c (MINIX-SPEC §7).
 */
import { defineLayout, PAYLOAD_SIZE, type FieldKind, type Layout } from "./message.ts";

export const PM_CALL_NR = {
  PM_EXIT: 1,
  PM_FORK: 2,
  PM_WAITPID: 11,
  /** Reply: the caller's pid and its parent's pid (MINIX GETPID answers both). */
  PM_GETPID: 20,
  PM_PAUSE: 29,
  PM_KILL: 37,
  PM_EXEC: 59,
  PM_SIGACTION: 71,
  /** Wait for a caught signal with a temporary signal mask. */
  PM_SIGSUSPEND: 72,
  PM_SIGPROCMASK: 74,
  PM_SIGRETURN: 75,
  /** RS only (else EPERM): fork RS; the child keeps system-process status (MINIX SRV_FORK). */
  PM_SRV_FORK: 101,
  /** pid ↔ endpoint lookup (MINIX GETEPINFO, and GETPROCNR for the other direction). */
  PM_GETEPINFO: 107,
  /** RS only: a signal treated as a kernel signal (MINIX SRV_KILL). */
  PM_SRV_KILL: 111,
  /**
   * RS only: run a program in RS's NO_PRIV child `endpt` (MINIX: RS's EXEC_NEWMEM and
   * EXEC_RESTART in one call).
   */
  PM_SRV_EXEC: 112,
} as const;
export type PmCallName = keyof typeof PM_CALL_NR;

/** `pid` values. */
export const NO_PID = 0;
export const INIT_PID = 1;
/** Pids are below this value (MINIX NR_PIDS). */
export const NR_PIDS = 30000;

/** waitpid options. */
export const WNOHANG = 1;
export const WUNTRACED = 2;

/** sigaction handler values (`sa_handler`): default, ignore, catch (run the registered handler). */
export const SIG_DFL = 0;
export const SIG_IGN = 1;
export const SIG_CATCH = 2;
/** sigprocmask `how`. */
export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;

/** Wait status macros: `(status << 8) | signal` (MINIX-SPEC §7.3). */
export function WIFEXITED(s: number): boolean {
  return (s & 0x7f) === 0;
}
export function WEXITSTATUS(s: number): number {
  return (s >> 8) & 0xff;
}
export function WIFSIGNALED(s: number): boolean {
  return (s & 0x7f) !== 0 && (s & 0x7f) !== 0x7f;
}
export function WTERMSIG(s: number): number {
  return s & 0x7f;
}

/** Most bytes of a packed program name and arguments (each NUL-terminated) in PM_EXEC. */
export const PM_EXEC_STR_MAX = PAYLOAD_SIZE - 8;

type AnyLayout = Layout<Readonly<Record<string, FieldKind>>>;
const none = defineLayout({});
const PID_REPLY = defineLayout({ pid: "i32" });
const EXEC_STR = { bytes: PM_EXEC_STR_MAX } as const;

/** Request and reply layouts of every PM call. */
export const PM_CALLS = {
  /** The caller's exit status (0..255). No reply. */
  PM_EXIT: { req: defineLayout({ status: "i32" }), reply: none },
  /** The caller named its child's program with the "forkentry" trap. Reply: the child's pid. */
  PM_FORK: { req: none, reply: PID_REPLY },
  /**
   * pid (> 0 one child, -1 any, 0 own group, < -1 group −pid), options (WNOHANG). Reply: the
   * child's pid (0: WNOHANG and none exited yet) and its status `(status << 8) | sig`
   * (`wstatus`).
   */
  PM_WAITPID: {
    req: defineLayout({ pid: "i32", options: "i32" }),
    reply: defineLayout({ pid: "i32", wstatus: "i32" }),
  },
  PM_GETPID: { req: none, reply: defineLayout({ pid: "i32", ppid: "i32" }) },
  /** Wait for a signal; the reply is EINTR once a caught signal was delivered. */
  PM_PAUSE: { req: none, reply: none },
  /** pid (as waitpid; -1: every user process but INIT and the caller), sig (0: check only). */
  PM_KILL: { req: defineLayout({ pid: "i32", sig: "i32" }), reply: none },
  /**
   * The program's name then its arguments, each NUL-terminated, `len` bytes in `strs`. The
   * caller does not get a reply when the exec succeeds: it starts the program anew.
   */
  PM_EXEC: { req: defineLayout({ len: "i32", pad: "i32", strs: EXEC_STR }), reply: none },
  /**
   * sig, handler (SIG_DFL, SIG_IGN or SIG_CATCH), mask (blocked while the handler runs),
   * flags. Reply: the previous handler value and mask.
   */
  PM_SIGACTION: {
    req: defineLayout({ sig: "i32", handler: "i32", mask: "u32", flags: "i32" }),
    reply: defineLayout({ handler: "i32", mask: "u32" }),
  },
  /** how (SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK), set. Reply: the previous mask. */
  PM_SIGPROCMASK: {
    req: defineLayout({ how: "i32", set: "u32" }),
    reply: defineLayout({ mask: "u32" }),
  },
  /** mask: in effect until a caught signal was handled. The reply is EINTR. */
  PM_SIGSUSPEND: { req: defineLayout({ mask: "u32" }), reply: none },
  /** From a signal entry: the handler is done; restore the mask. No reply: the process resumes. */
  PM_SIGRETURN: { req: none, reply: none },
  /** Reply: the child's pid and endpoint (it waits in RTS_NO_PRIV). */
  PM_SRV_FORK: { req: none, reply: defineLayout({ pid: "i32", endpt: "endpoint" }) },
  /**
   * endpt, or with endpt NONE the pid. Reply: the process's endpoint, pid and parent's pid
   * (ESRCH: no such live process).
   */
  PM_GETEPINFO: {
    req: defineLayout({ endpt: "endpoint", pid: "i32" }),
    reply: defineLayout({ endpt: "endpoint", pid: "i32", ppid: "i32" }),
  },
  /** pid, sig. */
  PM_SRV_KILL: { req: defineLayout({ pid: "i32", sig: "i32" }), reply: none },
  /** endpt (RS's child), then the program's name and arguments as in PM_EXEC. */
  PM_SRV_EXEC: {
    req: defineLayout({ endpt: "endpoint", len: "i32", strs: EXEC_STR }),
    reply: none,
  },
} as const satisfies {
  readonly [K in PmCallName]: { readonly req: AnyLayout; readonly reply: AnyLayout };
};
export type PmReq<K extends PmCallName> = ReturnType<(typeof PM_CALLS)[K]["req"]["read"]>;
export type PmReply<K extends PmCallName> = ReturnType<(typeof PM_CALLS)[K]["reply"]["read"]>;

/** The call named by `m_type`, if PM serves it. */
export function pmCallName(type: number): PmCallName | undefined {
  return PM_CALL_NAMES.get(type);
}
const PM_CALL_NAMES: ReadonlyMap<number, PmCallName> = new Map(
  Object.entries(PM_CALL_NR).map(([n, v]) => [v, n as PmCallName]),
);

/**
 * Packs a program name and its arguments as PM_EXEC carries them (the layout pads the field);
 * undefined if too long.
 */
export function packExec(name: string, argv: readonly string[]): Uint8Array | undefined {
  const bytes = new TextEncoder().encode([name, ...argv].map((s) => `${s}\0`).join(""));
  return bytes.length > PM_EXEC_STR_MAX ? undefined : bytes;
}

/** Unpacks `len` bytes of PM_EXEC strings; undefined when malformed (no name, no final NUL). */
export function unpackExec(
  strs: Uint8Array,
  len: number,
): { name: string; argv: string[] } | undefined {
  if (!Number.isInteger(len) || len < 2 || len > strs.length || strs[len - 1] !== 0)
    return undefined;
  const parts = new TextDecoder("utf-8", { fatal: false })
    .decode(strs.subarray(0, len - 1))
    .split("\0");
  const name = parts[0]!;
  if (name === "") return undefined;
  return { name, argv: parts.slice(1) };
}
