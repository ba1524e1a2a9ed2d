/**
 * The kernel's signal calls: a signal manager's `sys_getksig` / `sys_endksig`, `sys_kill`,
 * and PM's `sys_sigsend` / `sys_sigreturn` for signal frames. MINIX: lib/libsys/sys_getksig.c,
 * sys_endksig.c, sys_kill.c, sys_sigsend.c, sys_sigreturn.c (MINIX-SPEC §3.7, §6.7).
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../ipc.ts";
import { kernelCall } from "./kernel_call.ts";

/**
 * The next process this signal manager manages with pending kernel signals, and its set
 * (one bit per signal); endpoint NONE when there is none; a negative error code on failure.
 */
export function* sysGetksig(
  ctx: ProcessContext,
): Syscall<{ readonly endpoint: Endpoint; readonly sigs: number } | number> {
  const r = yield* kernelCall(ctx, "SYS_GETKSIG", {});
  if (r.status !== OK) return r.status;
  return { endpoint: r.reply.endpt, sigs: r.reply.sigs };
}

/** The manager is done with `endpt`'s signals; it runs again unless new ones arrived. */
export function* sysEndksig(ctx: ProcessContext, endpt: Endpoint): Syscall {
  return (yield* kernelCall(ctx, "SYS_ENDKSIG", { endpt })).status;
}

/** Causes signal `sig` for `endpt`: its signal manager is told. */
export function* sysKill(ctx: ProcessContext, endpt: Endpoint, sig: number): Syscall {
  return (yield* kernelCall(ctx, "SYS_KILL", { endpt, sig })).status;
}

/** Pushes a signal frame for `sig` on the user process `endpt` (its handler runs next). */
export function* sysSigsend(ctx: ProcessContext, endpt: Endpoint, sig: number): Syscall {
  return (yield* kernelCall(ctx, "SYS_SIGSEND", { endpt, sig })).status;
}

/** Pops `endpt`'s newest signal frame: its interrupted code resumes. */
export function* sysSigreturn(ctx: ProcessContext, endpt: Endpoint): Syscall {
  return (yield* kernelCall(ctx, "SYS_SIGRETURN", { endpt })).status;
}
