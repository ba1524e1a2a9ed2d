/**
 * The C library's process calls, each one request to PM: fork, exit, waitpid, kill, getpid,
 * getppid, execve, pause, sigaction/signal and sigprocmask. Results are returned, not left
 * in `errno`: a value ≥ 0 or a negative error code.
 *
 * Signal handlers are generator functions run in the process: `sigaction` registers the
 * library's signal entry with the kernel (the "sigentry" trap) and tells PM the signal is
 * caught. When PM delivers it, the kernel starts the entry before the process's interrupted
 * code resumes; the entry runs the handler, then PM_SIGRETURN (PM restores the signal mask
 * and has the kernel pop the frame). A call to PM that was waiting (waitpid, pause) returns
 * EINTR after the handler ran. The scratch message the library's calls share is saved
 * around the handler, so a handler may make library calls.
 * MINIX: lib/libc/posix/_fork.c, _exit.c, _waitpid.c, _kill.c, _getpid.c, _execve.c,
 * _sigaction.c, _sigprocmask.c, _pause.c; lib/libc/arch/i386/sys/_sigreturn.S.
 */
import { E2BIG, OK } from "../../include/errno.ts";
import { MESSAGE_SIZE } from "../../include/message.ts";
import { PM_PROC_NR } from "../../include/endpoint.ts";
import { packExec, PM_CALL_NR, PM_CALLS, SIG_CATCH, SIG_DFL, SIG_IGN } from "../../include/pm.ts";
import { NSIG } from "../../include/signal.ts";
import type { Program, ProcessContext, SigEntry, Trap, TrapResult } from "../../include/trap.ts";
import { setForkEntry } from "../fork.ts";
import { sendrec, type Syscall } from "../ipc.ts";
import { load, store } from "../mem.ts";
import { lib, malloc } from "../runtime.ts";
import { UMessage } from "../umessage.ts";
import { pmCall } from "./pm_call.ts";

/** A signal handler: runs in the process with the signal number. */
export type SigHandler = (ctx: ProcessContext, sig: number) => Syscall<void>;
/** What `sigaction` installs: a handler, or the default action, or ignoring the signal. */
export type SigDisposition = SigHandler | "default" | "ignore";

interface SigState {
  readonly handlers: Map<number, SigHandler>;
  entryRegistered: boolean;
  /** The sigreturn request's own message: the scratch message is restored before it. */
  sigreturnMsg: UMessage | undefined;
}
const sigStates = new WeakMap<ProcessContext, SigState>();

function sigState(ctx: ProcessContext): SigState {
  let s = sigStates.get(ctx);
  if (s === undefined) {
    s = { handlers: new Map(), entryRegistered: false, sigreturnMsg: undefined };
    sigStates.set(ctx, s);
  }
  return s;
}

function* registerSigEntry(entry: SigEntry): Syscall {
  return yield { kind: "sigentry", entry };
}

/** The library's signal entry: save the scratch message, run the handler, sigreturn. */
function* sigEntry(ctx: ProcessContext, sig: number): Generator<Trap, number, TrapResult> {
  const um = lib(ctx).scratch;
  const saved = um.m.bytes.slice();
  const savedMem = new Uint8Array(MESSAGE_SIZE);
  yield* load(ctx, um.va, savedMem);
  const s = sigState(ctx);
  const h = s.handlers.get(sig);
  if (h !== undefined) yield* h(ctx, sig);
  yield* store(ctx, um.va, savedMem);
  um.m.bytes.set(saved);
  // PM restores the mask and the kernel pops the frame: this call does not return on success.
  // Past a failure, returning from the entry ends the frame as well.
  s.sigreturnMsg ??= new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const sr = s.sigreturnMsg;
  sr.m.set(PM_CALL_NR.PM_SIGRETURN, PM_CALLS.PM_SIGRETURN.req, {});
  yield* sr.put();
  return yield* sendrec(PM_PROC_NR, sr.va);
}

/**
 * `sigaction(sig, act, oact)`: installs a handler (or "default" / "ignore") for `sig`;
 * `mask` is blocked while the handler runs (with `sig` itself). Returns the previous
 * disposition's PM value (SIG_DFL, SIG_IGN, SIG_CATCH) or a negative error code.
 */
export function* sigaction(
  ctx: ProcessContext,
  sig: number,
  act: SigDisposition,
  mask = 0,
): Syscall {
  const s = sigState(ctx);
  if (typeof act === "function" && !s.entryRegistered) {
    const r = yield* registerSigEntry(sigEntry);
    if (r !== OK) return r;
    s.entryRegistered = true;
  }
  const handler = act === "default" ? SIG_DFL : act === "ignore" ? SIG_IGN : SIG_CATCH;
  const r = yield* pmCall(ctx, "PM_SIGACTION", { sig, handler, mask: mask >>> 0, flags: 0 });
  if (r.status !== OK) return r.status;
  if (typeof act === "function") s.handlers.set(sig, act);
  else s.handlers.delete(sig);
  return r.handler;
}

/** `signal(sig, handler)`: sigaction with an empty mask. */
export function signal(ctx: ProcessContext, sig: number, act: SigDisposition): Syscall {
  return sigaction(ctx, sig, act);
}

/** `sigprocmask(how, set)`: returns the previous mask (≥ 0) or a negative error code. */
export function* sigprocmask(ctx: ProcessContext, how: number, set: number): Syscall {
  const r = yield* pmCall(ctx, "PM_SIGPROCMASK", { how, set: set >>> 0 });
  return r.status !== OK ? r.status : r.mask;
}

/** The bit of `sig` in a signal set. */
export function sigmask(sig: number): number {
  return sig > 0 && sig < NSIG ? (1 << sig) >>> 0 : 0;
}

/**
 * `fork()`: the child starts in `childMain` with its own context (it must use nothing of
 * the parent's) and the parent's signal handlers. Returns the child's pid to the parent, or
 * a negative error code.
 */
export function* fork(ctx: ProcessContext, childMain: Program): Syscall {
  const inherited = new Map(sigState(ctx).handlers);
  const entry: Program =
    inherited.size === 0
      ? childMain
      : function* (c) {
          const s = sigState(c);
          for (const [sig, h] of inherited) s.handlers.set(sig, h);
          if ((yield* registerSigEntry(sigEntry)) === OK) s.entryRegistered = true;
          return yield* childMain(c);
        };
  const r = yield* setForkEntry(entry);
  if (r !== OK) return r;
  const f = yield* pmCall(ctx, "PM_FORK", {});
  return f.status !== OK ? f.status : f.pid;
}

/** `_exit(status)`: does not return (a system process is refused: it must use sys_exit). */
export function* exit(ctx: ProcessContext, status: number): Syscall {
  return (yield* pmCall(ctx, "PM_EXIT", { status: status & 0xff })).status;
}

/** `waitpid(pid, &status, options)`: `{ pid, status }` (pid 0: WNOHANG, none yet) or an error. */
export function* waitpid(
  ctx: ProcessContext,
  pid: number,
  options = 0,
): Syscall<{ readonly pid: number; readonly status: number } | number> {
  const r = yield* pmCall(ctx, "PM_WAITPID", { pid, options });
  if (r.status !== OK) return r.status;
  return { pid: r.pid, status: r.wstatus };
}

/** `wait(&status)`: waitpid(-1, 0). */
export function wait(
  ctx: ProcessContext,
): Syscall<{ readonly pid: number; readonly status: number } | number> {
  return waitpid(ctx, -1, 0);
}

/** `kill(pid, sig)`: OK or a negative error code. */
export function* kill(ctx: ProcessContext, pid: number, sig: number): Syscall {
  return (yield* pmCall(ctx, "PM_KILL", { pid, sig })).status;
}

/** `getpid()`. */
export function* getpid(ctx: ProcessContext): Syscall {
  const r = yield* pmCall(ctx, "PM_GETPID", {});
  return r.status !== OK ? r.status : r.pid;
}

/** `getppid()`. */
export function* getppid(ctx: ProcessContext): Syscall {
  const r = yield* pmCall(ctx, "PM_GETPID", {});
  return r.status !== OK ? r.status : r.ppid;
}

/** `sigsuspend(mask)`: waits for a caught signal with `mask` in effect; returns EINTR. */
export function* sigsuspend(ctx: ProcessContext, mask: number): Syscall {
  return (yield* pmCall(ctx, "PM_SIGSUSPEND", { mask: mask >>> 0 })).status;
}

/** `pause()`: waits for a caught signal; returns EINTR after its handler ran. */
export function* pause(ctx: ProcessContext): Syscall {
  return (yield* pmCall(ctx, "PM_PAUSE", {})).status;
}

/**
 * `execve(name, argv)`: the process starts program `name` anew; returns only on failure
 * (ENOENT: no such program, ENOMEM: no memory for it — the process is unchanged; E2BIG:
 * the name and arguments do not fit in the request).
 */
export function* execve(ctx: ProcessContext, name: string, argv: readonly string[]): Syscall {
  const strs = packExec(name, argv);
  if (strs === undefined) return E2BIG;
  return (yield* pmCall(ctx, "PM_EXEC", { len: strs.length, pad: 0, strs })).status;
}
