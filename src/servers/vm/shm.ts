/**
 * Shared memory for the IPC server (MINIX-SPEC §8.10; GQ's remap, seed 003): VM_REMAP maps
 * the frames of one process's region into another process (or the same one, elsewhere),
 * VM_SHM_UNMAP removes such a mapping, VM_GETPHYS / VM_GETREF report the first frame of a
 * shared region and its reference count (the IPC server derives attach counts from it).
 * All four are privileged calls (acl.ts).
 *
 * Decisions:
 * - VM_REMAP: both endpoints must be known to VM (EINVAL). The source address must be the
 *   start of a region (EINVAL) made by mmap (the data area and the heap cannot be shared:
 *   EFAULT), and the size, page rounded, must be that region's whole length (EFAULT), as in
 *   MINIX. Deviation (MINIX demanded a VR_SHARED, i.e. preallocated, source): every mmap region
 *   may be shared; its absent pages are made present (zeroed) first and the region becomes
 *   VR_SHARED, so both sides see the same frames. Memory running out there gives ENOMEM
 *   (pages already made present stay: they read as zeros either way).
 * - The destination address: 0 lets VM choose (the highest free slot below VM_USER_TOP, like
 *   mmap); otherwise it must be page aligned, inside user space and free — exactly there or
 *   EINVAL (MINIX). No room: ENOMEM.
 * - The new region is VR_ANON | VR_SHARED, writable iff the source region is (VR_SHARED pages
 *   are writable whatever their reference count: the writable rule). Each page maps the same
 *   frame as the source and adds one reference; a frame lives while any side maps it, so
 *   unmapping (VM_SHM_UNMAP, munmap, VM_EXIT) either side leaves the other's data intact.
 * - VM_SHM_UNMAP: the endpoint must be known (EINVAL); the address must start a VR_SHARED
 *   region (EFAULT); the whole region goes. VM_GETPHYS / VM_GETREF: EINVAL unless the address
 *   starts a VR_SHARED region of a known process.
 * MINIX: servers/vm/mmap.c `do_remap`, `do_shared_unmap`, `do_get_phys`, `do_get_refcount`.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import { VM_USER_TOP, type VmReq } from "../../include/vm.ts";
import { I386_PAGE_SIZE, I386_VM_USER, I386_VM_WRITE } from "../../include/vmpt.ts";
import type { VmResult } from "./mmap.ts";
import { VR_ANON, VR_DIRECT, VR_SHARED, VR_WRITABLE, type Region } from "./region.ts";
import type { Vm, VmProc } from "./vm.ts";

const PAGE = I386_PAGE_SIZE;

function addrResult(status: number, addr = 0): VmResult<"VM_REMAP"> {
  return { status, addr: virAddr(addr) };
}

/** The VR_SHARED region of `ep` starting exactly at `addr`, if any. */
function sharedRegion(vm: Vm, ep: number, addr: number): [VmProc, Region] | undefined {
  const vmp = vm.procs.get(ep);
  const region = vmp?.regions.at(addr);
  if (vmp === undefined || region === undefined || (region.flags & VR_SHARED) === 0) {
    return undefined;
  }
  return [vmp, region];
}

/**
 * Where a new shared region of `len` bytes goes in `dst` (VM_REMAP, VM_KEEP): `want` exactly
 * (page aligned, inside user space and free, else EINVAL), or the highest free slot below
 * VM_USER_TOP when `want` is 0 (none: ENOMEM). Negative: the error.
 */
export function placeDest(dst: VmProc, want: number, len: number): number {
  if (want === 0) return dst.regions.findFree(len, { below: VM_USER_TOP });
  if (want % PAGE !== 0 || want < PAGE || want + len > VM_USER_TOP) return EINVAL;
  const at = dst.regions.findFree(len, { hint: want, above: want, below: want + len });
  return at === want ? want : EINVAL;
}

/**
 * Makes every page of `region` of `vmp` present (zeroed if absent) so that it can be shared
 * frame by frame; a page of a writable region still copy-on-write with a fork relative is
 * copied first (MINIX gives the other side the copy). Pages done stay done on ENOMEM.
 */
export function makePresent(vm: Vm, vmp: VmProc, region: Region): number {
  const cow = (region.flags & VR_WRITABLE) !== 0 && (region.flags & VR_SHARED) === 0;
  for (let a = region.start; a < region.start + region.length; a += PAGE) {
    const e = vmp.pt.lookup(a);
    const r =
      e === undefined
        ? vm.demandZero(vmp, region, a)
        : cow && (e.flags & I386_VM_WRITE) === 0
          ? vm.cowPage(vmp, region, a, e.phys, e.flags)
          : OK;
    if (r !== OK) return r;
  }
  return OK;
}

/** The frames of the `len` bytes from `start` of `vmp`, or undefined if a page is absent. */
export function framesOf(vmp: VmProc, start: number, len: number): number[] | undefined {
  const frames: number[] = [];
  for (let a = start; a < start + len; a += PAGE) {
    const pa = vmp.pt.lookup(a)?.phys;
    if (pa === undefined) return undefined;
    frames.push(pa);
  }
  return frames;
}

/**
 * Adds a VR_ANON | VR_SHARED mmap region at `start` of `vmp` (writable iff `writable`) mapping
 * `frames` in order, one reference more each. On failure nothing is left (the references
 * taken go with the entries).
 */
export function mapSharedRegion(
  vm: Vm,
  vmp: VmProc,
  start: number,
  frames: readonly number[],
  writable: boolean,
): number {
  const len = frames.length * PAGE;
  const flags = VR_ANON | VR_SHARED | (writable ? VR_WRITABLE : 0);
  const r = vmp.regions.add({ start, length: len, flags, tag: "mmap" });
  if (r !== OK) return r;
  const bits = I386_VM_USER | (writable ? I386_VM_WRITE : 0);
  for (let i = 0; i < frames.length; i++) {
    const w = vm.mapShared(vmp, start + i * PAGE, frames[i]!, bits);
    if (w !== OK) {
      // Out of memory for a page table: undo.
      if (i > 0) vm.unmapRange(vmp, start, i * PAGE);
      vmp.regions.remove(start, len);
      return w;
    }
  }
  return OK;
}

/** Marks `region` of `vmp` VR_SHARED (its pages are all present: {@link makePresent}). */
export function markShared(vmp: VmProc, region: Region): void {
  if ((region.flags & VR_SHARED) !== 0) return;
  vmp.regions.remove(region.start, region.length);
  vmp.regions.add({ ...region, flags: region.flags | VR_SHARED });
}

/** VM_REMAP: maps the source region's frames into the destination. Reply: the address. */
export function doRemap(vm: Vm, _caller: Endpoint, req: VmReq<"VM_REMAP">): VmResult<"VM_REMAP"> {
  const { dest, src, destAddr, srcAddr, size } = req;
  const s = vm.procs.get(src);
  const d = vm.procs.get(dest);
  if (s === undefined || d === undefined || size === 0) return addrResult(EINVAL);
  const region = s.regions.at(srcAddr);
  if (region === undefined) return addrResult(EINVAL);
  const len = Math.ceil(size / PAGE) * PAGE;
  if (region.tag !== "mmap" || (region.flags & VR_DIRECT) !== 0 || len !== region.length) {
    return addrResult(EFAULT);
  }
  const start = placeDest(d, destAddr, len);
  if (start < 0) return addrResult(start);

  // Every page of the source present, so both sides share frames from now on.
  const p = makePresent(vm, s, region);
  if (p !== OK) return addrResult(p);
  const frames = framesOf(s, region.start, len);
  if (frames === undefined) return addrResult(EFAULT);
  const r = mapSharedRegion(vm, d, start, frames, (region.flags & VR_WRITABLE) !== 0);
  if (r !== OK) return addrResult(r);
  markShared(s, region);
  return addrResult(OK, start);
}

/** VM_SHM_UNMAP: removes the whole shared region starting at `addr` of `endpoint`. */
export function doShmUnmap(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_SHM_UNMAP">,
): VmResult<"VM_SHM_UNMAP"> {
  if (!vm.procs.has(req.endpoint)) return addrResult(EINVAL);
  const found = sharedRegion(vm, req.endpoint, req.addr);
  if (found === undefined) return addrResult(EFAULT);
  const [vmp, region] = found;
  const r = vm.unmapRange(vmp, region.start, region.length);
  if (r !== OK) return addrResult(r);
  vmp.regions.remove(region.start, region.length);
  return addrResult(OK, region.start);
}

/** VM_GETPHYS: the physical address of the first frame of a shared region. */
export function doGetphys(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_GETPHYS">,
): VmResult<"VM_GETPHYS"> {
  const found = sharedRegion(vm, req.endpoint, req.addr);
  const pa = found?.[0].pt.lookup(found[1].start)?.phys;
  return pa === undefined ? { status: EINVAL, phys: 0 } : { status: OK, phys: pa };
}

/** VM_GETREF: the reference count of the first frame of a shared region. */
export function doGetref(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_GETREF">,
): VmResult<"VM_GETREF"> {
  const found = sharedRegion(vm, req.endpoint, req.addr);
  const pa = found?.[0].pt.lookup(found[1].start)?.phys;
  return pa === undefined ? { status: EINVAL, count: 0 } : { status: OK, count: vm.refcount(pa) };
}
