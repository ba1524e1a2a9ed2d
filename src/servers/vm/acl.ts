/**
 * Who may make which VM call, and a process's exit (MINIX-SPEC §8.7, §8.11).
 *
 * Access control. MINIX gives every process a VM call mask (`vm_call_mask`): the basic calls
 * for everyone, the rest installed by RS with VM_RS_SET_PRIV. VM cannot read the kernel's
 * privilege table here (no GET_PRIV yet), so it keeps the decision itself:
 * - brk, minix_mmap, minix_munmap and VM_INFO are open to every process;
 * - the privileged calls (`VM_PRIVILEGED_CALLS`: VM_FORK, VM_EXIT, VM_REMAP, VM_SHM_UNMAP,
 *   VM_GETPHYS, VM_GETREF, VM_RS_SET_PRIV, VM_EXEC_NEWMEM, VM_KEEP …) need the caller's
 *   `privileged` flag. It is set at boot for the processes in the fixed system-server slots
 *   (PM_PROC_NR … PFS_PROC_NR except VM; INIT and ordinary processes are not privileged) and
 *   can be granted or withdrawn by a privileged process with VM_RS_SET_PRIV (RS granting it
 *   to the IPC server). It lives in VM's per-process record, so it goes with the process at
 *   VM_EXIT.
 * - An unprivileged caller gets EPERM (MINIX logged "unauthorized" and answered ENOSYS).
 *
 * VM_EXIT is PM's call in MINIX, after VM_WILLEXIT (else EINVAL). Until PM exists any
 * privileged process may send it, and no VM_WILLEXIT is needed. It frees everything VM holds
 * for the process (Vm.exit); the process should already be dead in the kernel — if it is not,
 * its next access finds no page table entries, faults, and is killed with SIGSEGV.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { EINVAL, OK } from "../../include/errno.ts";
import { VM_PRIVILEGED_CALLS, type VmCallName, type VmReq } from "../../include/vm.ts";
import type { VmResult } from "./mmap.ts";
import type { Vm } from "./vm.ts";

/** Whether `caller` may make `call`. */
export function mayCall(vm: Vm, caller: Endpoint, call: VmCallName): boolean {
  return !VM_PRIVILEGED_CALLS.has(call) || vm.procs.get(caller)?.privileged === true;
}

/** VM_EXIT: frees every region, frame reference and page table of `endpoint`. */
export function doExit(vm: Vm, _caller: Endpoint, req: VmReq<"VM_EXIT">): VmResult<"VM_EXIT"> {
  return { status: vm.exit(req.endpoint) };
}

/** VM_RS_SET_PRIV: grants (non-zero) or withdraws the privileged calls of `endpoint`. */
export function doRsSetPriv(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_RS_SET_PRIV">,
): VmResult<"VM_RS_SET_PRIV"> {
  const vmp = vm.procs.get(req.endpoint);
  if (vmp === undefined) return { status: EINVAL };
  vmp.privileged = req.privileged !== 0;
  return { status: OK };
}
