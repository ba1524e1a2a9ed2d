/**
 * Kernel copies between address spaces. Every access is translated through the process's
 * page tables with user-mode permissions; a fault never throws but returns EFAULT_SRC or
 * EFAULT_DST with the faulting virtual address in `k.faultAddr` (seed 001: no checks
 * before copying, the fault is caught). Runs of physically contiguous pages are copied in
 * one piece. MINIX: kernel/arch/i386/memory.c `virtual_copy`, `phys_copy` (MINIX-SPEC §3.5).
 */
import { EFAULT_DST, EFAULT_SRC, OK } from "../include/errno.ts";
import { copy16, M_SOURCE, MESSAGE_SIZE } from "../include/message.ts";
import type { PhysAddr, VirAddr } from "../include/types.ts";
import { PAGE_SIZE } from "../hw/memory.ts";
import type { Kernel } from "./kernel.ts";
import type { Proc } from "./proc.ts";

const PAGE_MASK = PAGE_SIZE - 1;

/**
 * Translates `va` in `p`'s space and extends the run while following pages are physically
 * contiguous, up to `len` bytes. Returns the physical address (run length in `runLen`) or -1.
 */
function translateRun(k: Kernel, p: Proc, va: number, len: number, write: boolean): number {
  if (p.cr3 === 0) return -1;
  const mmu = k.hw.mmu;
  const pa = mmu.translate(p.cr3, va, write, true);
  if (pa < 0) return -1;
  let run = Math.min(len, PAGE_SIZE - (va & PAGE_MASK));
  while (run < len) {
    const next = mmu.translate(p.cr3, (va + run) >>> 0, write, true);
    if (next !== pa + run) break;
    run += Math.min(len - run, PAGE_SIZE);
  }
  runLen = run;
  return pa;
}
let runLen = 0;

/** Copies of at most this many bytes inside one page skip the run machinery. */
const SMALL = 64;

/** Does [va, va+len) lie inside one page? */
function inPage(va: number, len: number): boolean {
  return (va & PAGE_MASK) <= PAGE_SIZE - len;
}

/** Is [va, va+len) inside the 32-bit address space? */
function inRange(va: number, len: number): boolean {
  return len >= 0 && va >= 0 && va + len <= 0x1_0000_0000;
}

/** Copies `len` bytes at `va` in `p` into `dst[off..]`. OK or EFAULT_SRC. */
export function copyFromProc(
  k: Kernel,
  p: Proc,
  va: VirAddr,
  dst: Uint8Array,
  off: number,
  len: number,
): number {
  if (!inRange(va, len)) return fault(k, va, EFAULT_SRC);
  const u8 = k.hw.mem.u8;
  let done = 0;
  while (done < len) {
    const pa = translateRun(k, p, va + done, len - done, false);
    if (pa < 0) return fault(k, va + done, EFAULT_SRC);
    dst.set(u8.subarray(pa, pa + runLen), off + done);
    done += runLen;
  }
  return OK;
}

/** Copies `len` bytes of `src[off..]` to `va` in `p`. OK or EFAULT_DST. */
export function copyToProc(
  k: Kernel,
  p: Proc,
  va: VirAddr,
  src: Uint8Array,
  off: number,
  len: number,
): number {
  if (!inRange(va, len)) return fault(k, va, EFAULT_DST);
  const u8 = k.hw.mem.u8;
  let done = 0;
  while (done < len) {
    const pa = translateRun(k, p, va + done, len - done, true);
    if (pa < 0) return fault(k, va + done, EFAULT_DST);
    u8.set(src.subarray(off + done, off + done + runLen), pa);
    done += runLen;
  }
  return OK;
}

/** Copies `len` bytes from `sva` in `sp` to `dva` in `dp`. OK, EFAULT_SRC or EFAULT_DST. */
export function copyBetween(
  k: Kernel,
  sp: Proc,
  sva: VirAddr,
  dp: Proc,
  dva: VirAddr,
  len: number,
): number {
  if (!inRange(sva, len)) return fault(k, sva, EFAULT_SRC);
  if (!inRange(dva, len)) return fault(k, dva, EFAULT_DST);
  const u8 = k.hw.mem.u8;
  if (len <= SMALL && len > 0 && inPage(sva, len) && inPage(dva, len) && sp.cr3 !== 0) {
    // A few bytes inside one page on each side: the same two translations, in the same
    // order, and a byte loop instead of copyWithin (ranges that overlap forwards excepted).
    const spa = k.hw.mmu.translate(sp.cr3, sva, false, true);
    if (spa < 0) return fault(k, sva, EFAULT_SRC);
    const dpa = dp.cr3 === 0 ? -1 : k.hw.mmu.translate(dp.cr3, dva, true, true);
    if (dpa < 0) return fault(k, dva, EFAULT_DST);
    if (dpa > spa && dpa < spa + len) u8.copyWithin(dpa, spa, spa + len);
    else for (let i = 0; i < len; i++) u8[dpa + i] = u8[spa + i]!;
    return OK;
  }
  let done = 0;
  while (done < len) {
    const spa = translateRun(k, sp, sva + done, len - done, false);
    if (spa < 0) return fault(k, sva + done, EFAULT_SRC);
    const srun = runLen;
    const dpa = translateRun(k, dp, dva + done, srun, true);
    if (dpa < 0) return fault(k, dva + done, EFAULT_DST);
    const n = runLen;
    u8.copyWithin(dpa, spa, spa + n);
    done += n;
  }
  return OK;
}

/**
 * Message fast path: a word-aligned message inside one page is copied as 16 words after one
 * translation; anything else takes the general path. OK or EFAULT_SRC.
 */
export function copyMsgFromProc(k: Kernel, p: Proc, va: VirAddr, dst32: Uint32Array): number {
  if (msgFast(va, p)) {
    const pa = k.hw.mmu.translate(p.cr3, va, false, true);
    if (pa < 0) return fault(k, va, EFAULT_SRC);
    copy16(dst32, 0, k.hw.mem.u32, pa >>> 2);
    return OK;
  }
  return copyFromProc(k, p, va, new Uint8Array(dst32.buffer), 0, MESSAGE_SIZE);
}

/** Message fast path for the other direction. OK or EFAULT_DST. */
export function copyMsgToProc(k: Kernel, p: Proc, va: VirAddr, src32: Uint32Array): number {
  if (msgFast(va, p)) {
    const pa = k.hw.mmu.translate(p.cr3, va, true, true);
    if (pa < 0) return fault(k, va, EFAULT_DST);
    copy16(k.hw.mem.u32, pa >>> 2, src32, 0);
    return OK;
  }
  return copyToProc(k, p, va, new Uint8Array(src32.buffer), 0, MESSAGE_SIZE);
}

/**
 * Message from one process's memory straight into another's, `m_source` set to `source`:
 * one copy instead of two through the kernel's buffer. Both messages must be word aligned
 * inside one page, else EFAULT_DST is returned without copying (the caller falls back to
 * buffering). OK, EFAULT_SRC or EFAULT_DST.
 */
export function copyMsgBetween(
  k: Kernel,
  sp: Proc,
  sva: VirAddr,
  dp: Proc,
  dva: VirAddr,
  source: number,
): number {
  if (!msgFast(sva, sp) || !msgFast(dva, dp)) return EFAULT_DST;
  const mmu = k.hw.mmu;
  const spa = mmu.translate(sp.cr3, sva, false, true);
  if (spa < 0) return fault(k, sva, EFAULT_SRC);
  const dpa = mmu.translate(dp.cr3, dva, true, true);
  if (dpa < 0) return fault(k, dva, EFAULT_DST);
  const m32 = k.hw.mem.u32;
  copy16(m32, dpa >>> 2, m32, spa >>> 2);
  m32[(dpa + M_SOURCE) >>> 2] = source >>> 0;
  return OK;
}

function msgFast(va: number, p: Proc): boolean {
  return (va & 3) === 0 && (va & PAGE_MASK) <= PAGE_SIZE - MESSAGE_SIZE && p.cr3 !== 0;
}

function fault(k: Kernel, va: number, code: number): number {
  k.faultAddr = va >>> 0;
  return code;
}

/** Physical address of `va` in `p` for a read, or -1 (`umap`; for tests and inspection). */
export function umap(k: Kernel, p: Proc, va: VirAddr): PhysAddr | -1 {
  if (p.cr3 === 0) return -1;
  const pa = k.hw.mmu.translate(p.cr3, va, false, true);
  return pa < 0 ? -1 : (pa as PhysAddr);
}
