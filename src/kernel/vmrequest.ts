/**
 * Memory requests to VM: a kernel call or a message delivery that touched a page that is not
 * present suspends the caller with RTS_VMREQUEST and queues a request (LIFO); VM is woken with
 * SIGKMEM, fetches requests with VMCTL_MEMREQ_GET and answers with VMCTL_MEMREQ_REPLY.
 * MINIX: kernel/arch/i386/memory.c `vm_suspend` (MINIX-SPEC §3.4).
 */
import { EFAULT, OK, VMSUSPEND } from "../include/errno.ts";
import { VMPTYPE_CHECK } from "../include/kcall.ts";
import { SIGKMEM } from "../include/signal.ts";
import type { Endpoint } from "../include/endpoint.ts";
import type { VirAddr } from "../include/types.ts";
import type { Kernel } from "./kernel.ts";
import { panic } from "./panic.ts";
import { RTS_VMREQTARGET, RTS_VMREQUEST, VMSTYPE_KERNELCALL, type Proc } from "./proc.ts";
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
  noRequestYet(caller, "vmSuspend");
  const r = caller.vmreq;
  r.reqType = VMPTYPE_CHECK;
  r.type = type;
  r.target = target.endpoint;
  r.start = (addr >>> 0) as VirAddr;
  r.length = len;
  r.writeflag = true;
  enqueue(k, caller, target, addr, len, "vmSuspend");
}

/**
 * `map_invoke_vm` (MINIX-SPEC §4.6): stop `caller` until VM has carried out the mapping
 * request `reqType` (VMPTYPE_SMAP, VMPTYPE_SUNMAP or VMPTYPE_COWMAP) from `src`/`srcAddr` to
 * `dst`/`dstAddr` over `len` bytes with `flag` (1 writable, 0 read-only, -1 COW). The call is
 * then re-executed (VMSTYPE_KERNELCALL), finding VM's status in `caller.vmreq.result`: the
 * caller learns VM's result (recommended fix, §11). The destination, unless it is the caller
 * or VM, waits with RTS_VMREQTARGET until VM has answered.
 */
export function vmSuspendMap(
  k: Kernel,
  caller: Proc,
  reqType: number,
  dst: Proc,
  dstAddr: number,
  src: Proc,
  srcAddr: number,
  len: number,
  flag: number,
): void {
  noRequestYet(caller, "vmSuspendMap");
  const r = caller.vmreq;
  r.reqType = reqType;
  r.type = VMSTYPE_KERNELCALL;
  r.target = dst.endpoint;
  r.start = (dstAddr >>> 0) as VirAddr;
  r.length = len;
  r.writeflag = flag > 0;
  r.ep2 = src.endpoint;
  r.start2 = (srcAddr >>> 0) as VirAddr;
  r.mapFlag = flag;
  if (dst !== caller && dst !== k.vmProc()) k.setRts(dst, RTS_VMREQTARGET);
  enqueue(k, caller, dst, dstAddr, len, "vmSuspendMap");
}

/**
 * Lets `target` run again (clears RTS_VMREQTARGET) unless another live process still waits
 * for VM to finish a mapping request into it. `except` is a requestor that no longer counts
 * (answered, or dying).
 */
export function releaseVmTarget(k: Kernel, target: Endpoint, except: Proc): void {
  const t = k.isokendpt(target);
  if (t === undefined || (t.rtsFlags & RTS_VMREQTARGET) === 0) return;
  for (const p of k.procs) {
    if (p === except || p.isFree || (p.rtsFlags & RTS_VMREQUEST) === 0) continue;
    if (p.vmreq.reqType !== VMPTYPE_CHECK && p.vmreq.target === target) return;
  }
  k.clearRts(t, RTS_VMREQTARGET);
}

/** A process has at most one memory request at a time (a kernel bug otherwise). */
function noRequestYet(caller: Proc, who: string): void {
  if ((caller.rtsFlags & RTS_VMREQUEST) !== 0) {
    panic(`${who}: ${caller.name} already has a memory request pending`);
  }
}

/** Suspends `caller` with the request filled in and queues it (LIFO); wakes VM if needed. */
function enqueue(
  k: Kernel,
  caller: Proc,
  target: Proc,
  addr: number,
  len: number,
  who: string,
): void {
  const vm = k.vmProc();
  if (vm === undefined) panic(`${who}: no VM to serve the memory request`);
  k.setRts(caller, RTS_VMREQUEST);
  const r = caller.vmreq;
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
