// Tests for the paging MMU and its software TLB.

import { beforeEach, describe, expect, it } from "vitest";
import { type PhysAddr, physAddr } from "../include/types.ts";
import { PhysicalMemory } from "./memory.ts";
import {
  BIG_PAGE_SIZE,
  FAULT_NOT_PRESENT,
  FAULT_PROTECTION,
  I386_VM_DIR_ENTRIES,
  I386_VM_PT_ENTRIES,
  Mmu,
  PDE_4M_FRAME_MASK,
  PTE_A,
  PTE_D,
  PTE_FRAME_MASK,
  PTE_G,
  PTE_P,
  PTE_PS,
  PTE_RW,
  PTE_US,
  isFault,
  pageOffset,
} from "./mmu.ts";

const PD = physAddr(0x1000);
const PT = physAddr(0x2000);
const PD2 = physAddr(0x3000);
const PT2 = physAddr(0x4000);
const URW = PTE_P | PTE_RW | PTE_US;

let mem: PhysicalMemory;
let mmu: Mmu;

function pdeAddr(cr3: PhysAddr, va: number): PhysAddr {
  return physAddr(cr3 + (va >>> 22) * 4);
}
function pteAddr(pt: PhysAddr, va: number): PhysAddr {
  return physAddr(pt + ((va >>> 12) & 1023) * 4);
}
function setPde(cr3: PhysAddr, va: number, v: number): void {
  mem.write32(pdeAddr(cr3, va), v);
}
function setPte(pt: PhysAddr, va: number, v: number): void {
  mem.write32(pteAddr(pt, va), v);
}
function pde(cr3: PhysAddr, va: number): number {
  return mem.read32(pdeAddr(cr3, va));
}
function pte(pt: PhysAddr, va: number): number {
  return mem.read32(pteAddr(pt, va));
}
/** Maps the 4 KiB page at `va` to `frame` with `flags` through the table `pt` (PDE gets URW). */
function map4k(cr3: PhysAddr, pt: PhysAddr, va: number, frame: number, flags: number): void {
  setPde(cr3, va, pt | URW);
  setPte(pt, va, frame | flags);
}

beforeEach(() => {
  mem = new PhysicalMemory(64 * 4096);
  mmu = new Mmu(mem);
});

describe("constants and helpers", () => {
  it("match i386", () => {
    expect([PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_PS, PTE_G]).toEqual([
      1, 2, 4, 0x20, 0x40, 0x80, 0x100,
    ]);
    expect(PTE_FRAME_MASK).toBe(0xfffff000);
    expect(PDE_4M_FRAME_MASK).toBe(0xffc00000);
    expect(I386_VM_DIR_ENTRIES * I386_VM_PT_ENTRIES * 4096).toBe(2 ** 32);
    expect(BIG_PAGE_SIZE).toBe(4 * 1024 * 1024);
    expect(pageOffset(0xfffff123)).toBe(0x123);
    expect(isFault(FAULT_NOT_PRESENT)).toBe(true);
    expect(isFault(FAULT_PROTECTION)).toBe(true);
    expect(isFault(0)).toBe(false);
    expect(isFault(0xffffffff)).toBe(false);
  });

  it("validates the TLB size", () => {
    expect(() => new Mmu(mem, { tlbEntries: 3 })).toThrow(RangeError);
    expect(() => new Mmu(mem, { tlbEntries: 0 })).toThrow(RangeError);
    expect(() => new Mmu(mem, { tlbEntries: 64 })).not.toThrow();
  });
});

describe("page walk", () => {
  it("translates 4 KiB pages and sets A, then D on write", () => {
    const va = 0x00405abc;
    map4k(PD, PT, va, 0x7000, URW);
    expect(mmu.translate(PD, va, false, true)).toBe(0x7abc);
    expect(pde(PD, va) & PTE_A).toBe(PTE_A);
    expect(pte(PT, va) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(mmu.translate(PD, va + 4, true, true)).toBe(0x7ac0);
    expect(pte(PT, va) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(pde(PD, va) & PTE_D).toBe(0);
    // Frame and other bits are preserved by the write-back.
    expect(pte(PT, va)).toBe(0x7000 | URW | PTE_A | PTE_D);
  });

  it("translates 4 MiB pages and sets A/D on the PDE", () => {
    const va = 0x00c12345;
    setPde(PD, va, 0x01800000 | PTE_PS | PTE_P | PTE_RW);
    expect(mmu.translate(PD, va, false, false)).toBe(0x01812345);
    expect(pde(PD, va) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(mmu.translate(PD, 0x00ffffff, true, false)).toBe(0x01bfffff);
    expect(pde(PD, va) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(mmu.translate(PD, va, false, true)).toBe(FAULT_PROTECTION);
  });

  it("reports not-present at both levels without touching A bits", () => {
    expect(mmu.translate(PD, 0x1000, false, false)).toBe(FAULT_NOT_PRESENT);
    setPde(PD, 0x1000, PT | URW);
    expect(mmu.translate(PD, 0x1000, false, false)).toBe(FAULT_NOT_PRESENT);
    expect(pde(PD, 0x1000) & PTE_A).toBe(0);
    setPte(PT, 0x1000, 0x9000 | PTE_RW | PTE_US); // everything but P
    expect(mmu.translate(PD, 0x1000, true, true)).toBe(FAULT_NOT_PRESENT);
    expect(pte(PT, 0x1000) & PTE_A).toBe(0);
  });

  it("requires US at both levels for user access", () => {
    map4k(PD, PT, 0x1000, 0x9000, PTE_P | PTE_RW);
    expect(mmu.translate(PD, 0x1000, false, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(PD, 0x1000, true, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(PD, 0x1000, true, false)).toBe(0x9000);

    setPde(PD, 0x00400000, PT2 | PTE_P | PTE_RW);
    setPte(PT2, 0x00400000, 0xa000 | URW);
    expect(mmu.translate(PD, 0x00400000, false, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(PD, 0x00400000, false, false)).toBe(0xa000);
  });

  it("requires RW at both levels for any write (CR0.WP=1)", () => {
    map4k(PD, PT, 0x1000, 0x9000, PTE_P | PTE_US);
    expect(mmu.translate(PD, 0x1000, false, true)).toBe(0x9000);
    expect(mmu.translate(PD, 0x1000, true, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(PD, 0x1000, true, false)).toBe(FAULT_PROTECTION);
    expect(pte(PT, 0x1000) & PTE_D).toBe(0);

    setPde(PD, 0x00400000, PT2 | PTE_P | PTE_US);
    setPte(PT2, 0x00400000, 0xa000 | URW);
    expect(mmu.translate(PD, 0x00400000, true, false)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(PD, 0x00400000, false, true)).toBe(0xa000);
  });

  it("handles addresses at the top of the 32-bit space", () => {
    const pt = physAddr(0x8000);
    map4k(PD, pt, 0xfffff000, 0xfffff000, URW);
    expect(mmu.translate(PD, 0xffffffff, true, true)).toBe(0xffffffff);
    expect(mmu.translate(PD, -1, false, true)).toBe(0xffffffff);
    expect(pte(pt, 0xfffff000)).toBe((0xfffff000 | URW | PTE_A | PTE_D) >>> 0);
    expect(mmu.translate(PD, 0xffffe000, false, true)).toBe(FAULT_NOT_PRESENT);

    setPde(PD2, 0xffc00000, (0xffc00000 | PTE_PS | URW) >>> 0);
    expect(mmu.translate(PD2, 0xfffffffe, false, true)).toBe(0xfffffffe);
    expect(mmu.translate(PD2, 0xffc00000, true, true)).toBe(0xffc00000);
    expect(pde(PD2, 0xffc00000)).toBe((0xffc00000 | PTE_PS | URW | PTE_A | PTE_D) >>> 0);
  });

  it("throws RangeError for page tables outside physical memory", () => {
    setPde(PD, 0, 0x10000000 | URW);
    expect(() => mmu.translate(PD, 0, false, false)).toThrow(RangeError);
  });
});

describe("TLB", () => {
  it("keeps using a stale entry until invlpg or a flush", () => {
    map4k(PD, PT, 0x5000, 0x7000, URW);
    expect(mmu.translate(PD, 0x5010, false, true)).toBe(0x7010);
    setPte(PT, 0x5000, 0x8000 | URW);
    expect(mmu.translate(PD, 0x5010, false, true)).toBe(0x7010);
    mmu.invlpg(PD, 0x5fff);
    expect(mmu.translate(PD, 0x5010, false, true)).toBe(0x8010);

    setPte(PT, 0x5000, 0x9000 | URW);
    expect(mmu.translate(PD, 0x5010, false, true)).toBe(0x8010);
    mmu.flushTlb(PD);
    expect(mmu.translate(PD, 0x5010, false, true)).toBe(0x9010);

    setPte(PT, 0x5000, 0);
    expect(mmu.translate(PD, 0x5010, false, true)).toBe(0x9010);
    mmu.flushTlb();
    expect(mmu.translate(PD, 0x5010, false, true)).toBe(FAULT_NOT_PRESENT);
  });

  it("does not re-set A on a hit (hardware only sets it on a walk)", () => {
    map4k(PD, PT, 0x5000, 0x7000, URW);
    mmu.translate(PD, 0x5000, false, false);
    setPte(PT, 0x5000, 0x7000 | URW);
    mmu.translate(PD, 0x5000, false, false);
    expect(pte(PT, 0x5000) & PTE_A).toBe(0);
  });

  it("keeps stale permissions until flushed", () => {
    map4k(PD, PT, 0x5000, 0x7000, URW);
    expect(mmu.translate(PD, 0x5000, true, true)).toBe(0x7000);
    setPte(PT, 0x5000, 0x7000 | PTE_P | PTE_US); // now read-only
    expect(mmu.translate(PD, 0x5000, true, true)).toBe(0x7000);
    mmu.invlpg(PD, 0x5000);
    expect(mmu.translate(PD, 0x5000, true, true)).toBe(FAULT_PROTECTION);
  });

  it("checks permissions on a hit", () => {
    map4k(PD, PT, 0x5000, 0x7000, PTE_P); // supervisor, read-only
    expect(mmu.translate(PD, 0x5000, false, false)).toBe(0x7000);
    expect(mmu.translate(PD, 0x5000, false, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(PD, 0x5000, true, false)).toBe(FAULT_PROTECTION);
  });

  it("drops the cached entry on a fault so a fixed table is seen on retry", () => {
    map4k(PD, PT, 0x5000, 0x7000, PTE_P | PTE_US);
    expect(mmu.translate(PD, 0x5000, false, true)).toBe(0x7000);
    setPte(PT, 0x5000, 0x7000 | URW); // made writable, no flush
    expect(mmu.translate(PD, 0x5000, true, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(PD, 0x5000, true, true)).toBe(0x7000);
  });

  it("re-walks a write that hits an entry cached without D, setting D", () => {
    map4k(PD, PT, 0x5000, 0x7000, URW);
    expect(mmu.translate(PD, 0x5000, false, true)).toBe(0x7000);
    expect(pte(PT, 0x5000) & PTE_D).toBe(0);
    expect(mmu.translate(PD, 0x5004, true, true)).toBe(0x7004);
    expect(pte(PT, 0x5000) & PTE_D).toBe(PTE_D);
    // Now cached with D: a further write is a pure hit (D cleared in memory stays clear).
    setPte(PT, 0x5000, 0x7000 | URW | PTE_A);
    expect(mmu.translate(PD, 0x5008, true, true)).toBe(0x7008);
    expect(pte(PT, 0x5000) & PTE_D).toBe(0);
  });

  it("changes its generation whenever a cached translation may change, and only then", () => {
    map4k(PD, PT, 0x5000, 0x7000, PTE_P | PTE_US);
    const gens: number[] = [];
    const step = (f: () => unknown): void => {
      const g = mmu.generation;
      f();
      gens.push(mmu.generation - g);
    };
    step(() => mmu.translate(PD, 0x5000, false, true)); // walk into an empty entry
    step(() => mmu.translate(PD, 0x5004, false, true)); // hit
    step(() => mmu.translate(PD, 0x5000, true, true)); // fault from a cached entry
    step(() => mmu.translate(PD, 0x5000, false, true)); // walk into the dropped entry
    step(() => mmu.translate(PD, 0x6000, false, true)); // not present: nothing cached
    step(() => mmu.invlpg(PD, 0x5000));
    step(() => mmu.flushTlb(PD));
    step(() => mmu.flushTlb());
    expect(gens.map((d) => d > 0)).toEqual([false, false, true, false, false, true, true, true]);
    // A page's walk re-walked for D drops its entry; a conflicting page evicts it.
    const tiny = new Mmu(mem, { tlbEntries: 1 });
    map4k(PD, PT, 0x5000, 0x7000, URW);
    map4k(PD, PT, 0x6000, 0x8000, URW);
    const g0 = tiny.generation;
    tiny.translate(PD, 0x5000, false, true);
    const g1 = tiny.generation;
    tiny.translate(PD, 0x5000, true, true);
    const g2 = tiny.generation;
    tiny.translate(PD, 0x6000, false, true);
    expect([g1 === g0, g2 > g1, tiny.generation > g2]).toEqual([true, true, true]);
  });

  it("keeps address spaces apart", () => {
    map4k(PD, PT, 0x5000, 0x7000, URW);
    map4k(PD2, PT2, 0x5000, 0x8000, URW);
    expect(mmu.translate(PD, 0x5001, false, true)).toBe(0x7001);
    expect(mmu.translate(PD2, 0x5001, false, true)).toBe(0x8001);
    setPte(PT, 0x5000, 0xa000 | URW);
    setPte(PT2, 0x5000, 0xb000 | URW);
    mmu.flushTlb(PD2);
    expect(mmu.translate(PD, 0x5001, false, true)).toBe(0x7001);
    expect(mmu.translate(PD2, 0x5001, false, true)).toBe(0xb001);
    mmu.invlpg(PD2, 0x5000);
    expect(mmu.translate(PD, 0x5001, false, true)).toBe(0x7001);
  });

  it("keeps global entries across a per-space flush but not a full flush", () => {
    map4k(PD, PT, 0x5000, 0x7000, URW | PTE_G);
    map4k(PD, PT, 0x6000, 0x7000, URW);
    expect(mmu.translate(PD, 0x5000, false, false)).toBe(0x7000);
    expect(mmu.translate(PD, 0x6000, false, false)).toBe(0x7000);
    setPte(PT, 0x5000, 0x8000 | URW | PTE_G);
    setPte(PT, 0x6000, 0x8000 | URW);
    mmu.flushTlb(PD);
    expect(mmu.translate(PD, 0x5000, false, false)).toBe(0x7000);
    expect(mmu.translate(PD, 0x6000, false, false)).toBe(0x8000);
    mmu.flushTlb();
    expect(mmu.translate(PD, 0x5000, false, false)).toBe(0x8000);

    setPte(PT, 0x5000, 0x9000 | URW | PTE_G);
    mmu.invlpg(PD, 0x5000);
    expect(mmu.translate(PD, 0x5000, false, false)).toBe(0x9000);
  });

  it("caches 4 MiB pages per 4 KiB page", () => {
    setPde(PD, 0x00400000, 0x00800000 | PTE_PS | URW);
    expect(mmu.translate(PD, 0x00401000, false, true)).toBe(0x00801000);
    setPde(PD, 0x00400000, 0x00c00000 | PTE_PS | URW);
    expect(mmu.translate(PD, 0x00401000, false, true)).toBe(0x00801000);
    expect(mmu.translate(PD, 0x00402000, false, true)).toBe(0x00c02000);
    mmu.invlpg(PD, 0x00401000);
    expect(mmu.translate(PD, 0x00401000, false, true)).toBe(0x00c01000);
  });

  it("stays correct when entries conflict in a tiny TLB", () => {
    const small = new Mmu(mem, { tlbEntries: 1 });
    map4k(PD, PT, 0x5000, 0x7000, URW);
    map4k(PD, PT, 0x6000, 0x8000, PTE_P);
    map4k(PD2, PT2, 0x5000, 0x9000, URW);
    for (let i = 0; i < 3; i++) {
      expect(small.translate(PD, 0x5123, true, true)).toBe(0x7123);
      expect(small.translate(PD, 0x6123, false, false)).toBe(0x8123);
      expect(small.translate(PD, 0x6123, false, true)).toBe(FAULT_PROTECTION);
      expect(small.translate(PD2, 0x5123, false, true)).toBe(0x9123);
    }
  });
});
