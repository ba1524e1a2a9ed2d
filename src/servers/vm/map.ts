/**
 * The VM side of the kernel's mapping requests (MINIX-SPEC §4.5–4.7, §8.6): safemap shares a
 * granter's pages with a grantee (VMPTYPE_SMAP), safeunmap / saferevmap give the grantee a
 * private copy back (VMPTYPE_SUNMAP), COW safecopy shares whole pages copy-on-write
 * (VMPTYPE_COWMAP). All addresses and the length are page aligned (EINVAL otherwise): the
 * kernel checked them, VM checks again.
 *
 * {@link mapMemory} with `flag` 1 (writable SMAP), 0 (read-only SMAP) or -1 (COW):
 * - every page of both ranges must lie in a region (EFAULT, where MINIX panicked); VR_DIRECT
 *   regions are refused on either side (EFAULT), and so, for SMAP, are VR_SHARED ones; a
 *   writable SMAP needs a writable destination region, COW one too (it is a write). One
 *   process mapping onto an overlapping range of its own: EINVAL.
 * - SMAP, per page: the source page is made present; if its frame is COW-shared the source
 *   first gets a private copy (the COW partner keeps the old contents), and a read-only
 *   entry of a writable source region left by an earlier COW is made writable. The
 *   destination's old page is dropped and the source frame mapped there (writable iff
 *   `flag` is 1), marked SMAP. Running out of memory undoes the destination pages mapped so
 *   far (they become absent) and returns ENOMEM: no share survives without a kernel record.
 * - COW, per page: the source page is made present. If the source frame is an SMAP share or
 *   in a VR_SHARED region, or the destination page is an SMAP share or in a VR_SHARED region,
 *   the data is copied into the destination page instead (the destination gets a private
 *   copy; a shared destination keeps its link). Otherwise the source entry becomes read-only,
 *   the destination's old page is dropped and the source frame mapped read-only there: the
 *   first write on either side copies (`Vm.fault`). ENOMEM leaves the pages done so far done.
 *
 * {@link unmapMemory}: every destination page that still maps the same SMAP frame as the
 * corresponding source page gets a private copy (writable iff its region is); other pages
 * (absent, already private, or mapped from elsewhere since) are left alone, so a repeated
 * request is harmless. A source that VM no longer knows shares nothing: OK.
 * MINIX: servers/vm/region.c `map_memory`, `unmap_memory`, `map_proc_copy`.
 */
import { EFAULT, EINVAL, OK } from "../../include/errno.ts";
import { I386_PAGE_SIZE, I386_VM_USER, I386_VM_WRITE } from "../../include/vmpt.ts";
import { isPageRange, PT_COPY_BITS } from "./pagetable.ts";
import { VR_DIRECT, VR_SHARED, VR_WRITABLE, type Region } from "./region.ts";
import type { Vm, VmProc } from "./vm.ts";

// Imported bindings copied into module constants, read per page (see pagetable.ts).
const L_OK = OK;
const L_EFAULT = EFAULT;
const L_EINVAL = EINVAL;
const L_I386_VM_USER = I386_VM_USER;
const L_I386_VM_WRITE = I386_VM_WRITE;
const L_VR_DIRECT = VR_DIRECT;
const L_VR_SHARED = VR_SHARED;
const L_VR_WRITABLE = VR_WRITABLE;
const L_PT_COPY_BITS = PT_COPY_BITS;

const PAGE = I386_PAGE_SIZE;

/** `flag` of a COW-share request (VMPTYPE_COWMAP). */
export const MAP_COW = -1;

/** The regions covering each page of `[addr, addr+len)`, or undefined if a page has none. */
function regionsOf(vmp: VmProc, addr: number, len: number): Region[] | undefined {
  const out: Region[] = [];
  for (let a = addr; a < addr + len;) {
    const r = vmp.regions.find(a);
    if (r === undefined) return undefined;
    const stop = Math.min(r.start + r.length, addr + len);
    for (; a < stop; a += PAGE) out.push(r);
  }
  return out;
}

/** Makes `page` of `vmp` present (demand-zero); its frame and entry bits, or an error. */
function present(
  vm: Vm,
  vmp: VmProc,
  region: Region,
  page: number,
): { phys: number; flags: number } | number {
  const cur = vmp.pt.lookup(page);
  if (cur !== undefined) return cur;
  const r = vm.demandZero(vmp, region, page);
  if (r !== L_OK) return r;
  return vmp.pt.lookup(page) ?? L_EFAULT;
}

/**
 * `map_memory`: see the file comment. `src`/`dst` are endpoints VM knows (else EINVAL).
 * @returns OK, EINVAL, EFAULT or ENOMEM.
 */
export function mapMemory(
  vm: Vm,
  srcEp: number,
  dstEp: number,
  srcAddr: number,
  dstAddr: number,
  len: number,
  flag: number,
): number {
  if (flag !== 1 && flag !== 0 && flag !== MAP_COW) return L_EINVAL;
  if (!isPageRange(srcAddr, len) || !isPageRange(dstAddr, len)) return L_EINVAL;
  const src = vm.procs.get(srcEp);
  const dst = vm.procs.get(dstEp);
  if (src === undefined || dst === undefined) return L_EINVAL;
  if (src === dst && srcAddr < dstAddr + len && dstAddr < srcAddr + len) return L_EINVAL;
  const srcRegions = regionsOf(src, srcAddr, len);
  const dstRegions = regionsOf(dst, dstAddr, len);
  if (srcRegions === undefined || dstRegions === undefined) return L_EFAULT;
  const cow = flag === MAP_COW;
  for (let i = 0; i < srcRegions.length; i++) {
    const s = srcRegions[i]!.flags;
    const d = dstRegions[i]!.flags;
    if ((s & L_VR_DIRECT) !== 0 || (d & L_VR_DIRECT) !== 0) return L_EFAULT;
    if (!cow && ((s | d) & L_VR_SHARED) !== 0) return L_EFAULT;
    if ((cow || flag === 1) && (d & L_VR_WRITABLE) === 0) return L_EFAULT;
  }
  const bits = L_I386_VM_USER | (flag === 1 ? L_I386_VM_WRITE : 0);
  for (let i = 0; i < srcRegions.length; i++) {
    const a = srcAddr + i * PAGE;
    const b = dstAddr + i * PAGE;
    const r = cow
      ? cowPage(vm, src, dst, a, b, srcRegions[i]!, dstRegions[i]!)
      : smapPage(vm, src, dst, a, b, srcRegions[i]!, bits);
    if (r !== L_OK) {
      // SMAP undoes: no destination page may stay shared without the kernel's record of it.
      // COW pages done stay done.
      if (!cow) for (let j = 0; j < i; j++) dropPage(vm, dst, dstAddr + j * PAGE);
      return r;
    }
  }
  return L_OK;
}

function smapPage(
  vm: Vm,
  src: VmProc,
  dst: VmProc,
  a: number,
  b: number,
  srcRegion: Region,
  bits: number,
): number {
  const cur = present(vm, src, srcRegion, a);
  if (typeof cur === "number") return cur;
  let phys = cur.phys;
  const srcWritable = (srcRegion.flags & L_VR_WRITABLE) !== 0;
  if (vm.refcount(phys) > 1 && !vm.isSmap(phys)) {
    // COW-shared: the source takes a private copy, the partner keeps the old frame.
    const keep = (cur.flags & L_PT_COPY_BITS) | (srcWritable ? L_I386_VM_WRITE : 0);
    const r = vm.privateCopy(src, srcRegion, a, phys, keep);
    if (r !== L_OK) return r;
    phys = src.pt.lookup(a)?.phys ?? -1;
    if (phys < 0) return L_EFAULT;
  } else if (srcWritable && (cur.flags & L_I386_VM_WRITE) === 0 && !vm.isSmap(phys)) {
    // A read-only entry left by an earlier COW share whose partner is gone.
    const r = src.pt.setFlags(a, (cur.flags & L_PT_COPY_BITS) | L_I386_VM_WRITE);
    if (r !== L_OK) return r;
  }
  const old = dst.pt.lookup(b);
  if (old !== undefined && old.phys === phys) {
    if (dst.pt.setFlags(b, bits) !== L_OK) return L_EFAULT;
    vm.staleTlb();
    return L_OK;
  }
  const r = dst.pt.writeMap(b, phys, PAGE, bits, { overwrite: true });
  if (r !== L_OK) return r;
  vm.ref(phys);
  if (old !== undefined) vm.unref(old.phys);
  vm.markSmap(phys);
  vm.staleTlb();
  return L_OK;
}

/** Removes the entry at `page` of `vmp` (if present) and its reference. */
function dropPage(vm: Vm, vmp: VmProc, page: number): void {
  if (vmp.pt.lookup(page) !== undefined) vm.unmapRange(vmp, page, PAGE);
}

function cowPage(
  vm: Vm,
  src: VmProc,
  dst: VmProc,
  a: number,
  b: number,
  srcRegion: Region,
  dstRegion: Region,
): number {
  const cur = present(vm, src, srcRegion, a);
  if (typeof cur === "number") return cur;
  const old = dst.pt.lookup(b);
  if (old !== undefined && old.phys === cur.phys) return L_OK;
  const copyInto =
    vm.isSmap(cur.phys) ||
    (srcRegion.flags & L_VR_SHARED) !== 0 ||
    (old !== undefined && vm.isSmap(old.phys)) ||
    (dstRegion.flags & L_VR_SHARED) !== 0;
  if (copyInto) {
    // Make the destination page present and writable (its own frame), then copy into it.
    const f = vm.fault(dst.endpoint, b, true);
    if (f !== L_OK) return f;
    const target = dst.pt.lookup(b);
    if (target === undefined) return L_EFAULT;
    vm.access.copy(target.phys, cur.phys, PAGE);
    return L_OK;
  }
  const r = dst.pt.writeMap(b, cur.phys, PAGE, L_I386_VM_USER, { overwrite: true });
  if (r !== L_OK) return r;
  vm.ref(cur.phys);
  if ((cur.flags & L_I386_VM_WRITE) !== 0) {
    if (src.pt.setFlags(a, cur.flags & L_PT_COPY_BITS & ~L_I386_VM_WRITE) !== L_OK) {
      return L_EFAULT;
    }
  }
  if (old !== undefined) vm.unref(old.phys);
  vm.staleTlb();
  return L_OK;
}

/**
 * `unmap_memory`: see the file comment. An unknown destination process or a bad range:
 * EINVAL.
 * @returns OK, EINVAL or ENOMEM (pages done so far stay private; repeating is safe).
 */
export function unmapMemory(
  vm: Vm,
  srcEp: number,
  dstEp: number,
  srcAddr: number,
  dstAddr: number,
  len: number,
): number {
  if (!isPageRange(srcAddr, len) || !isPageRange(dstAddr, len)) return L_EINVAL;
  const dst = vm.procs.get(dstEp);
  if (dst === undefined) return L_EINVAL;
  const src = vm.procs.get(srcEp);
  if (src === undefined) return L_OK;
  for (let i = 0; i < len / PAGE; i++) {
    const b = dstAddr + i * PAGE;
    const d = dst.pt.lookup(b);
    if (d === undefined || !vm.isSmap(d.phys)) continue;
    if (src.pt.lookup(srcAddr + i * PAGE)?.phys !== d.phys) continue;
    const region = dst.regions.find(b);
    if (region === undefined) continue;
    const bits = L_I386_VM_USER | ((region.flags & L_VR_WRITABLE) !== 0 ? L_I386_VM_WRITE : 0);
    const r = vm.privateCopy(dst, region, b, d.phys, bits);
    if (r !== L_OK) return r;
  }
  return L_OK;
}
