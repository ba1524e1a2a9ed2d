/**
 * What RS asks of PM and of the kernel's signal-manager calls, in one place: `srv_fork`,
 * `srv_exec`, `srv_kill`, the pid of an endpoint, reaping dead children, and the
 * `sys_getksig` / `sys_endksig` loop. MINIX: lib/libsys/srv_fork.c, srv_kill.c, sys_getksig.c.
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { WNOHANG } from "../../include/pm.ts";
import type { Program, ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { waitpid } from "../../lib/libc/pm.ts";
import { getEpinfo, srvExec, srvFork, srvKill } from "../../lib/libsys/srv.ts";
import { sysEndksig, sysGetksig } from "../../lib/libsys/sys_signal.ts";

export interface Forked {
  readonly pid: number;
  readonly endpoint: Endpoint;
}

export function rsSrvFork(ctx: ProcessContext, childMain: Program): Syscall<Forked | number> {
  return srvFork(ctx, childMain);
}

export function rsSrvExec(
  ctx: ProcessContext,
  ep: Endpoint,
  name: string,
  argv: readonly string[],
): Syscall {
  return srvExec(ctx, ep, name, argv);
}

export function rsSrvKill(ctx: ProcessContext, pid: number, sig: number): Syscall {
  return srvKill(ctx, pid, sig);
}

/** The pid PM gave `ep` (0 if PM does not know it). */
export function* rsPidOf(ctx: ProcessContext, ep: Endpoint): Syscall {
  const r = yield* getEpinfo(ctx, ep);
  return typeof r === "number" ? 0 : r.pid;
}

/**
 * The uid of the process `ep` for RS's permission check: PM has no user ids yet, so every
 * process PM knows counts as root (0); one it does not know gets -1.
 */
export function* rsUidOf(ctx: ProcessContext, ep: Endpoint): Syscall {
  const r = yield* getEpinfo(ctx, ep);
  return typeof r === "number" ? -1 : 0;
}

/** Reaps every dead child (`waitpid(-1, WNOHANG)` until none). */
export function* rsReap(ctx: ProcessContext): Syscall<void> {
  for (;;) {
    const r = yield* waitpid(ctx, -1, WNOHANG);
    if (typeof r === "number" || r.pid <= 0) return;
  }
}

/** The next process RS manages with pending signals, or null. */
export function* rsGetksig(
  ctx: ProcessContext,
): Syscall<{ endpoint: Endpoint; sigs: number } | null> {
  const r = yield* sysGetksig(ctx);
  if (typeof r === "number" || r.endpoint === NONE) return null;
  return { endpoint: r.endpoint, sigs: r.sigs };
}

export function rsEndksig(ctx: ProcessContext, ep: Endpoint): Syscall {
  return sysEndksig(ctx, ep);
}
