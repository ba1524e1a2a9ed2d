/**
 * VM's state and memory logic: the free physical frames, and per process its page table and
 * regions. Everything here is synchronous: VM reaches physical memory through the window the
 * loader mapped into its address space, which is always present.
 * MINIX: servers/vm/main.c, pagefaults.c, region.c (MINIX-SPEC §8.1–8.6).
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { CPU_FAULT, CPU_OK, type CpuPort } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import { I386_PAGE_SIZE, I386_VM_USER, I386_VM_WRITE } from "../../include/vmpt.ts";
import { VM_PHYS_BASE } from "../../include/vm.ts";
import { PageTable, type FrameSource, type PhysAccess } from "./pagetable.ts";
import { PhysMem, VmSanityError } from "./physmem.ts";
import { RegionSet, VR_WRITABLE } from "./region.ts";

const PAGE = I386_PAGE_SIZE;

/** Physical memory through VM's window: ordinary loads and stores of VM's own. */
export class WindowAccess implements PhysAccess {
  readonly #cpu: CpuPort;
  readonly #zeros = new Uint8Array(PAGE);

  constructor(cpu: CpuPort) {
    this.#cpu = cpu;
  }

  read32(pa: number): number {
    const v = this.#cpu.read32(virAddr(VM_PHYS_BASE + pa));
    this.#check(v === CPU_FAULT ? v : CPU_OK, pa);
    return v;
  }

  write32(pa: number, v: number): void {
    this.#check(this.#cpu.write32(virAddr(VM_PHYS_BASE + pa), v), pa);
  }

  zero(pa: number, len: number): void {
    for (let done = 0; done < len; done += PAGE) {
      const n = Math.min(PAGE, len - done);
      const chunk = n === PAGE ? this.#zeros : this.#zeros.subarray(0, n);
      this.#check(this.#cpu.write(virAddr(VM_PHYS_BASE + pa + done), chunk), pa + done);
    }
  }

  #check(r: number, pa: number): void {
    if (r !== CPU_OK) throw new VmSanityError(`Physical window access failed at ${pa}`);
  }
}

/** What VM knows about one process (`struct vmproc`). */
export interface VmProc {
  readonly endpoint: Endpoint;
  readonly pt: PageTable;
  readonly regions: RegionSet;
  /** Where the brk heap starts: right after the boot data area (MINIX `vm_heap`'s start). */
  readonly heapStart: number;
}

export interface VmStats {
  faults: number;
  memreqs: number;
}

export class Vm implements FrameSource {
  readonly phys: PhysMem;
  readonly access: PhysAccess;
  readonly procs = new Map<number, VmProc>();
  readonly stats: VmStats = { faults: 0, memreqs: 0 };
  /** Frames [0, reservedFrames) were used by the loader and are never handed out. */
  readonly reservedFrames: number;
  /** Page-table entries were removed since the last {@link takeTlbFlush}. */
  #tlbStale = false;

  /** Frames handed out at least once since boot (their contents may be dirty). */
  readonly #used: Uint8Array;
  /** Whether the frame last returned by `allocFrame` had never been used. */
  #clean = false;

  constructor(access: PhysAccess, totalFrames: number, usedFrames: number) {
    this.access = access;
    this.#used = new Uint8Array(totalFrames);
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

  freeFrame(pa: number): void {
    this.phys.free(pa / PAGE, 1);
  }

  /** Takes over a boot process: its page directory and one demand-zero data region. */
  adopt(endpoint: Endpoint, cr3: number, dataStart: number, dataPages: number): number {
    const regions = new RegionSet();
    if (dataPages > 0) {
      const r = regions.add({
        start: dataStart,
        length: dataPages * PAGE,
        flags: VR_WRITABLE,
        tag: "data",
      });
      if (r !== OK) return r;
    }
    const pt = PageTable.adopt(this.access, this, cr3);
    this.procs.set(endpoint, { endpoint, pt, regions, heapStart: dataStart + dataPages * PAGE });
    return OK;
  }

  /**
   * Forgets a process that is gone: the frames VM gave it return to the free lists (the
   * loader's frames stay reserved).
   */
  release(ep: number): void {
    const vmp = this.procs.get(ep);
    if (vmp === undefined) return;
    this.procs.delete(ep);
    const mine = (pa: number): boolean => pa / PAGE >= this.reservedFrames;
    for (const m of vmp.pt.mappings()) if (mine(m.phys)) this.freeFrame(m.phys);
    for (const f of vmp.pt.tableFrames()) if (mine(f)) this.freeFrame(f);
  }

  /**
   * Clears the page-table entries of `[start, start+len)` (page aligned) in `vmp` and frees
   * the frames VM had mapped there; absent pages are skipped. The caller removes the region
   * piece and, before `vmp` runs again, has the TLB flushed ({@link takeTlbFlush}). Page
   * tables stay, as in MINIX (freed when the process goes).
   * @returns OK, or EINVAL for a bad range (nothing changed).
   */
  unmapRange(vmp: VmProc, start: number, len: number): number {
    if (!Number.isInteger(start) || !Number.isInteger(len) || start % PAGE !== 0) return EINVAL;
    if (len <= 0 || len % PAGE !== 0 || start < 0 || start + len > 2 ** 32) return EINVAL;
    const frames: number[] = [];
    for (let a = start; a < start + len; a += PAGE) {
      const m = vmp.pt.lookup(a);
      if (m !== undefined) frames.push(m.phys);
    }
    const r = vmp.pt.unmap(start, len);
    if (r !== OK) return r;
    for (const pa of frames) if (pa / PAGE >= this.reservedFrames) this.freeFrame(pa);
    this.#tlbStale = true;
    return OK;
  }

  /** Whether entries were removed since the last call (then VM asks for VMCTL_FLUSHTLB). */
  takeTlbFlush(): boolean {
    const stale = this.#tlbStale;
    this.#tlbStale = false;
    return stale;
  }

  /**
   * Makes the page at `addr` of `ep` present (and writable for a write) if a region allows
   * it: a demand-zero page on first touch. OK; EFAULT when no region allows the access (the
   * process gets SIGSEGV); ENOMEM when no frame is left.
   */
  fault(ep: number, addr: number, write: boolean): number {
    const vmp = this.procs.get(ep);
    if (vmp === undefined) return EFAULT;
    const region = vmp.regions.find(addr);
    if (region === undefined) return EFAULT;
    const writable = (region.flags & VR_WRITABLE) !== 0;
    if (write && !writable) return EFAULT;
    const page = addr - (addr % PAGE);
    const cur = vmp.pt.lookup(page);
    if (cur !== undefined) return write && (cur.flags & I386_VM_WRITE) === 0 ? EFAULT : OK;
    const frame = this.allocFrame();
    if (frame < 0) return ENOMEM;
    this.zeroFrame(frame);
    const r = vmp.pt.writeMap(page, frame, PAGE, I386_VM_USER | (writable ? I386_VM_WRITE : 0));
    if (r !== OK) {
      this.freeFrame(frame);
      return r;
    }
    this.stats.faults++;
    return OK;
  }

  /** Makes every page of [addr, addr+len) present (MEMREQ for a kernel copy). */
  ensureRange(ep: number, addr: number, len: number, write: boolean): number {
    if (len <= 0 || addr < 0 || addr + len > 2 ** 32) return EFAULT;
    for (let a = addr - (addr % PAGE); a < addr + len; a += PAGE) {
      const r = this.fault(ep, a, write);
      if (r !== OK) return r;
    }
    return OK;
  }

  /**
   * Sanity checks: the free lists are consistent; every frame mapped in a page table, and
   * every page-table frame, is referenced exactly once and never free; no frame leaked;
   * every mapped page lies in a region, and is writable only if the region is.
   */
  check(): void {
    this.phys.check();
    const seen = new Set<number>();
    const use = (pa: number, what: string): void => {
      const f = pa / PAGE;
      if (this.phys.isFree(f)) throw new VmSanityError(`${what}: frame ${f} is also free`);
      if (seen.has(f)) throw new VmSanityError(`${what}: frame ${f} used twice`);
      seen.add(f);
    };
    for (const vmp of this.procs.values()) {
      const bad = vmp.regions.check();
      if (bad.length > 0) throw new VmSanityError(`regions of ${vmp.endpoint}: ${bad.join("; ")}`);
      for (const f of vmp.pt.tableFrames()) use(f, `page table of ${vmp.endpoint}`);
      for (const m of vmp.pt.mappings()) {
        const where = `page of ${vmp.endpoint} at 0x${m.vaddr.toString(16)}`;
        use(m.phys, where);
        const region = vmp.regions.find(m.vaddr);
        if (region === undefined) throw new VmSanityError(`${where} lies in no region`);
        if ((m.flags & I386_VM_WRITE) !== 0 && (region.flags & VR_WRITABLE) === 0) {
          throw new VmSanityError(`${where} is writable in a read-only region`);
        }
      }
    }
    // Frames VM handed out lie above the loader's; each must be in use exactly once.
    let allocated = 0;
    for (const f of seen) if (f >= this.reservedFrames) allocated++;
    const handedOut = this.phys.usedFrames - this.reservedFrames;
    if (handedOut !== allocated) {
      throw new VmSanityError(`${handedOut} frames allocated but ${allocated} in use`);
    }
  }
}
