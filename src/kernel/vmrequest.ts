/**
 * Memory requests to VM: a kernel call or a message delivery that touched a page that is not
 * present suspends the caller with RTS_VMREQUEST and queues a request (LIFO); VM is woken with
 * SIGKMEM, fetches requests with VMCTL_MEMREQ_GET and answers with VMCTL_MEMREQ_REPLY.
 * MINIX: kernel/arch/i386/memory.c `vm_suspend` (MINIX-SPEC §3.4).
 */
import { EFAULT, OK, VMSUSPEND } from "../include/errno.ts";
import { VMPTYPE_CHECK } from "../include/kcall.ts";
import { SIGKMEM } from "../include/signal.ts";
import type { VirAddr } from "../include/types.ts";
import type { Kernel } from "./kernel.ts";
import { panic } from "./panic.ts";
import { RTS_VMREQUEST, type Proc } from "./proc.ts";
import { sendSig } from "./signal.ts";

/**
 * `vm_suspend`: stop `caller` until VM has made [addr, addr+len) of `target` present and
 * writable. `type` is VMSTYPE_KERNELCALL or VMSTYPE_DELIVERMSG.
 */
export function vmSuspend(
  k: Kernel,
  caller: Proc,
  target: Proc,
  addr: number,
  len: number,
  type: number,
): void {
  if ((caller.rtsFlags & RTS_VMREQUEST) !== 0) {
    panic(`vmSuspend: ${caller.name} already has a memory request pending`);
  }
  const vm = k.vmProc();
  if (vm === undefined) panic("vmSuspend: no VM to serve the memory request");
  k.setRts(caller, RTS_VMREQUEST);
  const r = caller.vmreq;
  r.reqType = VMPTYPE_CHECK;
  r.type = type;
  r.target = target.endpoint;
  r.start = (addr >>> 0) as VirAddr;
  r.length = len;
  r.writeflag = true;
  r.result = VMSUSPEND;
  const wasEmpty = k.vmrequest === null;
  r.next = k.vmrequest;
  k.vmrequest = caller;
  if (k.tracing) {
    k.emit({
      kind: "vmreq",
      t: k.hw.clock.cycles,
      ep: caller.endpoint,
      target: target.endpoint,
      addr,
      len,
    });
  }
  if (wasEmpty) sendSig(k, vm, SIGKMEM);
}

/**
 * What a copy made on behalf of `caller` does when it faulted in `target` at `k.faultAddr`
 * while copying `remaining` bytes: return VM's error if VM already failed this request (L
 * behaviour), EFAULT when there is no VM to ask (or the caller is VM itself), else suspend
 * the caller and return VMSUSPEND.
 */
export function copyFaulted(
  k: Kernel,
  caller: Proc,
  target: Proc,
  remaining: number,
  type: number,
): number {
  const r = caller.vmreq;
  if (r.result !== OK && r.result !== VMSUSPEND) return r.result;
  const vm = k.vmProc();
  if (vm === undefined || vm === caller || (caller.rtsFlags & RTS_VMREQUEST) !== 0) return EFAULT;
  vmSuspend(k, caller, target, k.faultAddr, Math.max(1, remaining), type);
  return VMSUSPEND;
}

/** Removes `p` from the request list (it died before VM fetched its request). */
export function dropVmRequest(k: Kernel, p: Proc): void {
  let prev: Proc | null = null;
  for (let x = k.vmrequest; x !== null; prev = x, x = x.vmreq.next) {
    if (x !== p) continue;
    if (prev === null) k.vmrequest = x.vmreq.next;
    else prev.vmreq.next = x.vmreq.next;
    x.vmreq.next = null;
    return;
  }
}
