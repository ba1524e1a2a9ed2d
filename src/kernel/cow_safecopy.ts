/**
 * Copy-on-write safecopy (MINIX `USE_COW_SAFECOPY`, compiled out in every MINIX snapshot;
 * MINIX-SPEC §4.5): when the kernel option `cowSafecopy` is on, the copy is at least
 * `cowSafecopyMin` bytes and source and destination have the same offset in their pages, the
 * head up to the first page boundary and the tail after the last one are copied normally and
 * VM makes the whole pages in between share the source's frames copy-on-write
 * (VMPTYPE_COWMAP, map.ts): the first write on either side copies that page. Pages that are
 * safemap shares (on either side) or SysV shared memory are copied by VM instead.
 *
 * Restartable like every copy: the call is re-executed after each VM request. The pass that
 * asks VM for the share marks the caller pending ("cow", mapinfo.ts); the re-executed call
 * finds VM's answer there ({@link cowResumed}) before anything else. If VM refused, the call
 * falls back to a plain copy.
 *
 * Not used for SYS_VSAFECOPY: a vector re-executes all its elements, and one pending share
 * per caller could not tell them apart.
 */
import { OK, VMSUSPEND } from "../include/errno.ts";
import { VMPTYPE_COWMAP } from "../include/kcall.ts";
import { PAGE_SIZE } from "../hw/memory.ts";
import type { Kernel } from "./kernel.ts";
import { setPending, takePending } from "./mapinfo.ts";
import { RTS_VMREQUEST, type Proc } from "./proc.ts";
import { copyGranted } from "./safecopy.ts";
import { vmSuspendMap } from "./vmrequest.ts";

/** `cowSafecopyMin` when the kernel options do not say (the boot option's default, 256 KiB). */
export const COW_SAFECOPY_MIN_DEFAULT = 64 * PAGE_SIZE;

/**
 * If `caller` is being re-executed after VM answered its COW share: VM's status (OK: the
 * copy is complete; an error: copy plainly this time). Undefined otherwise.
 */
export function cowResumed(k: Kernel, caller: Proc): number | undefined {
  return takePending(k, caller, "cow") === undefined ? undefined : caller.vmreq.result;
}

/**
 * The COW variant of `copyGranted` (same arguments): undefined when it does not apply (then
 * copy plainly); else OK, an error of the head or tail copy, or VMSUSPEND.
 */
export function cowSafecopy(
  k: Kernel,
  caller: Proc,
  gp: Proc,
  gaddr: number,
  addr: number,
  bytes: number,
  toGranter: boolean,
): number | undefined {
  if (k.opts.cowSafecopy !== true) return undefined;
  if (bytes < (k.opts.cowSafecopyMin ?? COW_SAFECOPY_MIN_DEFAULT)) return undefined;
  if (gaddr % PAGE_SIZE !== addr % PAGE_SIZE) return undefined;
  if (!Number.isInteger(addr) || addr < 0 || addr + bytes > 0x1_0000_0000) return undefined;
  const vm = k.vmProc();
  if (vm === undefined || vm === caller || vm === gp) return undefined;
  if ((caller.rtsFlags & RTS_VMREQUEST) !== 0) return undefined;
  if (gp === caller && gaddr < addr + bytes && addr < gaddr + bytes) return undefined;
  const head = (PAGE_SIZE - (addr % PAGE_SIZE)) % PAGE_SIZE;
  const mid = Math.floor((bytes - head) / PAGE_SIZE) * PAGE_SIZE;
  if (mid === 0) return undefined;
  const tail = bytes - head - mid;
  if (head > 0) {
    const r = copyGranted(k, caller, gp, gaddr, addr, head, toGranter);
    if (r !== OK) return r;
  }
  if (tail > 0) {
    const off = head + mid;
    const r = copyGranted(k, caller, gp, gaddr + off, addr + off, tail, toGranter);
    if (r !== OK) return r;
  }
  const [src, srcAddr, dst, dstAddr] = toGranter
    ? [caller, addr, gp, gaddr]
    : [gp, gaddr, caller, addr];
  vmSuspendMap(k, caller, VMPTYPE_COWMAP, dst, dstAddr + head, src, srcAddr + head, mid, -1);
  setPending(k, caller, { kind: "cow", record: null });
  return VMSUSPEND;
}
