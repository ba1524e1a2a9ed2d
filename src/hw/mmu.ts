// i386-style two-level paging MMU over simulated physical memory, with a software TLB.

import type { PhysAddr } from "../include/types.ts";
import type { PhysicalMemory } from "./memory.ts";

export const PTE_P = 0x001;
export const PTE_RW = 0x002;
export const PTE_US = 0x004;
export const PTE_A = 0x020;
export const PTE_D = 0x040;
export const PTE_PS = 0x080;
export const PTE_G = 0x100;
export const PTE_FRAME_MASK = 0xfffff000;
export const PDE_4M_FRAME_MASK = 0xffc00000;
export const I386_VM_DIR_ENTRIES = 1024;
export const I386_VM_PT_ENTRIES = 1024;
export const BIG_PAGE_SIZE = 4 * 1024 * 1024;

/** The page directory or page table entry for the address is not present. */
export const FAULT_NOT_PRESENT = -1;
/** The mapping exists but forbids this access (user, or write). */
export const FAULT_PROTECTION = -2;

/** True iff a `translate` result is a fault code rather than a physical address. */
export function isFault(r: number): boolean {
  return r < 0;
}

/** The byte offset of `va` inside its 4 KiB page. */
export function pageOffset(va: number): number {
  return va & 0xfff;
}

// Permission/state bits kept in the low 12 bits of a cached entry (the frame is page aligned).
const T_W = 1; // writes allowed (RW at both levels)
const T_U = 2; // user access allowed (US at both levels)
const T_D = 4; // final entry already has D set
const T_G = 8; // final entry is global

// Cached entry layout in the TLB array: [vpn, cr3, frame | flags, unused].
const INVALID_VPN = 0xffffffff;
const STRIDE = 4;

/** Options for {@link Mmu}. */
export interface MmuOptions {
  /** Number of direct-mapped TLB entries, a power of two (default 1024). */
  readonly tlbEntries?: number;
}

/**
 * An i386 paging unit. Page directories and tables live in physical memory and are
 * walked on every TLB miss; Accessed/Dirty bits are written back as hardware does.
 *
 * TLB: one direct-mapped array tagged with (cr3, virtual page), so every address space
 * has its own entries and no flush is needed on an address-space switch. It is flushed
 * only explicitly, so page table edits stay invisible until `invlpg`/`flushTlb`, exactly
 * like real hardware. A fault raised from a cached entry drops that entry (as x86 does on
 * a page fault), so a retry after fixing the tables walks them again.
 */
export class Mmu {
  readonly #mem: PhysicalMemory;
  readonly #tlb: Uint32Array;
  readonly #mask: number;
  #generation = 0;

  /**
   * @param mem physical memory holding the page tables.
   * @throws RangeError if `tlbEntries` is not a power of two ≥ 1.
   */
  constructor(mem: PhysicalMemory, options: MmuOptions = {}) {
    const n = options.tlbEntries ?? 1024;
    if (!Number.isInteger(n) || n < 1 || n > 1 << 20 || (n & (n - 1)) !== 0) {
      throw new RangeError(`tlbEntries must be a power of two, got ${n}`);
    }
    this.#mem = mem;
    this.#mask = n - 1;
    this.#tlb = new Uint32Array(n * STRIDE).fill(INVALID_VPN);
  }

  /**
   * Changes whenever a cached translation may have been dropped or replaced: on every flush,
   * `invlpg`, eviction, re-walk of a cached page, and fault raised from a cached entry. A
   * translation taken while it stays the same is exactly as valid as the TLB entry it came
   * from (see `CpuPort.mapWords`).
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Translates virtual address `va` (taken modulo 2^32) in the address space whose page
   * directory is at `cr3`.
   * @returns the physical address (≥ 0), or FAULT_NOT_PRESENT / FAULT_PROTECTION.
   * Supervisor writes honour RW (CR0.WP = 1). A page table outside physical memory
   * throws RangeError (a kernel bug).
   */
  translate(cr3: PhysAddr, va: number, write: boolean, user: boolean): number {
    const vpn = va >>> 12;
    const b = ((vpn ^ ((cr3 >>> 12) * 37)) & this.#mask) * STRIDE;
    const tlb = this.#tlb;
    if (tlb[b] === vpn && tlb[b + 1] === cr3) {
      const e = tlb[b + 2] ?? 0;
      if ((user && (e & T_U) === 0) || (write && (e & T_W) === 0)) {
        tlb[b] = INVALID_VPN;
        this.#generation++;
        return FAULT_PROTECTION;
      }
      if (!write || (e & T_D) !== 0) return ((e & PTE_FRAME_MASK) | (va & 0xfff)) >>> 0;
    }
    return this.#walk(cr3, va, write, user, b);
  }

  /**
   * Drops cached translations. With `cr3`, drops that address space's non-global
   * entries (global entries survive, as on a CR3 reload); without, drops everything.
   */
  flushTlb(cr3?: PhysAddr): void {
    this.#generation++;
    const tlb = this.#tlb;
    if (cr3 === undefined) {
      tlb.fill(INVALID_VPN);
      return;
    }
    for (let b = 0; b < tlb.length; b += STRIDE) {
      if (tlb[b + 1] === cr3 && ((tlb[b + 2] ?? 0) & T_G) === 0) tlb[b] = INVALID_VPN;
    }
  }

  /** Drops the cached translation (global or not) of the page holding `va` in `cr3`. */
  invlpg(cr3: PhysAddr, va: number): void {
    this.#generation++;
    const vpn = va >>> 12;
    const b = ((vpn ^ ((cr3 >>> 12) * 37)) & this.#mask) * STRIDE;
    if (this.#tlb[b] === vpn && this.#tlb[b + 1] === cr3) this.#tlb[b] = INVALID_VPN;
  }

  #walk(cr3: PhysAddr, va: number, write: boolean, user: boolean, b: number): number {
    const mem = this.#mem;
    const tlb = this.#tlb;
    const vpn = va >>> 12;
    // A fault drops any cached translation of this page; success overwrites it.
    if (tlb[b] === vpn && tlb[b + 1] === cr3) {
      tlb[b] = INVALID_VPN;
      this.#generation++;
    }
    const pdeAddr = (((cr3 & PTE_FRAME_MASK) >>> 0) + (va >>> 22) * 4) as PhysAddr;
    const pde = mem.read32(pdeAddr);
    if ((pde & PTE_P) === 0) return FAULT_NOT_PRESENT;

    let frame: number;
    let flags: number;
    if ((pde & PTE_PS) !== 0) {
      if ((user && (pde & PTE_US) === 0) || (write && (pde & PTE_RW) === 0)) {
        return FAULT_PROTECTION;
      }
      const upd = (pde | PTE_A | (write ? PTE_D : 0)) >>> 0;
      if (upd !== pde) mem.write32(pdeAddr, upd);
      frame = ((pde & PDE_4M_FRAME_MASK) >>> 0) + (va & 0x3ff000);
      flags = upd;
    } else {
      const pteAddr = (((pde & PTE_FRAME_MASK) >>> 0) + ((va >>> 12) & 0x3ff) * 4) as PhysAddr;
      const pte = mem.read32(pteAddr);
      if ((pte & PTE_P) === 0) return FAULT_NOT_PRESENT;
      const both = pde & pte;
      if ((user && (both & PTE_US) === 0) || (write && (both & PTE_RW) === 0)) {
        return FAULT_PROTECTION;
      }
      const updPde = (pde | PTE_A) >>> 0;
      if (updPde !== pde) mem.write32(pdeAddr, updPde);
      const updPte = (pte | PTE_A | (write ? PTE_D : 0)) >>> 0;
      if (updPte !== pte) mem.write32(pteAddr, updPte);
      frame = (pte & PTE_FRAME_MASK) >>> 0;
      flags = (updPte & ~PTE_RW & ~PTE_US) | (both & (PTE_RW | PTE_US));
    }

    if (tlb[b] !== INVALID_VPN) this.#generation++; // another page's entry is evicted
    tlb[b] = vpn;
    tlb[b + 1] = cr3;
    tlb[b + 2] =
      frame |
      ((flags & PTE_RW) !== 0 ? T_W : 0) |
      ((flags & PTE_US) !== 0 ? T_U : 0) |
      ((flags & PTE_D) !== 0 ? T_D : 0) |
      ((flags & PTE_G) !== 0 ? T_G : 0);
    return (frame | (va & 0xfff)) >>> 0;
  }
}
