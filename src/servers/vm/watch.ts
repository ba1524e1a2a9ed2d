/**
 * Exits and signals for the IPC server (MINIX-SPEC §9.3, seed 003 / L d477a9ed8): the IPC
 * server opts in per client with VM_WATCH_EXIT; PM reports every signal and exit with
 * VM_NOTIFY_SIG, and VM records only watched processes (each once, at most NR_PROCS pending;
 * a full table is ENOMEM) and notifies the IPC server — unless the process is the IPC server
 * itself. The IPC server drains the records with VM_QUERY_EXIT. All three are privileged calls.
 *
 * Decision: the watch set is kept by endpoint, beside the vmproc table, so it survives exec
 * and VM_EXIT (PM reports an exit after VM_EXIT); a reused slot has a new endpoint, so a new
 * process there is not watched. MINIX: servers/vm/main.c `do_notify_sig`, `do_query_exit`,
 * `do_watch_exit`.
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { ENOMEM, OK } from "../../include/errno.ts";
import type { VmReq } from "../../include/vm.ts";
import { notify, type Syscall } from "../../lib/ipc.ts";
import type { VmResult } from "./mmap.ts";
import type { Vm } from "./vm.ts";

/** Most endpoints pending for the IPC server (MINIX NR_PROCS). */
export const NR_EXIT_PENDING = 256;

export function doWatchExit(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_WATCH_EXIT">,
): VmResult<"VM_WATCH_EXIT"> {
  vm.exitWatch.watched.add(req.endpoint);
  return { status: OK };
}

export function* doNotifySig(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_NOTIFY_SIG">,
): Syscall<VmResult<"VM_NOTIFY_SIG">> {
  const s = vm.exitWatch;
  const ep = req.endpoint;
  if (!s.watched.has(ep)) return { status: OK };
  if (!s.pending.includes(ep)) {
    if (s.pending.length >= NR_EXIT_PENDING) return { status: ENOMEM };
    s.pending.push(ep);
  }
  if (ep !== req.ipcEndpoint) yield* notify(req.ipcEndpoint);
  return { status: OK };
}

export function doQueryExit(vm: Vm): VmResult<"VM_QUERY_EXIT"> {
  const s = vm.exitWatch;
  const ep = s.pending.shift();
  return { status: OK, endpoint: ep ?? NONE, more: s.pending.length > 0 ? 1 : 0 };
}
