/**
 * SYS_SETGRANT: tell the kernel where the caller's grant table is. The memory is not checked
 * here; grant verification reads it through the normal fault-checked copies.
 *
 * Caller:  a process with a privilege structure that is allowed to run.
 * Request: addr — table address in the caller; size — number of entries (≥ 0, else EINVAL).
 * Reply:   status; EPERM for RTS_NO_PRIV or no privilege structure.
 * MINIX:   minix/kernel/system/do_setgrant.c
 */
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import { RTS_NO_PRIV, type Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";

export function doSetgrant(_k: Kernel, caller: Proc, m: KcallMsg<"SYS_SETGRANT">): number {
  // Check.
  const priv = caller.priv;
  if (priv === null || (caller.rtsFlags & RTS_NO_PRIV) !== 0) return EPERM;
  if (m.req.size < 0) return EINVAL;

  // Act.
  priv.grantTable = m.req.addr;
  priv.grantEntries = m.req.size;
  return OK;
}
