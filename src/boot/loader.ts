/**
 * The boot loader's part of memory management until VM exists: a bump allocator of physical
 * frames and page tables for each boot process (page directory, page tables, a zeroed data
 * area). Page tables are written into simulated physical memory exactly as VM will later.
 */
import { virAddr, type PhysAddr, type VirAddr } from "../include/types.ts";
import type { Hardware } from "../hw/machine.ts";
import { PAGE_SIZE } from "../hw/memory.ts";
import { BIG_PAGE_SIZE, PTE_FRAME_MASK, PTE_G, PTE_P, PTE_PS, PTE_RW, PTE_US } from "../hw/mmu.ts";

/** Where each process's data area starts: 4 MiB, leaving page 0 and low memory unmapped. */
export const DATA_BASE = virAddr(0x0040_0000);

export class FrameAllocator {
  readonly #hw: Hardware;
  #next: number;

  constructor(hw: Hardware, firstFrame = 1) {
    this.#hw = hw;
    this.#next = firstFrame * PAGE_SIZE;
  }

  /** A zeroed frame; throws when memory is exhausted (a boot configuration error). */
  alloc(): PhysAddr {
    if (this.#next + PAGE_SIZE > this.#hw.mem.size) {
      throw new RangeError("Boot image does not fit in memory: increase memoryBytes");
    }
    const pa = this.#next as PhysAddr;
    this.#next += PAGE_SIZE;
    this.#hw.mem.fill(pa, PAGE_SIZE, 0);
    return pa;
  }

  /** Moves to the next multiple of `bytes` (the frames skipped stay the loader's). */
  alignTo(bytes: number): void {
    this.#next = Math.ceil(this.#next / bytes) * bytes;
  }

  /** Bytes handed out so far (the boot info VM will take over). */
  get used(): number {
    return this.#next;
  }
}

/** Maps `va` → `pa` in the address space rooted at `cr3`, creating the page table. */
export function mapPage(
  hw: Hardware,
  frames: FrameAllocator,
  cr3: PhysAddr,
  va: number,
  pa: PhysAddr,
  flags = PTE_P | PTE_RW | PTE_US,
): void {
  const mem = hw.mem;
  const pdeAddr = (cr3 + (va >>> 22) * 4) as PhysAddr;
  let pde = mem.read32(pdeAddr);
  if ((pde & PTE_P) === 0) {
    pde = (frames.alloc() | PTE_P | PTE_RW | PTE_US) >>> 0;
    mem.write32(pdeAddr, pde);
  }
  const pteAddr = ((pde & PTE_FRAME_MASK) + ((va >>> 12) & 1023) * 4) as PhysAddr;
  mem.write32(pteAddr, ((pa & PTE_FRAME_MASK) | flags) >>> 0);
  hw.mmu.invlpg(cr3, va);
}

/** Removes the mapping of `va` (tests use it to make a page not present). */
export function unmapPage(hw: Hardware, cr3: PhysAddr, va: number): void {
  const mem = hw.mem;
  const pde = mem.read32((cr3 + (va >>> 22) * 4) as PhysAddr);
  if ((pde & PTE_P) === 0) return;
  mem.write32(((pde & PTE_FRAME_MASK) + ((va >>> 12) & 1023) * 4) as PhysAddr, 0);
  hw.mmu.invlpg(cr3, va);
}

export interface AddressSpace {
  readonly cr3: PhysAddr;
  readonly heapBase: VirAddr;
  readonly heapSize: number;
}

/** A new address space with `dataPages` zeroed, writable user pages at DATA_BASE. */
export function buildAddressSpace(
  hw: Hardware,
  frames: FrameAllocator,
  dataPages: number,
): AddressSpace {
  const cr3 = frames.alloc();
  for (let i = 0; i < dataPages; i++) {
    mapPage(hw, frames, cr3, DATA_BASE + i * PAGE_SIZE, frames.alloc());
  }
  return { cr3, heapBase: DATA_BASE, heapSize: dataPages * PAGE_SIZE };
}

/**
 * Maps all of physical memory at `base` in the space rooted at `cr3` with 4 MiB user pages:
 * VM's window onto the memory it owns.
 */
export function mapPhysWindow(hw: Hardware, cr3: PhysAddr, base: number): void {
  for (let pa = 0; pa < hw.mem.size; pa += BIG_PAGE_SIZE) {
    const va = base + pa;
    hw.mem.write32(
      (cr3 + (va >>> 22) * 4) as PhysAddr,
      (pa | PTE_PS | PTE_P | PTE_RW | PTE_US) >>> 0,
    );
  }
  hw.mmu.flushTlb(cr3);
}

/**
 * The shared mapping of the processes without PROC_FULLVM (MINIX: they run in the kernel's
 * address space): one page directory with a single global 4 MiB page, physical [0, 4 MiB) at
 * DATA_BASE (page 0 and low memory stay unmapped). Each such process's data is a run of frames
 * in that block, at its own addresses, so they all share one address space and switching
 * between them needs no page-table switch. `pages[i]` data pages for the i-th process; returns the
 * directory and each process's data start. Throws an Error when they do not fit in 4 MiB.
 */
export function buildSharedSpace(
  hw: Hardware,
  frames: FrameAllocator,
  pages: readonly number[],
): { cr3: PhysAddr; starts: VirAddr[] } {
  const total = pages.reduce((a, b) => a + b, 0);
  if (frames.used + total * PAGE_SIZE > BIG_PAGE_SIZE) {
    throw new Error(
      `Invalid boot option image: the processes without PROC_FULLVM need ${total} pages, more than their 4 MiB mapping holds`,
    );
  }
  const starts = pages.map((n) => {
    const first = frames.alloc();
    for (let i = 1; i < n; i++) frames.alloc();
    return virAddr(DATA_BASE + first);
  });
  frames.alignTo(BIG_PAGE_SIZE);
  const cr3 = frames.alloc();
  const pde = (cr3 + (DATA_BASE >>> 22) * 4) as PhysAddr;
  hw.mem.write32(pde, (0 | PTE_PS | PTE_G | PTE_P | PTE_RW | PTE_US) >>> 0);
  hw.mmu.flushTlb(cr3);
  return { cr3, starts };
}

/**
 * Writes `bytes` at `va` of the address space `cr3` (mapped already: the boot information
 * the loader leaves for VM and RS). Throws naming `what` when a page is not mapped.
 */
export function writeVirtual(
  hw: Hardware,
  cr3: PhysAddr,
  va: number,
  bytes: Uint8Array,
  what: string,
): void {
  for (let off = 0; off < bytes.length; off += PAGE_SIZE) {
    const pa = hw.mmu.translate(cr3, va + off, true, false);
    if (pa < 0) throw new Error(`${what} page is not mapped`);
    hw.mem.writeBytes(pa as PhysAddr, bytes.subarray(off, Math.min(bytes.length, off + PAGE_SIZE)));
  }
}
