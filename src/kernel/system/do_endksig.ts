/**
 * SYS_ENDKSIG: a signal manager is done with the signals it fetched for a process. Unless a
 * new signal arrived meanwhile (RTS_SIGNALED set again), the process is released from
 * RTS_SIG_PENDING.
 *
 * Caller:  signal managers.
 * Request: endpt — the process.
 * Reply:   status; EINVAL for a dead endpoint, a kernel task or a process without
 *          RTS_SIG_PENDING; EPERM when the caller is not its signal manager.
 * MINIX:   minix/kernel/system/do_endksig.c (MINIX-SPEC §3.7)
 */
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import { RTS_SIG_PENDING, RTS_SIGNALED, type Proc } from "../proc.ts";
import { sigMgrOf } from "../signal.ts";
import type { KcallMsg } from "../system.ts";

export function doEndksig(k: Kernel, caller: Proc, m: KcallMsg<"SYS_ENDKSIG">): number {
  // Check.
  const p = k.isokendpt(m.req.endpt);
  if (p === undefined || p.isKernelTask) return EINVAL;
  if (sigMgrOf(p) !== caller.endpoint) return EPERM;
  if ((p.rtsFlags & RTS_SIG_PENDING) === 0) return EINVAL;

  // Act.
  if ((p.rtsFlags & RTS_SIGNALED) === 0) k.clearRts(p, RTS_SIG_PENDING);
  return OK;
}
