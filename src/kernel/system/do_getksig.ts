/**
 * SYS_GETKSIG: a signal manager fetches the next process it manages that has kernel signals
 * pending (stopped with RTS_SIGNALED|RTS_SIG_PENDING by `cause_sig`).
 *
 * Caller:  signal managers — PM for user processes, RS for system processes.
 *          The first call from the process in PM's slot makes it the manager of every user
 *          process (see `claimUserSignals`).
 * Request: none.
 * Reply:   endpt — the first such process in slot order, or NONE; sigs — its pending set,
 *          now handed over (cleared). The process loses RTS_SIGNALED but stays stopped by
 *          RTS_SIG_PENDING until the manager calls SYS_ENDKSIG.
 * MINIX:   minix/kernel/system/do_getksig.c (MINIX-SPEC §3.7)
 */
import { NONE } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import type { Proc } from "../proc.ts";
import { claimUserSignals, takeKsig } from "../signal.ts";
import type { KcallMsg } from "../system.ts";

export function doGetksig(k: Kernel, caller: Proc, m: KcallMsg<"SYS_GETKSIG">): number {
  claimUserSignals(k, caller);
  const r = takeKsig(k, caller);
  m.reply(r === undefined ? { endpt: NONE, sigs: 0 } : { endpt: r.p.endpoint, sigs: r.sigs >>> 0 });
  return OK;
}
