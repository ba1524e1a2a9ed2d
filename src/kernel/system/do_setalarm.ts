/**
 * SYS_SETALARM: arm, re-arm or cancel the caller's alarm. When it expires CLOCK notifies
 * the caller.
 *
 * Caller:  system processes (own privilege structure), else EPERM.
 * Request: expTime — ticks (relative) or an absolute tick when absTime ≠ 0; 0 cancels.
 * Reply:   timeLeft — ticks that were left on the previous alarm, 0 if none.
 * MINIX:   minix/kernel/system/do_setalarm.c
 */
import { EPERM, OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import { SYS_PROC } from "../priv.ts";
import type { Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";

export function doSetalarm(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SETALARM">): number {
  // Check.
  const priv = caller.priv;
  if (priv === null || (priv.flags & SYS_PROC) === 0) return EPERM;

  // Act.
  const now = k.ticks;
  const timeLeft = priv.alarmAt >= 0 ? Math.max(0, priv.alarmAt - now) : 0;
  const { expTime, absTime } = m.req;
  if (expTime === 0) k.timers.cancel(priv);
  else k.timers.set(priv, absTime !== 0 ? expTime : now + expTime);
  m.reply({ expTime, absTime, timeLeft });
  return OK;
}
