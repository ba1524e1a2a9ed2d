/**
 * INIT, the first user process (pid 1): starts the program named by its arguments (if any)
 * in a child — `argv[0]` with the remaining arguments — and then reaps every child that ends,
 * its own and the orphans PM gives it, for ever. It waits with SIGCHLD blocked except inside
 * sigsuspend, so a child's end cannot slip between waitpid and the wait for the signal.
 * It stops only when PM cannot be reached.
 * MINIX: servers/init/init.c.
 */
import { ECHILD, EINTR, OK } from "../../include/errno.ts";
import { SIG_BLOCK, SIG_SETMASK, WNOHANG } from "../../include/pm.ts";
import { SIGCHLD } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../../lib/ipc.ts";
import {
  execve,
  exit,
  fork,
  sigaction,
  sigmask,
  sigprocmask,
  sigsuspend,
  waitpid,
} from "../../lib/libc/pm.ts";

/** Ends of children INIT reaped: pid and wait status (for the inspector and tests). */
export interface InitLog {
  readonly reaped: { pid: number; status: number }[];
}
const logs = new WeakMap<ProcessContext, InitLog>();

/** What INIT running with `ctx` has reaped so far. */
export function initLog(ctx: ProcessContext): InitLog {
  let l = logs.get(ctx);
  if (l === undefined) {
    l = { reaped: [] };
    logs.set(ctx, l);
  }
  return l;
}

/**
 * The child that runs INIT's configured program with the signal mask INIT started with;
 * exits 127 when exec fails.
 */
function runner(name: string, args: readonly string[], mask: number) {
  return function* (ctx: ProcessContext): Syscall {
    yield* sigprocmask(ctx, SIG_SETMASK, mask);
    const r = yield* execve(ctx, name, args);
    yield* exit(ctx, 127);
    return r;
  };
}

function* onSigchld(): Syscall<void> {
  // Only to end sigsuspend: the loop reaps.
}

export function* initMain(ctx: ProcessContext): Syscall {
  const log = initLog(ctx);
  if ((yield* sigaction(ctx, SIGCHLD, onSigchld)) < 0) return 1;
  const old = yield* sigprocmask(ctx, SIG_BLOCK, sigmask(SIGCHLD));
  if (old < 0) return 1;
  const [name, ...args] = ctx.argv;
  if (name !== undefined) yield* fork(ctx, runner(name, args, old));
  for (;;) {
    const r = yield* waitpid(ctx, -1, WNOHANG);
    if (typeof r !== "number" && r.pid > 0) {
      log.reaped.push({ pid: r.pid, status: r.status });
      continue;
    }
    if (typeof r === "number" && r !== ECHILD) return 1;
    const s = yield* sigsuspend(ctx, old & ~sigmask(SIGCHLD));
    if (s !== EINTR && s !== OK) return 1;
  }
}
