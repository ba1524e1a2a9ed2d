/**
 * SYS_CLEAR: release a process slot (`clear_endpoint` and `clear_proc`).
 *
 * Caller:  PM (SYS_CLEAR in its call mask).
 * Request: endpt — the process to clear.
 * Reply:   status. An already free slot is OK; an invalid endpoint is EINVAL; kernel tasks
 *          cannot be cleared (EPERM). Clearing oneself never returns.
 * MINIX:   minix/kernel/system/do_clear.c
 */
import { slotOf } from "../../include/endpoint.ts";
import { EDONTREPLY, EINVAL, EPERM, OK } from "../../include/errno.ts";
import { exitProc } from "../clear.ts";
import type { Kernel } from "../kernel.ts";
import type { Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";

export function doClear(k: Kernel, caller: Proc, m: KcallMsg<"SYS_CLEAR">): number {
  // Check.
  const slot = k.procAddr(slotOf(m.req.endpt));
  if (slot === undefined) return EINVAL;
  if (slot.isFree) return OK;
  if (slot.endpoint !== m.req.endpt) return EINVAL;
  if (slot.isKernelTask) return EPERM;

  // Act.
  exitProc(k, slot, 0, `cleared by ${caller.name}`);
  return slot === caller ? EDONTREPLY : OK;
}
