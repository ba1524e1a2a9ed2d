/**
 * Telling VM, for the IPC server, that a process was signalled or exited (MINIX-SPEC §9.3):
 * `vm_notify_sig(ep, ipc_ep)` with the IPC server found in PM's own table by its name "ipc"
 * (not through DS, which could deadlock PM → VM → DS). No IPC server: nothing to do. VM
 * passes it on only for processes the IPC server watches (VM_WATCH_EXIT).
 * MINIX: servers/pm/signal.c, forkexit.c (`vm_notify_sig_wrapper`).
 */
import type { Endpoint } from "../../include/endpoint.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { vmNotifySig as vmNotifySigCall } from "../../lib/libc/vm_ipc.ts";
import type { Pm } from "./pm.ts";

/** The name the IPC server has in PM's table. */
export const IPC_SERVER_NAME = "ipc";

export function* vmNotifySig(pm: Pm, ep: Endpoint): Syscall<void> {
  const ipc = pm.table.procs.find((mp) => mp.alive && mp.name === IPC_SERVER_NAME);
  if (ipc === undefined || ipc.endpoint === ep) return;
  yield* vmNotifySigCall(pm.ctx, ep, ipc.endpoint);
}
