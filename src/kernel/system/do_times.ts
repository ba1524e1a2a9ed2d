/**
 * SYS_TIMES: accounting times of a process and the uptime.
 *
 * Caller:  every process with SYS_TIMES in its call mask.
 * Request: endpt — the process (SELF allowed; NONE or an invalid endpoint reports only the
 *          uptime).
 * Reply:   userTime, systemTime (ticks), bootTicks (uptime in ticks).
 * MINIX:   minix/kernel/system/do_times.c
 */
import { SELF } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import type { Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";

export function doTimes(k: Kernel, caller: Proc, m: KcallMsg<"SYS_TIMES">): number {
  const ep = m.req.endpt === SELF ? caller.endpoint : m.req.endpt;
  const p = k.isokendpt(ep);
  m.reply({
    endpt: ep,
    userTime: p?.userTime ?? 0,
    systemTime: p?.sysTime ?? 0,
    bootTicks: k.ticks,
  });
  return OK;
}
