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

/** Where the destination region goes: `want`, or a free slot when 0; negative: the error. */
function placeDest(dst: VmProc, want: number, len: number): number {
  if (want === 0) return dst.regions.findFree(len, { below: VM_USER_TOP });
  if (want % PAGE !== 0 || want < PAGE || want + len > VM_USER_TOP) return EINVAL;
  const at = dst.regions.findFree(len, { hint: want, above: want, below: want + len });
  return at === want ? want : EINVAL;
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

  // Every page of the source present, so both sides share frames from now on; a page still
  // copy-on-write with a fork relative is copied first (MINIX gives the other side the copy).
  const writable = (region.flags & VR_WRITABLE) !== 0;
  for (let a = region.start; a < region.start + len; a += PAGE) {
    const e = s.pt.lookup(a);
    const r =
      e === undefined
        ? vm.demandZero(s, region, a)
        : writable && (region.flags & VR_SHARED) === 0 && (e.flags & I386_VM_WRITE) === 0
          ? vm.cowPage(s, region, a, e.phys, e.flags)
          : OK;
    if (r !== OK) return addrResult(r);
  }

  const r = d.regions.add({
    start,
    length: len,
    flags: VR_ANON | VR_SHARED | (writable ? VR_WRITABLE : 0),
    tag: "mmap",
  });
  if (r !== OK) return addrResult(r);
  const bits = I386_VM_USER | (writable ? I386_VM_WRITE : 0);
  for (let off = 0; off < len; off += PAGE) {
    const pa = s.pt.lookup(region.start + off)?.phys ?? -1;
    const w = pa < 0 ? EFAULT : vm.mapShared(d, start + off, pa, bits);
    if (w !== OK) {
      // Out of memory for a page table: undo (the references taken go with the entries).
      if (off > 0) vm.unmapRange(d, start, off);
      d.regions.remove(start, len);
      return addrResult(w);
    }
  }
  if ((region.flags & VR_SHARED) === 0) {
    s.regions.remove(region.start, region.length);
    s.regions.add({ ...region, flags: region.flags | VR_SHARED });
  }
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
