import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EEXIST, EFAULT, EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import {
  I386_BIG_PAGE_SIZE,
  I386_VM_ACC,
  I386_VM_BIGPAGE,
  I386_VM_DIRTY,
  I386_VM_GLOBAL,
  I386_VM_PRESENT,
  I386_VM_USER,
  I386_VM_WRITE,
} from "../../include/vmpt.ts";
import { FakeFrames, FakePhysMemory } from "./fake_memory.ts";
import { PageTable, type FrameSource } from "./pagetable.ts";

const PAGE = 4096;
const P = I386_VM_PRESENT;
const W = I386_VM_WRITE;
const U = I386_VM_USER;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function setup(frames = 64): { mem: FakePhysMemory; fr: FakeFrames; pt: PageTable } {
  const mem = new FakePhysMemory(frames * PAGE, 0xa5); // garbage: tables must be zeroed on allocation
  const fr = new FakeFrames(0, frames);
  const pt = PageTable.create(mem, fr);
  if (pt === ENOMEM) throw new Error("no memory");
  return { mem, fr, pt };
}

describe("PageTable", () => {
  test("create allocates a zeroed directory; ENOMEM without memory", () => {
    const { mem, fr, pt } = setup();
    expect(fr.live).toEqual(new Set([pt.root]));
    expect(mem.bytes.subarray(pt.root, pt.root + PAGE).every((b) => b === 0)).toBe(true);
    const none = new FakeFrames(0, 0);
    expect(PageTable.create(mem, none)).toBe(ENOMEM);
  });

  test("writeMap, lookup, mappings", () => {
    const { fr, pt } = setup();
    expect(pt.writeMap(0x1000, 0x7000_0000, 3 * PAGE, W | U)).toBe(OK);
    expect(fr.live.size).toBe(2); // directory + one page table
    expect(pt.lookup(0x1000)).toEqual({ phys: 0x7000_0000, flags: P | W | U });
    expect(pt.lookup(0x2abc)).toEqual({ phys: 0x7000_1abc, flags: P | W | U });
    expect(pt.lookup(0x0fff)).toBeUndefined();
    expect(pt.lookup(0x4000)).toBeUndefined();
    expect(pt.lookup(0x8000_0000)).toBeUndefined();
    expect(pt.lookup(-1)).toBeUndefined();
    expect(pt.lookup(2 ** 32)).toBeUndefined();
    expect(pt.lookup(1.5)).toBeUndefined();
    expect([...pt.mappings()]).toEqual([
      { vaddr: 0x1000, phys: 0x7000_0000, flags: P | W | U },
      { vaddr: 0x2000, phys: 0x7000_1000, flags: P | W | U },
      { vaddr: 0x3000, phys: 0x7000_2000, flags: P | W | U },
    ]);
  });

  test("a mapping across a 4 MiB boundary allocates two page tables", () => {
    const { fr, pt } = setup();
    expect(pt.writeMap(0x3f_f000, 0x10_0000, 2 * PAGE, U)).toBe(OK);
    expect(fr.live.size).toBe(3);
    expect(pt.tableFrames()).toHaveLength(3);
    expect(pt.lookup(0x3f_f000)?.phys).toBe(0x10_0000);
    expect(pt.lookup(0x40_0000)?.phys).toBe(0x10_1000);
  });

  test("the top of the address space is mappable", () => {
    const { pt } = setup();
    expect(pt.writeMap(0xffff_f000, 0xffff_f000, PAGE, W)).toBe(OK);
    expect(pt.lookup(0xffff_ffff)).toEqual({ phys: 0xffff_ffff, flags: P | W });
    expect([...pt.mappings()]).toEqual([{ vaddr: 0xffff_f000, phys: 0xffff_f000, flags: P | W }]);
  });

  test("bad arguments give EINVAL and change nothing", () => {
    const { mem, pt } = setup();
    const before = mem.bytes.slice();
    const bad: [number, number, number, number][] = [
      [0x1001, 0, PAGE, 0],
      [0x1000, 0x10, PAGE, 0],
      [0x1000, 0, 0, 0],
      [0x1000, 0, 100, 0],
      [0x1000, 0, -PAGE, 0],
      [0xffff_f000, 0, 2 * PAGE, 0],
      [0x1000, 0xffff_f000, 2 * PAGE, 0],
      [-PAGE, 0, PAGE, 0],
      [2 ** 32, 0, PAGE, 0],
      [NaN, 0, PAGE, 0],
      [0x1000, 0, PAGE, I386_VM_BIGPAGE],
      [0x1000, 0, PAGE, 0x200],
      [0x1000, 0, PAGE, -1],
      [0x1000, 0, PAGE, 0.5],
    ];
    for (const [v, p, l, f] of bad) expect(pt.writeMap(v, p, l, f)).toBe(EINVAL);
    expect(pt.unmap(0x1001, PAGE)).toBe(EINVAL);
    expect(pt.unmap(0x1000, 0)).toBe(EINVAL);
    expect(pt.setFlags(0x1001, 0)).toBe(EINVAL);
    expect(pt.setFlags(0x1000, 0x1000)).toBe(EINVAL);
    expect(pt.mapBig(0x1000, 0, 0)).toBe(EINVAL);
    expect(pt.mapBig(0, 0x1000, 0)).toBe(EINVAL);
    expect(sameBytes(mem.bytes, before)).toBe(true);
  });

  test("present entries need overwrite; without it nothing is written", () => {
    const { mem, pt } = setup();
    expect(pt.writeMap(0x5000, 0x9000, PAGE, W)).toBe(OK);
    const before = mem.bytes.slice();
    // Range 0x3000..0x6000 hits the present page at 0x5000 last.
    expect(pt.writeMap(0x3000, 0x20000, 3 * PAGE, W)).toBe(EEXIST);
    expect(sameBytes(mem.bytes, before)).toBe(true);
    expect(pt.writeMap(0x3000, 0x20000, 3 * PAGE, 0, { overwrite: true })).toBe(OK);
    expect(pt.lookup(0x5000)).toEqual({ phys: 0x22000, flags: P });
  });

  test("one page (the page-fault path): same checks and results as a longer range", () => {
    const { mem, fr, pt } = setup();
    fr.budget = 0; // the page needs a table and none can be allocated
    let before = mem.bytes.slice();
    expect(pt.writeMap(0x40_1000, 0x9000, PAGE, W)).toBe(ENOMEM);
    expect(sameBytes(mem.bytes, before)).toBe(true);
    fr.budget = Infinity;
    expect(pt.writeMap(0x40_1000, 0x9000, PAGE, W | U)).toBe(OK);
    expect(pt.tableFrames()).toHaveLength(2);
    expect(pt.lookup(0x40_1000)).toEqual({ phys: 0x9000, flags: P | W | U });
    before = mem.bytes.slice();
    expect(pt.writeMap(0x40_1000, 0xa000, PAGE, W)).toBe(EEXIST);
    expect(sameBytes(mem.bytes, before)).toBe(true);
    expect(pt.writeMap(0x40_1000, 0xa000, PAGE, U, { overwrite: true })).toBe(OK);
    expect(pt.lookup(0x40_1000)).toEqual({ phys: 0xa000, flags: P | U });
    expect(pt.writeMap(0x40_2000, 0xb000, PAGE, 0)).toBe(OK); // same table, next entry
    expect(pt.tableFrames()).toHaveLength(2);
    expect(pt.mapBig(0x80_0000, 0, W)).toBe(OK);
    expect(pt.writeMap(0x80_1000, 0xc000, PAGE, W, { overwrite: true })).toBe(EEXIST);
  });

  test("ENOMEM leaves memory and the allocator untouched", () => {
    const { mem, fr, pt } = setup();
    expect(pt.writeMap(0x40_0000, 0, PAGE, 0)).toBe(OK); // table for PDE 1 exists
    const before = mem.bytes.slice();
    const live = new Set(fr.live);
    fr.budget = 1; // PDEs 0 and 2 both need a table: the second allocation fails
    expect(pt.writeMap(0x3f_f000, 0, 0x40_2000, W, { overwrite: true })).toBe(ENOMEM);
    expect(sameBytes(mem.bytes, before)).toBe(true);
    expect(fr.live).toEqual(live);
    fr.budget = Infinity;
    expect(pt.writeMap(0x3f_f000, 0, 0x40_2000, W, { overwrite: true })).toBe(OK);
  });

  test("unmap clears entries, skips holes, keeps page tables", () => {
    const { fr, pt } = setup();
    expect(pt.writeMap(0x1000, 0x10000, 4 * PAGE, W)).toBe(OK);
    const live = fr.live.size;
    expect(pt.unmap(0x2000, 2 * PAGE)).toBe(OK);
    expect(pt.unmap(0x100_0000, 8 * PAGE)).toBe(OK); // nothing there
    expect([...pt.mappings()].map((m) => m.vaddr)).toEqual([0x1000, 0x4000]);
    expect(fr.live.size).toBe(live);
  });

  test("setFlags changes protection and keeps the frame", () => {
    const { pt } = setup();
    expect(pt.writeMap(0x1000, 0x10000, PAGE, W | U | I386_VM_DIRTY)).toBe(OK);
    expect(pt.setFlags(0x1000, U)).toBe(OK);
    expect(pt.lookup(0x1000)).toEqual({ phys: 0x10000, flags: P | U });
    expect(pt.setFlags(0x2000, U)).toBe(EFAULT); // page table exists, entry absent
    expect(pt.setFlags(0x80_0000, U)).toBe(EFAULT); // no page table
  });

  test("4 MiB pages: mapBig, lookup, conflicts, unmap", () => {
    const { fr, pt } = setup();
    const G = I386_VM_GLOBAL;
    expect(pt.mapBig(0, 0, W | G)).toBe(OK);
    expect(pt.lookup(0x12_3456)).toEqual({ phys: 0x12_3456, flags: P | W | G | I386_VM_BIGPAGE });
    expect([...pt.bigMappings()]).toEqual([{ vaddr: 0, phys: 0, flags: P | W | G | 0x80 }]);
    expect([...pt.mappings()]).toEqual([]);
    expect(pt.mapBig(0, I386_BIG_PAGE_SIZE, W)).toBe(EEXIST);
    expect(pt.writeMap(0x3f_f000, 0, 2 * PAGE, W, { overwrite: true })).toBe(EEXIST);
    expect(pt.setFlags(0x1000, W)).toBe(EINVAL);
    expect(pt.unmap(0x1000, PAGE)).toBe(EINVAL); // would cut the big page
    expect(pt.lookup(0x1000)).toBeDefined();
    expect(pt.unmap(0, 2 * I386_BIG_PAGE_SIZE)).toBe(OK);
    expect(pt.lookup(0x1000)).toBeUndefined();

    // Replacing a page table by a big page frees the table.
    expect(pt.writeMap(0x80_0000, 0x1000, PAGE, W)).toBe(OK);
    expect(fr.live.size).toBe(2);
    expect(pt.mapBig(0x80_0000, 0xffc0_0000, W, { overwrite: true })).toBe(OK);
    expect(fr.live.size).toBe(1);
    expect(pt.lookup(0x80_0010)?.phys).toBe(0xffc0_0010);
  });

  test("destroy frees exactly the table frames, then the object is dead", () => {
    const { fr, pt } = setup();
    expect(pt.writeMap(0, 0x1000, 3 * I386_BIG_PAGE_SIZE, W)).toBe(OK);
    expect(pt.mapBig(0x4000_0000, 0, 0)).toBe(OK);
    expect(fr.live.size).toBe(4);
    pt.destroy();
    expect(fr.live.size).toBe(0);
    expect(pt.destroyed).toBe(true);
    expect(() => pt.lookup(0)).toThrow(/after destroy/);
  });

  test("a misbehaving allocator is a bug (throws)", () => {
    const mem = new FakePhysMemory(4 * PAGE);
    const bad: FrameSource = { allocFrame: () => 123, freeFrame: () => {} };
    expect(() => PageTable.create(mem, bad)).toThrow(RangeError);
  });

  test("the MMU's ACC/DIRTY bits show in lookup and setFlags drops them", () => {
    const { mem, pt } = setup();
    expect(pt.writeMap(0x1000, 0x10000, PAGE, W)).toBe(OK);
    // Simulate the hardware setting A and D in the PTE.
    const table = [...pt.tableFrames()][1] ?? 0;
    mem.write32(table + 4, mem.read32(table + 4) | I386_VM_ACC | I386_VM_DIRTY);
    expect(pt.lookup(0x1000)?.flags).toBe(P | W | I386_VM_ACC | I386_VM_DIRTY);
    expect(pt.setFlags(0x1000, 0)).toBe(OK);
    expect(pt.lookup(0x1000)?.flags).toBe(P);
  });

  test("property: PageTable agrees with a model map", () => {
    type Op =
      | { kind: "map"; page: number; frame: number; n: number; flags: number; ow: boolean }
      | { kind: "unmap"; page: number; n: number }
      | { kind: "prot"; page: number; flags: number };
    // Pages drawn from a few spots around 4 MiB boundaries to exercise several tables.
    const page = fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 1000, max: 1100 }),
      fc.integer({ min: 0xfffff - 40, max: 0xfffff }),
    );
    const flags = fc.constantFrom(0, W, U, W | U, W | U | I386_VM_GLOBAL);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant("map" as const),
        page,
        frame: fc.integer({ min: 0, max: 0xfff00 }),
        n: fc.integer({ min: 1, max: 40 }),
        flags,
        ow: fc.boolean(),
      }),
      fc.record({ kind: fc.constant("unmap" as const), page, n: fc.integer({ min: 1, max: 60 }) }),
      fc.record({ kind: fc.constant("prot" as const), page, flags }),
    );
    fc.assert(
      // With 2..5 frames some runs exhaust memory for page tables (3 tables suffice).
      fc.property(fc.integer({ min: 2, max: 5 }), fc.array(op, { maxLength: 30 }), (nf, ops) => {
        const { mem, fr, pt } = setup(nf);
        const model = new Map<number, { phys: number; flags: number }>();
        for (const o of ops) {
          const before = mem.bytes.slice();
          if (o.kind === "map") {
            const n = Math.min(o.n, 0x100000 - o.page);
            const r = pt.writeMap(o.page * PAGE, o.frame * PAGE, n * PAGE, o.flags, {
              overwrite: o.ow,
            });
            let clash = false;
            for (let i = 0; i < n; i++) if (model.has(o.page + i)) clash = true;
            if (clash && !o.ow) {
              expect(r).toBe(EEXIST);
            } else if (r === ENOMEM) {
              expect(sameBytes(mem.bytes, before)).toBe(true);
              continue;
            } else {
              expect(r).toBe(OK);
              for (let i = 0; i < n; i++) {
                model.set(o.page + i, { phys: (o.frame + i) * PAGE, flags: o.flags | P });
              }
            }
            if (r !== OK) expect(sameBytes(mem.bytes, before)).toBe(true);
          } else if (o.kind === "unmap") {
            const n = Math.min(o.n, 0x100000 - o.page);
            expect(pt.unmap(o.page * PAGE, n * PAGE)).toBe(OK);
            for (let i = 0; i < n; i++) model.delete(o.page + i);
          } else {
            const m = model.get(o.page);
            expect(pt.setFlags(o.page * PAGE, o.flags)).toBe(m === undefined ? EFAULT : OK);
            if (m !== undefined) model.set(o.page, { phys: m.phys, flags: o.flags | P });
          }
        }
        const expected = [...model.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([pg, m]) => ({ vaddr: pg * PAGE, phys: m.phys, flags: m.flags }));
        expect([...pt.mappings()]).toEqual(expected);
        for (const [pg, m] of model) expect(pt.lookup(pg * PAGE + 7)?.phys).toBe(m.phys + 7);
        pt.destroy();
        expect(fr.live.size).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
