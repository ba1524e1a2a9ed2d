// VM's page-table editor (src/servers/vm/pagetable.ts) against the simulated MMU: tables
// built by PageTable over real PhysicalMemory must translate exactly as lookup() says.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PhysicalMemory } from "../src/hw/memory.ts";
import {
  FAULT_NOT_PRESENT,
  FAULT_PROTECTION,
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
} from "../src/hw/mmu.ts";
import { ENOMEM, OK } from "../src/include/errno.ts";
import { physAddr } from "../src/include/types.ts";
import * as vmpt from "../src/include/vmpt.ts";
import { PageTable, type FrameSource, type PhysAccess } from "../src/servers/vm/pagetable.ts";

const PAGE = 4096;
const BIG = 4 * 1024 * 1024;
const W = vmpt.I386_VM_WRITE;
const U = vmpt.I386_VM_USER;

function machine(frames: number): { mem: PhysicalMemory; pt: PageTable; mmu: Mmu } {
  const mem = new PhysicalMemory(frames * PAGE);
  const access: PhysAccess = {
    read32: (pa) => mem.read32(physAddr(pa)),
    write32: (pa, v) => mem.write32(physAddr(pa), v),
    zero: (pa, len) => mem.fill(physAddr(pa), len, 0),
  };
  let next = 0;
  const free: number[] = [];
  const frameSource: FrameSource = {
    allocFrame: () => free.pop() ?? (next < frames ? next++ * PAGE : -1),
    freeFrame: (pa) => free.push(pa),
  };
  const pt = PageTable.create(access, frameSource);
  if (pt === ENOMEM) throw new Error("no memory");
  return { mem, pt, mmu: new Mmu(mem) };
}

function expected(pt: PageTable, va: number, write: boolean, user: boolean): number {
  const l = pt.lookup(va);
  if (l === undefined) return FAULT_NOT_PRESENT;
  if ((user && (l.flags & U) === 0) || (write && (l.flags & W) === 0)) return FAULT_PROTECTION;
  return l.phys;
}

describe("PageTable ↔ Mmu", () => {
  test("src/include/vmpt.ts duplicates the MMU's entry layout", () => {
    expect(vmpt.I386_VM_PRESENT).toBe(PTE_P);
    expect(vmpt.I386_VM_WRITE).toBe(PTE_RW);
    expect(vmpt.I386_VM_USER).toBe(PTE_US);
    expect(vmpt.I386_VM_ACC).toBe(PTE_A);
    expect(vmpt.I386_VM_DIRTY).toBe(PTE_D);
    expect(vmpt.I386_VM_BIGPAGE).toBe(PTE_PS);
    expect(vmpt.I386_VM_GLOBAL).toBe(PTE_G);
    expect(vmpt.I386_VM_ADDR_MASK).toBe(PTE_FRAME_MASK);
    expect(vmpt.I386_VM_ADDR_MASK_4MB).toBe(PDE_4M_FRAME_MASK);
  });

  test("read-only, supervisor-only, unmapped and big pages; the MMU's A/D bits", () => {
    const { pt, mmu } = machine(16);
    expect(pt.writeMap(0x1000, 0x50_0000, PAGE, W | U)).toBe(OK);
    expect(pt.writeMap(0x2000, 0x60_0000, PAGE, U)).toBe(OK);
    expect(pt.writeMap(0x3000, 0x70_0000, PAGE, W)).toBe(OK);
    expect(pt.mapBig(0xc000_0000, 0x400_0000, W | vmpt.I386_VM_GLOBAL)).toBe(OK);
    const root = physAddr(pt.root);
    expect(mmu.translate(root, 0x1234, true, true)).toBe(0x50_0234);
    expect(pt.lookup(0x1000)?.flags).toBe(vmpt.I386_VM_PRESENT | W | U | PTE_A | PTE_D);
    expect(mmu.translate(root, 0x2000, false, true)).toBe(0x60_0000);
    expect(mmu.translate(root, 0x2000, true, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(root, 0x3000, false, true)).toBe(FAULT_PROTECTION);
    expect(mmu.translate(root, 0x3000, true, false)).toBe(0x70_0000);
    expect(mmu.translate(root, 0x4000, false, false)).toBe(FAULT_NOT_PRESENT);
    expect(mmu.translate(root, 0x40_0000, false, false)).toBe(FAULT_NOT_PRESENT);
    expect(mmu.translate(root, 0xc012_3456, true, false)).toBe(0x412_3456);
    expect(mmu.translate(root, 0xc012_3456, false, true)).toBe(FAULT_PROTECTION);

    // COW-style protection change becomes visible after a TLB flush.
    expect(pt.setFlags(0x1000, U)).toBe(OK);
    mmu.flushTlb();
    expect(mmu.translate(root, 0x1000, true, true)).toBe(FAULT_PROTECTION);
    expect(pt.unmap(0x1000, PAGE)).toBe(OK);
    mmu.flushTlb();
    expect(mmu.translate(root, 0x1000, false, true)).toBe(FAULT_NOT_PRESENT);
  });

  test("property: translate agrees with lookup for random mappings", () => {
    type Edit =
      | { kind: "map"; page: number; frame: number; n: number; flags: number }
      | { kind: "big"; pde: number; frame: number; flags: number }
      | { kind: "unmap"; page: number; n: number }
      | { kind: "prot"; page: number; flags: number };
    // Pages near a few 4 MiB boundaries, so probes hit several tables and big pages.
    const page = fc.oneof(
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 1010, max: 1040 }),
      fc.integer({ min: 0xfffff - 30, max: 0xfffff }),
    );
    const flags = fc.constantFrom(0, W, U, W | U, W | U | vmpt.I386_VM_GLOBAL);
    const edit: fc.Arbitrary<Edit> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant("map" as const),
          page,
          frame: fc.integer({ min: 0, max: 0xfffff }),
          n: fc.integer({ min: 1, max: 20 }),
          flags,
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("big" as const),
          pde: fc.constantFrom(0, 1, 2, 1023),
          frame: fc.integer({ min: 0, max: 1023 }),
          flags,
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant("unmap" as const),
          page,
          n: fc.integer({ min: 1, max: 20 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("prot" as const), page, flags }) },
    );
    const probe = fc.record({
      va: fc.oneof(
        fc.integer({ min: 0, max: 32 * PAGE }),
        fc.integer({ min: 1000 * PAGE, max: 1050 * PAGE }),
        fc.integer({ min: 0xfffe0000, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
      ),
      write: fc.boolean(),
      user: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(edit, fc.array(probe, { maxLength: 8 })), { maxLength: 12 }),
        (steps) => {
          const { pt, mmu } = machine(16);
          const root = physAddr(pt.root);
          for (const [e, probes] of steps) {
            if (e.kind === "map") {
              const n = Math.min(e.n, 0x100000 - e.page, 0x100000 - e.frame);
              pt.writeMap(e.page * PAGE, e.frame * PAGE, n * PAGE, e.flags, { overwrite: true });
            } else if (e.kind === "big") {
              pt.mapBig(e.pde * BIG, e.frame * BIG, e.flags, { overwrite: true });
            } else if (e.kind === "unmap") {
              pt.unmap(e.page * PAGE, Math.min(e.n, 0x100000 - e.page) * PAGE);
            } else {
              pt.setFlags(e.page * PAGE, e.flags);
            }
            mmu.flushTlb();
            for (const p of probes) {
              const want = expected(pt, p.va, p.write, p.user);
              expect(mmu.translate(root, p.va, p.write, p.user)).toBe(want);
              // Twice: the second answer comes from the TLB.
              expect(mmu.translate(root, p.va, p.write, p.user)).toBe(want);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
