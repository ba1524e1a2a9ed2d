/**
 * The memory calls processes make to VM: `minix_mmap` (anonymous memory, on demand or
 * preallocated, private or MAP_IPC_SHARED, at a fixed address or wherever there is room),
 * `minix_munmap` (also of part of a mapping, which splits it), `brk` (grows or shrinks the
 * heap region that starts right after the boot data area) and an information call.
 *
 * Each handler checks the whole request before changing anything and never throws on bad
 * input; it returns the status VM puts in `m_type` and the reply fields.
 *
 * Decisions (MINIX 3.2 `do_mmap` / `do_munmap` unless said otherwise):
 * - Only anonymous memory: `fd` must be -1 (an fd with MAP_ANON: EINVAL; a file: ENOSYS);
 *   `offset` must be 0 (EINVAL; MINIX ignored it). Length 0: EINVAL; rounded up to pages.
 * - Unknown flag or prot bits: EINVAL (MINIX ignored them). PROT_WRITE makes the region
 *   writable (VR_WRITABLE, as MINIX ≥ 3.3; 3.2 ignored prot); i386 pages cannot be
 *   present yet unreadable, so PROT_NONE and PROT_READ both give read-only memory.
 * - MAP_IPC_SHARED (VR_SHARED) and MAP_CONTIG need MAP_PREALLOC, as in MINIX (shared memory
 *   never page-faults). Deviation: MAP_LOWER16M, MAP_LOWER1M and MAP_ALIGN64K need it too,
 *   since demand faults do not honour physical placement yet; MAP_ALIGN64K also makes the
 *   memory one contiguous run starting on a 64 KiB boundary.
 * - MAP_FIXED: the address must be page aligned (EINVAL) and `[addr, addr+len)` inside user
 *   space `[page 1, VM_USER_TOP)` and free (ENOMEM otherwise). An existing mapping in the
 *   way is NOT replaced: MINIX 3.2 returned ENOMEM when `map_page_region` could not place
 *   the region at the address, and so do we (no EEXIST, no POSIX-style replacement).
 * - Without MAP_FIXED a non-zero address is a hint, used if free; otherwise the highest free
 *   slot below VM_USER_TOP (region_find_slot). No room: ENOMEM.
 * - munmap: the address must be page aligned and the length non-zero (EINVAL); the rounded
 *   range must lie inside one region made by mmap, else EFAULT (MINIX). The heap and the
 *   data area cannot be unmapped. Unmapping a prefix, suffix or middle shrinks or splits
 *   the region; freed frames return to the free lists and the TLB is flushed.
 * - brk(addr): below the heap start: EINVAL; the heap region (tag "heap", VR_ANON |
 *   VR_WRITABLE) then ends at `addr` rounded up to a page. Growing into another region or
 *   beyond VM_USER_TOP: ENOMEM. Shrinking unmaps and frees the pages cut off (MINIX 3.3's
 *   `real_brk` never shrank). The reply carries the break now in effect.
 * MINIX: servers/vm/mmap.c, break.c, region.c, utility.c `do_info` (MINIX-SPEC §8.8, §8.11).
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, ENOMEM, ENOSYS, ENXIO, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import {
  MAP_ALIGN64K,
  MAP_ANON,
  MAP_CONTIG,
  MAP_FIXED,
  MAP_IPC_SHARED,
  MAP_LOWER16M,
  MAP_LOWER1M,
  MAP_PREALLOC,
  MAP_PRIVATE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  VM_USER_TOP,
  type VmCallName,
  type VmReply,
  type VmReq,
} from "../../include/vm.ts";
import {
  I386_BIG_PAGE_SIZE,
  I386_PAGE_SIZE,
  I386_VM_USER,
  I386_VM_WRITE,
} from "../../include/vmpt.ts";
import type { AllocOptions, FrameRun, PhysMem } from "./physmem.ts";
import {
  VR_ANON,
  VR_CONTIG,
  VR_LOWER16MB,
  VR_LOWER1MB,
  VR_PHYS64K,
  VR_SHARED,
  VR_WRITABLE,
  type FindFreeOptions,
} from "./region.ts";
import type { Vm, VmProc } from "./vm.ts";

const PAGE = I386_PAGE_SIZE;
const MAP_KNOWN =
  MAP_PRIVATE |
  MAP_ANON |
  MAP_PREALLOC |
  MAP_CONTIG |
  MAP_LOWER16M |
  MAP_ALIGN64K |
  MAP_LOWER1M |
  MAP_IPC_SHARED |
  MAP_FIXED;
/** Flags whose memory must be allocated at mmap time. */
const MAP_NEEDS_PREALLOC = MAP_IPC_SHARED | MAP_CONTIG | MAP_LOWER16M | MAP_LOWER1M | MAP_ALIGN64K;
const PROT_KNOWN = PROT_READ | PROT_WRITE | PROT_EXEC;
const ALIGN64K_FRAMES = 0x10000 / PAGE;

/** What a handler returns: the status for `m_type` and the reply fields. */
export type VmResult<K extends VmCallName> = { readonly status: number } & VmReply<K>;

function addrResult(status: number, addr = 0): VmResult<"VM_MMAP"> {
  return { status, addr: virAddr(addr) };
}

function roundUp(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}

/** Whether `[start, start+len)` holds no region (both page aligned, len > 0). */
function isFree(vmp: VmProc, start: number, len: number): boolean {
  return vmp.regions.findFree(len, { hint: start, above: start, below: start + len }) === start;
}

/** `minix_mmap`: maps anonymous memory into the caller. Reply: the address chosen. */
export function doMmap(vm: Vm, caller: Endpoint, req: VmReq<"VM_MMAP">): VmResult<"VM_MMAP"> {
  const vmp = vm.procs.get(caller);
  if (vmp === undefined) return addrResult(ENXIO);
  const { addr, len, prot, flags, fd, offset } = req;
  if ((flags & ~MAP_KNOWN) !== 0 || (prot & ~PROT_KNOWN) !== 0) return addrResult(EINVAL);
  if (fd !== -1) return addrResult((flags & MAP_ANON) !== 0 ? EINVAL : ENOSYS);
  if (offset !== 0 || len === 0) return addrResult(EINVAL);
  const prealloc = (flags & MAP_PREALLOC) !== 0;
  if ((flags & MAP_NEEDS_PREALLOC) !== 0 && !prealloc) return addrResult(EINVAL);
  const size = roundUp(len);
  if (size > VM_USER_TOP - PAGE) return addrResult(ENOMEM);

  // Where.
  let start: number;
  if ((flags & MAP_FIXED) !== 0) {
    if (addr % PAGE !== 0) return addrResult(EINVAL);
    if (addr < PAGE || addr + size > VM_USER_TOP) return addrResult(ENOMEM);
    if (!isFree(vmp, addr, size)) return addrResult(ENOMEM);
    start = addr;
  } else {
    const where: FindFreeOptions =
      addr !== 0 ? { hint: addr, below: VM_USER_TOP } : { below: VM_USER_TOP };
    start = vmp.regions.findFree(size, where);
    if (start < 0) return addrResult(ENOMEM);
  }

  // Memory now, if asked for: all of it before anything changes.
  const writable = (prot & PROT_WRITE) !== 0;
  let runs: FrameRun[] | null = null;
  if (prealloc) {
    runs = allocFrames(vm.phys, size / PAGE, flags);
    if (runs === null) return addrResult(ENOMEM);
    // Page tables the mapping may need (at most one per 4 MiB block it touches).
    const tables =
      Math.floor((start + size - 1) / I386_BIG_PAGE_SIZE) -
      Math.floor(start / I386_BIG_PAGE_SIZE) +
      1;
    if (vm.phys.freeFrames < tables) {
      for (const run of runs) vm.phys.free(run.first, run.n);
      return addrResult(ENOMEM);
    }
  }

  const vrflags =
    VR_ANON |
    (writable ? VR_WRITABLE : 0) |
    ((flags & MAP_IPC_SHARED) !== 0 ? VR_SHARED : 0) |
    ((flags & MAP_CONTIG) !== 0 ? VR_CONTIG : 0) |
    ((flags & MAP_LOWER16M) !== 0 ? VR_LOWER16MB : 0) |
    ((flags & MAP_LOWER1M) !== 0 ? VR_LOWER1MB : 0) |
    ((flags & MAP_ALIGN64K) !== 0 ? VR_PHYS64K : 0);
  const r = vmp.regions.add({ start, length: size, flags: vrflags, tag: "mmap" });
  if (r !== OK) {
    for (const run of runs ?? []) vm.phys.free(run.first, run.n);
    return addrResult(r);
  }
  if (runs !== null) {
    const bits = I386_VM_USER | (writable ? I386_VM_WRITE : 0);
    let va = start;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      vm.zeroRun(run.first, run.n);
      const w = vm.mapRun(vmp, va, run.first, run.n, bits);
      if (w !== OK) {
        // Only a VM bug gets here (the range was free, page tables were counted): undo.
        if (va > start) vm.unmapRange(vmp, start, va - start);
        for (const rest of runs.slice(i)) vm.phys.free(rest.first, rest.n);
        vmp.regions.remove(start, size);
        return addrResult(w);
      }
      va += run.n * PAGE;
    }
  }
  return addrResult(OK, start);
}

/**
 * Frames for a preallocated mapping: below 1 or 16 MiB if asked; one run with MAP_CONTIG;
 * one run starting on a 64 KiB boundary with MAP_ALIGN64K (over-allocate, give back the
 * ends: PAF_ALIGN64K); otherwise a list of runs. Null, allocating nothing, if impossible.
 */
function allocFrames(phys: PhysMem, n: number, flags: number): FrameRun[] | null {
  const lower =
    (flags & MAP_LOWER1M) !== 0
      ? 0x10_0000 / PAGE
      : (flags & MAP_LOWER16M) !== 0
        ? 0x100_0000 / PAGE
        : undefined;
  const opts: AllocOptions = lower === undefined ? {} : { lower };
  if ((flags & MAP_ALIGN64K) !== 0) {
    const total = n + ALIGN64K_FRAMES - 1;
    const first = phys.alloc(total, opts);
    if (first < 0) return null;
    const aligned = Math.ceil(first / ALIGN64K_FRAMES) * ALIGN64K_FRAMES;
    if (aligned > first) phys.free(first, aligned - first);
    const tail = first + total - (aligned + n);
    if (tail > 0) phys.free(aligned + n, tail);
    return [{ first: aligned, n }];
  }
  if ((flags & MAP_CONTIG) !== 0) {
    const first = phys.alloc(n, opts);
    return first < 0 ? null : [{ first, n }];
  }
  return phys.allocList(n, opts);
}

/** `minix_munmap`: removes `[addr, addr+len)` from one mmap region of the caller. */
export function doMunmap(vm: Vm, caller: Endpoint, req: VmReq<"VM_MUNMAP">): VmResult<"VM_MUNMAP"> {
  const vmp = vm.procs.get(caller);
  if (vmp === undefined) return addrResult(ENXIO);
  const { addr, len } = req;
  if (len === 0 || addr % PAGE !== 0) return addrResult(EINVAL);
  const size = roundUp(len);
  const region = vmp.regions.find(addr);
  if (region === undefined || region.tag !== "mmap") return addrResult(EFAULT);
  if (addr + size > region.start + region.length) return addrResult(EFAULT);
  const r = vm.unmapRange(vmp, addr, size);
  if (r !== OK) return addrResult(r);
  vmp.regions.remove(addr, size);
  return addrResult(OK, addr);
}

/** `brk`: moves the end of the caller's heap to `addr`. Reply: the new break. */
export function doBrk(vm: Vm, caller: Endpoint, req: VmReq<"VM_BRK">): VmResult<"VM_BRK"> {
  const vmp = vm.procs.get(caller);
  if (vmp === undefined) return addrResult(ENXIO);
  const { addr } = req;
  const base = vmp.heapStart;
  if (addr < base) return addrResult(EINVAL);
  const newEnd = roundUp(addr);
  if (newEnd > VM_USER_TOP) return addrResult(ENOMEM);
  const found = vmp.regions.at(base);
  const heap = found?.tag === "heap" ? found : undefined;
  const curEnd = heap === undefined ? base : base + heap.length;

  if (newEnd > curEnd) {
    if (!isFree(vmp, curEnd, newEnd - curEnd)) return addrResult(ENOMEM);
    if (heap !== undefined) vmp.regions.remove(base, heap.length);
    const r = vmp.regions.add({
      start: base,
      length: newEnd - base,
      flags: VR_ANON | VR_WRITABLE,
      tag: "heap",
    });
    if (r !== OK) {
      if (heap !== undefined) vmp.regions.add(heap);
      return addrResult(r);
    }
  } else if (newEnd < curEnd) {
    const r = vm.unmapRange(vmp, newEnd, curEnd - newEnd);
    if (r !== OK) return addrResult(r);
    vmp.regions.remove(newEnd, curEnd - newEnd);
  }
  return addrResult(OK, addr);
}

/** VM's statistics and the caller's usage (MINIX `do_info`, VMIW_STATS and VMIW_USAGE). */
export function doInfo(vm: Vm, caller: Endpoint): VmResult<"VM_INFO"> {
  const vmp = vm.procs.get(caller);
  let pages = 0;
  if (vmp !== undefined) for (let it = vmp.pt.mappings(); it.next().done !== true;) pages++;
  return {
    status: OK,
    totalFrames: vm.phys.totalFrames,
    freeFrames: vm.phys.freeFrames,
    faults: vm.stats.faults,
    memreqs: vm.stats.memreqs,
    regions: vmp?.regions.size ?? 0,
    pages,
    tableFrames: vmp?.pt.tableFrames().length ?? 0,
  };
}
