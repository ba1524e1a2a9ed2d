/**
 * VM's state and memory logic: the free physical frames, per frame a reference count, and per
 * process its page table and regions. Everything here is synchronous: VM reaches physical
 * memory through the window the loader mapped into its address space, which is always present.
 *
 * Reference counts (MINIX `phys_block.refcount`, MINIX-SPEC §8.1): a frame VM handed out for
 * data counts the page-table entries, over all processes, that map it; it goes back to the
 * free lists when the last one goes. A count exceeds 1 through shared memory (VM_REMAP) or
 * fork (fork.ts), whose shared frames are copy-on-write: mapped read-only until a write
 * fault gives the writer its own copy ({@link Vm.fault}). The loader's frames (below
 * `reservedFrames`) are never counted and never freed; page-table frames belong to their
 * page table, not to the counts.
 *
 * Share marks (MINIX `phys_block.share_flag`): a frame shared by safemap (map.ts) is marked
 * SMAP. Its entries are written by the mapping code (writable for a writable mapping) and a
 * write fault through a read-only one is refused (EFAULT), never copied: an SMAP share stays
 * one frame. Every other frame counted more than once outside VR_SHARED regions is shared
 * copy-on-write (fork, COW safecopy) and mapped read-only. The mark goes when the count drops
 * to 1: the last holder owns the frame like any other.
 * MINIX: servers/vm/main.c, pagefaults.c, region.c (MINIX-SPEC §8.1–8.7).
 */
import { LAST_SPECIAL_PROC_NR, slotOf, VM_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { CPU_FAULT, CPU_OK, type CpuPort } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import {
  I386_PAGE_SIZE,
  I386_VM_BIGPAGE,
  I386_VM_USER,
  I386_VM_WRITE,
} from "../../include/vmpt.ts";
import { VM_PHYS_BASE } from "../../include/vm.ts";
import {
  isPageRange,
  PageTable,
  PT_COPY_BITS,
  type FrameSource,
  type PhysAccess,
} from "./pagetable.ts";
import { PhysMem, VmSanityError } from "./physmem.ts";
import {
  RegionSet,
  VR_LOWER16MB,
  VR_LOWER1MB,
  VR_SHARED,
  VR_WRITABLE,
  type Region,
} from "./region.ts";

// Imported bindings copied into module constants, read per page (see pagetable.ts).
const L_VM_PHYS_BASE = VM_PHYS_BASE;
const L_CPU_FAULT = CPU_FAULT;
const L_CPU_OK = CPU_OK;
const L_OK = OK;
const L_EFAULT = EFAULT;
const L_ENOMEM = ENOMEM;
const L_EINVAL = EINVAL;
const L_I386_VM_WRITE = I386_VM_WRITE;
const L_I386_VM_USER = I386_VM_USER;
const L_VR_SHARED = VR_SHARED;
const L_VR_WRITABLE = VR_WRITABLE;
const L_PT_COPY_BITS = PT_COPY_BITS;
const L_virAddr = virAddr;

const PAGE = I386_PAGE_SIZE;

/** VM's access to physical memory: words, zeroing, and copies between frames (COW). */
export interface VmAccess extends PhysAccess {
  /** Copies `len` bytes from physical `src` to physical `dst` (non-overlapping). */
  copy(dst: number, src: number, len: number): void;
}

/** Physical memory through VM's window: ordinary loads and stores of VM's own. */
export class WindowAccess implements VmAccess {
  readonly #cpu: CpuPort;
  readonly #zeros = new Uint8Array(PAGE);
  readonly #buf = new Uint8Array(PAGE);

  constructor(cpu: CpuPort) {
    this.#cpu = cpu;
  }

  read32(pa: number): number {
    const v = this.#cpu.read32(L_virAddr(L_VM_PHYS_BASE + pa));
    this.#check(v === L_CPU_FAULT ? v : L_CPU_OK, pa);
    return v;
  }

  write32(pa: number, v: number): void {
    this.#check(this.#cpu.write32(L_virAddr(L_VM_PHYS_BASE + pa), v), pa);
  }

  zero(pa: number, len: number): void {
    for (let done = 0; done < len; done += PAGE) {
      const n = Math.min(PAGE, len - done);
      const chunk = n === PAGE ? this.#zeros : this.#zeros.subarray(0, n);
      this.#check(this.#cpu.write(L_virAddr(L_VM_PHYS_BASE + pa + done), chunk), pa + done);
    }
  }

  /** A page at a time: one load of the source and one store of the destination. */
  copy(dst: number, src: number, len: number): void {
    for (let done = 0; done < len; done += PAGE) {
      const n = Math.min(PAGE, len - done);
      const buf = n === PAGE ? this.#buf : this.#buf.subarray(0, n);
      this.#check(this.#cpu.read(L_virAddr(L_VM_PHYS_BASE + src + done), buf), src + done);
      this.#check(this.#cpu.write(L_virAddr(L_VM_PHYS_BASE + dst + done), buf), dst + done);
    }
  }

  #check(r: number, pa: number): void {
    if (r !== L_CPU_OK) throw new VmSanityError(`Physical window access failed at ${pa}`);
  }
}

/** What VM knows about one process (`struct vmproc`). */
export interface VmProc {
  readonly endpoint: Endpoint;
  readonly pt: PageTable;
  readonly regions: RegionSet;
  /** Where the brk heap starts: right after the boot data area (MINIX `vm_heap`'s start). */
  readonly heapStart: number;
  /** The demand-zero data area every image has (kept across exec): start and pages. */
  readonly dataStart: number;
  readonly dataPages: number;
  /**
   * May make the privileged VM calls (MINIX `vm_call_mask` beyond VM_BASIC_CALLS): set at
   * boot for the fixed system-server slots, changed by VM_RS_SET_PRIV; see acl.ts.
   */
  privileged: boolean;
}

/** A boot process in the shared mapping (see `Vm.bootMapped`). */
export interface BootMapped {
  readonly endpoint: Endpoint;
  readonly cr3: number;
  readonly dataStart: number;
  readonly dataPages: number;
}

/** Boot slots of the system servers (PM … PFS, not VM, not INIT): privileged VM callers. */
export function isSystemSlot(ep: number): boolean {
  const slot = slotOf(ep);
  return slot >= 0 && slot < LAST_SPECIAL_PROC_NR && slot !== VM_PROC_NR;
}

/**
 * Adds the demand-zero data area every image has (`pages` > 0 pages from `start`, writable)
 * to `regions`: at boot, in the child of a boot process, and kept across exec.
 */
export function addDataRegion(regions: RegionSet, start: number, pages: number): number {
  return regions.add({ start, length: pages * PAGE, flags: L_VR_WRITABLE, tag: "data" });
}

export interface VmStats {
  faults: number;
  memreqs: number;
  /** Copy-on-write faults that copied a page. */
  copies: number;
}

export class Vm implements FrameSource {
  readonly phys: PhysMem;
  readonly access: VmAccess;
  readonly procs = new Map<number, VmProc>();
  /**
   * Boot processes without PROC_FULLVM: they run in the loader's shared 4 MiB mapping, have
   * no page table or regions of their own for VM to manage, and are only ever forked (their
   * child gets an address space of its own with a copy of their data).
   */
  readonly bootMapped = new Map<number, BootMapped>();
  readonly stats: VmStats = { faults: 0, memreqs: 0, copies: 0 };
  /** The IPC server's exit watch (watch.ts): watched endpoints, and those not yet queried. */
  readonly exitWatch = { watched: new Set<Endpoint>(), pending: [] as Endpoint[] };
  /** VM_KEEP: frames VM holds one reference each on, by key (keep.ts). */
  readonly kept = new Map<number, readonly number[]>();
  /** Frames [0, reservedFrames) were used by the loader and are never handed out. */
  readonly reservedFrames: number;
  /** Page-table entries were removed since the last {@link takeTlbFlush}. */
  #tlbStale = false;

  /** Frames handed out at least once since boot (their contents may be dirty). */
  readonly #used: Uint8Array;
  /** Per frame: the page-table entries mapping it (VM-owned data frames only). */
  readonly #refs: Uint32Array;
  /** Per frame: 1 if shared by safemap (PBSH_SMAP); only while counted at least twice. */
  readonly #smap: Uint8Array;
  /** Whether the frame last returned by `allocFrame` had never been used. */
  #clean = false;

  constructor(access: VmAccess, totalFrames: number, usedFrames: number) {
    this.access = access;
    this.#used = new Uint8Array(totalFrames);
    this.#refs = new Uint32Array(totalFrames);
    this.#smap = new Uint8Array(totalFrames);
    this.phys = new PhysMem(totalFrames);
    this.reservedFrames = usedFrames;
    this.phys.reserve(0, usedFrames);
  }

  allocFrame(): number {
    const f = this.phys.alloc(1);
    if (f < 0) return -1;
    const clean = this.#used[f] === 0;
    this.#used[f] = 1;
    this.#clean = clean;
    return f * PAGE;
  }

  /** Zeroes `n` frames from `first` taken straight from `phys` (and marks them used). */
  zeroRun(first: number, n: number): void {
    this.access.zero(first * PAGE, n * PAGE);
    this.#used.fill(1, first, first + n);
  }

  /**
   * Zeroes the frame just returned by `allocFrame`, unless it was never handed out before:
   * memory starts zeroed, so only recycled frames need clearing.
   */
  zeroFrame(pa: number): void {
    if (!this.#clean) this.access.zero(pa, PAGE);
  }

  /** Returns a frame to the free lists; the loader's frames stay reserved. */
  freeFrame(pa: number): void {
    const f = pa / PAGE;
    if (f >= this.reservedFrames) this.phys.free(f, 1);
  }

  /** Number of page-table entries mapping the frame at `pa` (0 for loader frames). */
  refcount(pa: number): number {
    return this.#refs[Math.floor(pa / PAGE)] ?? 0;
  }

  /** Counts one more page-table entry mapping the frame at `pa`. */
  ref(pa: number): void {
    const f = pa / PAGE;
    if (f >= this.reservedFrames) this.#refs[f] = (this.#refs[f] ?? 0) + 1;
  }

  /** Counts one entry less for the frame at `pa`; at zero the frame is free again. */
  unref(pa: number): void {
    const f = pa / PAGE;
    if (f < this.reservedFrames) return;
    const n = this.#refs[f] ?? 0;
    if (n === 0) throw new VmSanityError(`frame ${f} unreferenced below zero`);
    this.#refs[f] = n - 1;
    if (n <= 2) this.#smap[f] = 0;
    if (n === 1) this.phys.free(f, 1);
  }

  /** Whether the frame at `pa` is shared by safemap (PBSH_SMAP). */
  isSmap(pa: number): boolean {
    return this.#smap[Math.floor(pa / PAGE)] === 1;
  }

  /** Marks the frame at `pa`, counted at least twice, as shared by safemap. */
  markSmap(pa: number): void {
    const f = pa / PAGE;
    if ((this.#refs[f] ?? 0) < 2) throw new VmSanityError(`SMAP mark on unshared frame ${f}`);
    this.#smap[f] = 1;
  }

  /**
   * A private copy of the frame at `pa` for a page of `region` (below the region's physical
   * limit if it has one), not yet mapped or counted; -1 when no frame is left.
   */
  copyFrame(region: Region, pa: number): number {
    const frame = this.#allocBelow(region);
    if (frame < 0) return -1;
    this.access.copy(frame, pa, PAGE);
    return frame;
  }

  /**
   * Gives `page` of `vmp` (in `region`, now mapping frame `pa`) a private copy of its contents
   * mapped with entry bits `bits`; the old frame loses one reference. Marks the TLB stale.
   * @returns OK, or ENOMEM (nothing changed).
   */
  privateCopy(vmp: VmProc, region: Region, page: number, pa: number, bits: number): number {
    const frame = this.copyFrame(region, pa);
    if (frame < 0) return L_ENOMEM;
    const r = vmp.pt.writeMap(page, frame, PAGE, bits, { overwrite: true });
    if (r !== L_OK) {
      this.freeFrame(frame);
      return r;
    }
    this.ref(frame);
    this.unref(pa);
    this.stats.copies++;
    this.#tlbStale = true;
    return L_OK;
  }

  /**
   * Maps `n` frames from `first` (fresh from `phys`, zeroed) at `va` of `vmp` with entry bits
   * `bits`, one reference each. On failure nothing is mapped and the frames are untouched.
   */
  mapRun(vmp: VmProc, va: number, first: number, n: number, bits: number): number {
    const r = vmp.pt.writeMap(va, first * PAGE, n * PAGE, bits);
    if (r !== L_OK) return r;
    for (let f = first; f < first + n; f++) this.ref(f * PAGE);
    return L_OK;
  }

  /**
   * Maps `frame`, fresh from {@link allocFrame} or {@link copyFrame} and not yet counted, at
   * page `va` of `pt` with entry bits `bits`, one reference. On failure the frame is freed.
   */
  mapFresh(pt: PageTable, va: number, frame: number, bits: number): number {
    const r = pt.writeMap(va, frame, PAGE, bits);
    if (r === L_OK) this.ref(frame);
    else this.freeFrame(frame);
    return r;
  }

  /** Maps the frame at `pa` at page `va` of `vmp` and counts the reference. */
  mapShared(vmp: VmProc, va: number, pa: number, bits: number): number {
    const r = vmp.pt.writeMap(va, pa, PAGE, bits);
    if (r === L_OK) this.ref(pa);
    return r;
  }

  /**
   * Takes over a boot process: its page directory and one demand-zero data region — or, for a
   * process whose data lies in the loader's shared global mapping (a 4 MiB page), just a note
   * of where its data is (`bootMapped`).
   */
  adopt(endpoint: Endpoint, cr3: number, dataStart: number, dataPages: number): number {
    const pt = PageTable.adopt(this.access, this, cr3);
    if (dataPages > 0) {
      const at = pt.lookup(dataStart);
      if (at !== undefined && (at.flags & I386_VM_BIGPAGE) !== 0) {
        this.bootMapped.set(endpoint, { endpoint, cr3, dataStart, dataPages });
        return OK;
      }
    }
    const regions = new RegionSet();
    if (dataPages > 0) {
      const r = addDataRegion(regions, dataStart, dataPages);
      if (r !== L_OK) return r;
    }
    this.procs.set(endpoint, {
      endpoint,
      pt,
      regions,
      heapStart: dataStart + dataPages * PAGE,
      dataStart,
      dataPages,
      privileged: isSystemSlot(endpoint),
    });
    return L_OK;
  }

  /**
   * Forgets a process that is gone (MINIX VM_EXIT: `free_proc`): every region goes, each
   * frame it mapped loses a reference (shared frames live on while another process maps
   * them), the page tables VM allocated are freed and the directory is left empty (the
   * loader's directory frame stays reserved). The TLB must be flushed before anyone runs.
   * @returns OK, or EINVAL if VM does not know `ep`.
   */
  exit(ep: number): number {
    const vmp = this.procs.get(ep);
    if (vmp === undefined) return L_EINVAL;
    this.procs.delete(ep);
    this.releaseSpace(vmp);
    return L_OK;
  }

  /**
   * Releases the address space of `vmp` (no longer in `procs`): each frame it mapped loses
   * a reference, the page tables VM allocated are freed, the directory too unless it is the
   * loader's (reserved), and the regions are forgotten. Marks the TLB stale.
   */
  releaseSpace(vmp: VmProc): void {
    const frames: number[] = [];
    for (const m of vmp.pt.mappings()) frames.push(m.phys);
    vmp.pt.freeTables();
    this.freeFrame(vmp.pt.root);
    for (const pa of frames) this.unref(pa);
    vmp.regions.clear();
    this.#tlbStale = true;
  }

  /**
   * Frees an address space that was never registered (a fork child or an exec image that
   * will not be installed): each frame it maps loses a reference, its page tables and its
   * directory are freed.
   */
  discardTable(pt: PageTable): void {
    const frames: number[] = [];
    for (const m of pt.mappings()) frames.push(m.phys);
    pt.destroy();
    for (const pa of frames) this.unref(pa);
  }

  /**
   * Clears the page-table entries of `[start, start+len)` (page aligned) in `vmp` and drops
   * one reference per frame mapped there (freed at zero); absent pages are skipped. The caller
   * removes the region piece and, before `vmp` runs again, has the TLB flushed
   * ({@link takeTlbFlush}). Page tables stay, as in MINIX (freed when the process goes).
   * @returns OK, or EINVAL for a bad range (nothing changed).
   */
  unmapRange(vmp: VmProc, start: number, len: number): number {
    if (!isPageRange(start, len)) return L_EINVAL;
    const frames: number[] = [];
    for (let a = start; a < start + len; a += PAGE) {
      const m = vmp.pt.lookup(a);
      if (m !== undefined) frames.push(m.phys);
    }
    const r = vmp.pt.unmap(start, len);
    if (r !== L_OK) return r;
    for (const pa of frames) this.unref(pa);
    this.#tlbStale = true;
    return L_OK;
  }

  /** Notes that a present entry lost a permission or changed frame: the TLB must be flushed. */
  staleTlb(): void {
    this.#tlbStale = true;
  }

  /**
   * Whether entries were removed or restricted since the last call (then VM asks for
   * VMCTL_FLUSHTLB).
   */
  takeTlbFlush(): boolean {
    const stale = this.#tlbStale;
    this.#tlbStale = false;
    return stale;
  }

  /**
   * Makes the page at `addr` of `ep` present (and writable for a write) if a region allows
   * it: a demand-zero page on first touch; for a write to a present read-only page of a
   * writable, unshared region, copy-on-write ({@link cowPage}). OK; EFAULT when no region
   * allows the access (the process gets SIGSEGV); ENOMEM when no frame is left.
   */
  fault(ep: number, addr: number, write: boolean): number {
    const vmp = this.procs.get(ep);
    if (vmp === undefined) return L_EFAULT;
    const region = vmp.regions.find(addr);
    if (region === undefined) return L_EFAULT;
    if (write && (region.flags & L_VR_WRITABLE) === 0) return L_EFAULT;
    const page = addr - (addr % PAGE);
    const cur = vmp.pt.lookup(page);
    if (cur !== undefined) {
      if (!write || (cur.flags & L_I386_VM_WRITE) !== 0) return L_OK;
      // Shared memory is mapped writable whatever its count: a read-only entry there is a bug.
      if ((region.flags & L_VR_SHARED) !== 0) return L_EFAULT;
      // A read-only safemap share: writing is refused, never copied (MINIX map_pf).
      if (this.isSmap(cur.phys)) return L_EFAULT;
      const r = this.cowPage(vmp, region, page, cur.phys, cur.flags);
      if (r === L_OK) this.stats.faults++;
      return r;
    }
    // Shared memory is always present (MINIX asserts it); a hole there is refused.
    if ((region.flags & L_VR_SHARED) !== 0) return L_EFAULT;
    const r = this.demandZero(vmp, region, page);
    if (r === L_OK) this.stats.faults++;
    return r;
  }

  /**
   * Copy-on-write (MINIX `map_pf` → `map_clone_ph_block`): the present read-only page `page`
   * (frame `pa`, entry bits `flags`) of the writable region `region` is being written. If
   * another entry maps the frame, this page gets a private copy (a fresh frame, below the
   * region's physical limit if it has one) mapped writable, and the old frame loses one
   * reference; if this entry is the frame's only one, it is simply made writable again.
   * Either way the entry changed while present, so the TLB is marked stale.
   * Deviation (as MINIX 3.2): a copied page of a MAP_CONTIG / MAP_ALIGN64K region is no
   * longer physically contiguous with the rest.
   * @returns OK, or ENOMEM (nothing changed).
   */
  cowPage(vmp: VmProc, region: Region, page: number, pa: number, flags: number): number {
    const bits = (flags & L_PT_COPY_BITS) | L_I386_VM_WRITE;
    if (this.refcount(pa) <= 1) {
      const r = vmp.pt.setFlags(page, bits);
      if (r === L_OK) this.#tlbStale = true;
      return r;
    }
    return this.privateCopy(vmp, region, page, pa, bits);
  }

  /** A frame for a copy in `region`: below 1 or 16 MiB if the region demands it; -1 if none. */
  #allocBelow(region: Region): number {
    const lower =
      (region.flags & VR_LOWER1MB) !== 0
        ? 0x10_0000 / PAGE
        : (region.flags & VR_LOWER16MB) !== 0
          ? 0x100_0000 / PAGE
          : undefined;
    if (lower === undefined) return this.allocFrame();
    const f = this.phys.alloc(1, { lower });
    if (f < 0) return -1;
    this.#used[f] = 1;
    return f * PAGE;
  }

  /** Maps a fresh zeroed frame at the absent page `page` of `region` (one reference). */
  demandZero(vmp: VmProc, region: Region, page: number): number {
    const frame = this.allocFrame();
    if (frame < 0) return L_ENOMEM;
    this.zeroFrame(frame);
    const writable = (region.flags & L_VR_WRITABLE) !== 0;
    return this.mapFresh(vmp.pt, page, frame, L_I386_VM_USER | (writable ? L_I386_VM_WRITE : 0));
  }

  /** Makes every page of [addr, addr+len) present (MEMREQ for a kernel copy). */
  ensureRange(ep: number, addr: number, len: number, write: boolean): number {
    if (len <= 0 || addr < 0 || addr + len > 2 ** 32) return L_EFAULT;
    for (let a = addr - (addr % PAGE); a < addr + len; a += PAGE) {
      const r = this.fault(ep, a, write);
      if (r !== L_OK) return r;
    }
    return L_OK;
  }

  /**
   * Sanity checks (MINIX SANITYCHECK, MINIX-SPEC §8.1, §8.3): the free lists are consistent;
   * the loader's frames are never free; page-table frames belong to one table each and are
   * neither free nor mapped; every VM-owned frame's reference count equals the number of
   * page-table entries mapping it plus the references VM_KEEP holds, and it is free exactly
   * when that number is 0 (no leak, no use after free); every mapped page lies in a region
   * and is writable only by the writable rule (a writable region, and the frame unshared, the
   * region VR_SHARED or the frame an SMAP share); an SMAP mark only on a frame counted at
   * least twice, never in a VR_SHARED region; every page of a VR_SHARED region is present.
   */
  check(): void {
    this.phys.check();
    const total = this.phys.totalFrames;
    const isFree = new Uint8Array(total);
    for (const run of this.phys.ranges()) isFree.fill(1, run.first, run.first + run.n);
    if (isFree.subarray(0, this.reservedFrames).includes(1)) {
      throw new VmSanityError("a loader frame is free");
    }
    const counts = new Uint32Array(total);
    const tables = new Set<number>();
    for (const vmp of this.procs.values()) {
      for (const pa of vmp.pt.tableFrames()) {
        const f = pa / PAGE;
        if (tables.has(f)) throw new VmSanityError(`page-table frame ${f} used twice`);
        if (isFree[f] === 1) throw new VmSanityError(`page-table frame ${f} is also free`);
        tables.add(f);
      }
    }
    for (const vmp of this.procs.values()) {
      const bad = vmp.regions.check();
      if (bad.length > 0) throw new VmSanityError(`regions of ${vmp.endpoint}: ${bad.join("; ")}`);
      for (const m of vmp.pt.mappings()) {
        const where = `page of ${vmp.endpoint} at 0x${m.vaddr.toString(16)}`;
        const f = m.phys / PAGE;
        if (tables.has(f)) throw new VmSanityError(`${where} maps page-table frame ${f}`);
        if (f >= this.reservedFrames) counts[f] = (counts[f] ?? 0) + 1;
        const region = vmp.regions.find(m.vaddr);
        if (region === undefined) throw new VmSanityError(`${where} lies in no region`);
        const smap = this.isSmap(m.phys);
        if (smap && (region.flags & L_VR_SHARED) !== 0) {
          throw new VmSanityError(`${where} is an SMAP share in a VR_SHARED region`);
        }
        if ((m.flags & L_I386_VM_WRITE) === 0) continue;
        if ((region.flags & L_VR_WRITABLE) === 0) {
          throw new VmSanityError(`${where} is writable in a read-only region`);
        }
        if ((region.flags & L_VR_SHARED) === 0 && !smap && this.refcount(m.phys) > 1) {
          throw new VmSanityError(`${where} is writable but frame ${f} is shared`);
        }
      }
      for (const region of vmp.regions) {
        if ((region.flags & L_VR_SHARED) === 0) continue;
        for (let a = region.start; a < region.start + region.length; a += PAGE) {
          if (vmp.pt.lookup(a) === undefined) {
            throw new VmSanityError(`shared page of ${vmp.endpoint} at 0x${a.toString(16)} absent`);
          }
        }
      }
    }
    for (const frames of this.kept.values()) {
      for (const pa of frames) counts[pa / PAGE] = (counts[pa / PAGE] ?? 0) + 1;
    }
    for (let f = this.reservedFrames; f < total; f++) {
      const refs = this.#refs[f] ?? 0;
      if (refs !== counts[f]) {
        throw new VmSanityError(`frame ${f}: refcount ${refs} but ${counts[f]} mappings`);
      }
      const free = isFree[f] === 1;
      if (refs > 0 && free) throw new VmSanityError(`frame ${f} is mapped and free`);
      if (this.#smap[f] === 1 && refs < 2) {
        throw new VmSanityError(`frame ${f}: SMAP mark with refcount ${refs}`);
      }
      if (refs === 0 && !free && !tables.has(f)) {
        throw new VmSanityError(`frame ${f} leaked (neither free nor used)`);
      }
    }
  }
}
