/**
 * SYS_KILL: cause a signal for a process; its signal manager is told (without a live
 * manager the process is terminated, see signal.ts).
 *
 * Caller:  PM, and VM for faults it cannot resolve (SYS_KILL in the call mask).
 * Request: endpt — target process; sig — signal number 1..NSIG-1.
 * Reply:   status; EINVAL for a bad endpoint or signal, EPERM for kernel tasks.
 * MINIX:   minix/kernel/system/do_kill.c
 */
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import { NSIG } from "../../include/signal.ts";
import type { Kernel } from "../kernel.ts";
import type { Proc } from "../proc.ts";
import { causeSig } from "../signal.ts";
import type { KcallMsg } from "../system.ts";

export function doKill(k: Kernel, _caller: Proc, m: KcallMsg<"SYS_KILL">): number {
  // Check.
  const target = k.isokendpt(m.req.endpt);
  if (target === undefined) return EINVAL;
  if (m.req.sig <= 0 || m.req.sig >= NSIG) return EINVAL;
  if (target.isKernelTask) return EPERM;

  // Act.
  causeSig(k, target, m.req.sig);
  return OK;
}
