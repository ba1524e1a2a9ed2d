/**
 * RS tells VM which services may make its privileged calls (MINIX `publish_process` →
 * `vm_set_priv`, MINIX-SPEC §6.6). VM marks the fixed system-server slots privileged at boot;
 * a boot service in such a slot that RS starts again (new endpoint, dynamic slot) gets the
 * same rights from VM_RS_SET_PRIV. Services started with RS_UP keep the basic calls only.
 */
import {
  INIT_PROC_NR,
  PM_PROC_NR,
  slotOf,
  VM_PROC_NR,
  type Endpoint,
} from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { vmSetPriv } from "../../lib/libc/vm_ipc.ts";
import type { Rproc } from "./rproc.ts";
import type { RsState } from "./state.ts";

/** Services whose first incarnation was in a VM-privileged slot. */
const privileged = new WeakMap<Rproc, boolean>();

/** Called when `rp` starts again as `ep`; `old` is the endpoint of its previous incarnation. */
export function* rsVmPriv(rs: RsState, rp: Rproc, old: Endpoint): Syscall<void> {
  let p = privileged.get(rp);
  if (p === undefined) {
    const slot = slotOf(old);
    p =
      rp.boot &&
      slot >= (PM_PROC_NR as number) &&
      slot < (INIT_PROC_NR as number) &&
      slot !== (VM_PROC_NR as number);
    privileged.set(rp, p);
  }
  if (!p) return;
  const r = yield* vmSetPriv(rs.ctx, rp.endpoint, true);
  if (r !== OK) yield* rs.print(`cannot give ${rp.label} its VM calls (${r})`);
}
