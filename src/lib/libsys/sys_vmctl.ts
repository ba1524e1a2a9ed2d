/**
 * `sys_vmctl` and its MEMREQ helpers, used by VM (and by stand-ins playing VM in tests).
 * MINIX: lib/libsys/sys_vmctl.c.
 */
import { SELF, type Endpoint } from "../../include/endpoint.ts";
import {
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_ENABLE_PAGING,
  VMCTL_MEMREQ_GET,
  VMCTL_MEMREQ_REPLY,
} from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../ipc.ts";
import { kernelCall, kernelCallStatus, type KcallResult } from "./kernel_call.ts";

export function sysVmctl(
  ctx: ProcessContext,
  who: Endpoint,
  param: number,
  value = 0,
): Syscall<KcallResult<"SYS_VMCTL">> {
  return kernelCall(ctx, "SYS_VMCTL", { who, param, value });
}

/** Fetches the newest pending memory request; status is its VMPTYPE_* or ESRCH. */
export function sysVmctlGetMemreq(ctx: ProcessContext): Syscall<KcallResult<"SYS_VMCTL">> {
  return sysVmctl(ctx, SELF, VMCTL_MEMREQ_GET);
}

/** Answers `requestor`'s memory request with `result` (OK or an error). */
export function sysVmctlReplyMemreq(
  ctx: ProcessContext,
  requestor: Endpoint,
  result: number,
): Syscall {
  return kernelCallStatus(ctx, "SYS_VMCTL", {
    who: requestor,
    param: VMCTL_MEMREQ_REPLY,
    value: result >>> 0,
  });
}

/** Lets `who` run again after VM resolved its page fault. */
export function sysVmctlClearPagefault(ctx: ProcessContext, who: Endpoint): Syscall {
  return kernelCallStatus(ctx, "SYS_VMCTL", { who, param: VMCTL_CLEAR_PAGEFAULT, value: 0 });
}

/** VM tells the kernel its start-up is done (`sys_vmctl_enable_paging`); once only. */
export function sysVmctlEnablePaging(ctx: ProcessContext): Syscall {
  return kernelCallStatus(ctx, "SYS_VMCTL", { who: SELF, param: VMCTL_ENABLE_PAGING, value: 0 });
}
