/**
 * SYS_SIGRETURN: pop a process's newest signal frame. Its interrupted code resumes with the
 * registers it had (the signal entry is dropped). If the process was blocked RECEIVING —
 * in its SIGRETURN request to the caller — it is released without a reply, as in MINIX.
 *
 * Caller:  PM (SYS_SIGRETURN in its call mask), the manager of the process.
 * Request: endpt — the process.
 * Reply:   status; EINVAL for a dead endpoint, a kernel task or a process without a frame;
 *          EPERM when the caller is not its signal manager; EBUSY while it is sending.
 * MINIX:   minix/kernel/system/do_sigreturn.c (MINIX-SPEC §7.4)
 */
import { NONE } from "../../include/endpoint.ts";
import { EBUSY, EINVAL, EPERM, OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import {
  MF_DELIVERMSG,
  MF_KCALL_RESUME,
  RTS_PAGEFAULT,
  RTS_RECEIVING,
  RTS_SENDING,
  RTS_VMREQUEST,
  type Proc,
} from "../proc.ts";
import { leaveSigFrame, sigMgrOf } from "../signal.ts";
import type { KcallMsg } from "../system.ts";

export function doSigreturn(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SIGRETURN">): number {
  // Check.
  const p = k.isokendpt(m.req.endpt);
  if (p === undefined || p.isKernelTask) return EINVAL;
  if (sigMgrOf(p) !== caller.endpoint) return EPERM;
  if (p.sigFrames.length === 0) return EINVAL;
  if ((p.rtsFlags & (RTS_SENDING | RTS_PAGEFAULT | RTS_VMREQUEST)) !== 0) return EBUSY;

  // Act.
  leaveSigFrame(p);
  p.miscFlags &= ~(MF_DELIVERMSG | MF_KCALL_RESUME);
  if ((p.rtsFlags & RTS_RECEIVING) !== 0) {
    p.getfrom = NONE;
    k.clearRts(p, RTS_RECEIVING);
  }
  return OK;
}
