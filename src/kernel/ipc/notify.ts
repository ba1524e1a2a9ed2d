/**
 * NOTIFY (`mini_notify`): never blocks. Delivered at once to a destination waiting in a
 * plain RECEIVE for the notifier; otherwise a pending bit (by the notifier's privilege id)
 * that collapses repeats. MINIX: kernel/proc.c (MINIX-SPEC §2.7).
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { EDEADSRCDST, OK } from "../../include/errno.ts";
import { NOTIFY } from "../../include/ipc.ts";
import type { Kernel } from "../kernel.ts";
import { panic } from "../panic.ts";
import { MF_REPLY_PEND, type Proc } from "../proc.ts";
import { buildNotify, deliver, willReceive } from "./common.ts";

export function miniNotify(k: Kernel, caller: Proc, dstEp: Endpoint): number {
  const dst = k.isokendpt(dstEp);
  if (dst === undefined) return EDEADSRCDST;
  if (willReceive(dst, caller.endpoint) && (dst.miscFlags & MF_REPLY_PEND) === 0) {
    buildNotify(k, caller, dst);
    deliver(k, dst, NOTIFY);
  } else {
    const priv = dst.priv;
    if (priv === null) panic(`miniNotify: ${dst.name} has no privilege structure`);
    if (caller.priv === null) panic(`miniNotify: ${caller.name} has no privilege structure`);
    priv.notifyPending.set(caller.priv.id);
  }
  if (k.tracing) k.emit({ kind: "notify", t: k.hw.clock.cycles, src: caller.endpoint, dst: dstEp });
  return OK;
}
