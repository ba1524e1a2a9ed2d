import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import {
  RegionSet,
  VR_ANON,
  VR_DIRECT,
  VR_SHARED,
  VR_WRITABLE,
  type Region,
  type RegionTag,
} from "./region.ts";

const PAGE = 4096;
const RW = VR_ANON | VR_WRITABLE;

function region(start: number, length: number, tag: RegionTag = "mmap", flags = RW): Region {
  return { start, length, flags, tag };
}

function set(...rs: Region[]): RegionSet {
  const s = new RegionSet();
  for (const r of rs) expect(s.add(r)).toBe(OK);
  return s;
}

function spans(s: RegionSet): [number, number, string][] {
  return s.regions().map((r) => [r.start, r.length, r.tag]);
}

describe("RegionSet", () => {
  test("add keeps regions sorted; find and at", () => {
    const s = set(region(0x10000, 2 * PAGE, "data"), region(0x1000, PAGE, "text"));
    expect(spans(s)).toEqual([
      [0x1000, PAGE, "text"],
      [0x10000, 2 * PAGE, "data"],
    ]);
    expect(s.size).toBe(2);
    expect(s.find(0x1000)?.tag).toBe("text");
    expect(s.find(0x1fff)?.tag).toBe("text");
    expect(s.find(0x2000)).toBeUndefined();
    expect(s.find(0x11fff)?.tag).toBe("data");
    expect(s.find(0x12000)).toBeUndefined();
    expect(s.find(0)).toBeUndefined();
    expect(s.find(-1)).toBeUndefined();
    expect(s.find(2 ** 32)).toBeUndefined();
    expect(s.find(Number.NaN)).toBeUndefined();
    expect(s.at(0x10000)?.tag).toBe("data");
    expect(s.at(0x11000)).toBeUndefined();
    expect([...s].map((r) => r.start)).toEqual([0x1000, 0x10000]);
    expect(s.check()).toEqual([]);
  });

  test("add rejects overlap and bad input with EINVAL", () => {
    const s = set(region(0x10000, 4 * PAGE));
    const bad: Region[] = [
      region(0xf000, 2 * PAGE), // overlaps the front
      region(0x13000, PAGE), // overlaps the back
      region(0x11000, PAGE), // inside
      region(0x8000, 0x10000), // covers it
      region(0x1001, PAGE),
      region(0x1000, 100),
      region(0x1000, 0),
      region(0x1000, -PAGE),
      region(-PAGE, PAGE),
      region(0xffff_f000, 2 * PAGE),
      region(2 ** 32, PAGE),
      region(Number.NaN, PAGE),
      region(0x1000, Infinity),
      region(0x1000, PAGE, "mmap", VR_ANON | VR_DIRECT),
      region(0x1000, PAGE, "mmap", 0x8000),
      region(0x1000, PAGE, "mmap", -1),
      { start: 0x1000, length: PAGE, flags: RW, tag: "bogus" as RegionTag },
    ];
    for (const r of bad) expect(s.add(r)).toBe(EINVAL);
    expect(s.add(region(0xf000, PAGE))).toBe(OK); // adjacent is fine
    expect(s.add(region(0x14000, PAGE))).toBe(OK);
    expect(s.add(region(0xffff_f000, PAGE))).toBe(OK); // last page
    expect(s.size).toBe(4);
    expect(s.check()).toEqual([]);
  });

  test("stored regions are frozen copies", () => {
    const r = { start: 0x1000, length: PAGE, flags: RW, tag: "heap" as const };
    const s = set(r);
    r.start = 0x5000;
    expect(s.find(0x1000)?.start).toBe(0x1000);
    expect(Object.isFrozen(s.find(0x1000))).toBe(true);
  });

  test("remove: whole, prefix, suffix, middle, several regions and holes", () => {
    const a = region(0x10000, 4 * PAGE, "data", RW);
    const b = region(0x20000, 4 * PAGE, "mmap", VR_ANON | VR_SHARED | VR_WRITABLE);
    const s = set(a, b);

    // Middle of a: split in two with the same flags and tag.
    expect(s.remove(0x11000, 2 * PAGE)).toEqual([{ start: 0x11000, length: 2 * PAGE, region: a }]);
    expect(spans(s)).toEqual([
      [0x10000, PAGE, "data"],
      [0x13000, PAGE, "data"],
      [0x20000, 4 * PAGE, "mmap"],
    ]);
    expect(s.find(0x13000)?.flags).toBe(RW);

    // Across the hole: suffix of nothing, prefix of b.
    const r = s.remove(0x14000, 0xd000);
    expect(r).toEqual([{ start: 0x20000, length: PAGE, region: b }]);
    expect(s.find(0x21000)).toMatchObject({ start: 0x21000, length: 3 * PAGE, flags: b.flags });

    // Suffix of the 0x21000 piece; the piece's region is the shrunk record.
    const b2 = s.find(0x21000)!;
    expect(s.remove(0x23000, 0x10000)).toEqual([{ start: 0x23000, length: PAGE, region: b2 }]);

    // Everything, over several regions.
    const all = s.remove(PAGE, 0x40000);
    expect(all !== EINVAL && all.map((p) => [p.start, p.length])).toEqual([
      [0x10000, PAGE],
      [0x13000, PAGE],
      [0x21000, 2 * PAGE],
    ]);
    expect(s.size).toBe(0);
    expect(s.remove(0x1000, PAGE)).toEqual([]); // nothing there: not an error
  });

  test("remove rejects bad input with EINVAL and changes nothing", () => {
    const s = set(region(0x10000, 4 * PAGE));
    const bad: [number, number][] = [
      [0x10001, PAGE],
      [0x10000, 1],
      [0x10000, 0],
      [0x10000, -PAGE],
      [-PAGE, 2 * PAGE],
      [0xffff_f000, 2 * PAGE],
      [Number.NaN, PAGE],
      [0x10000, Number.POSITIVE_INFINITY],
    ];
    for (const [a, l] of bad) expect(s.remove(a, l)).toBe(EINVAL);
    expect(spans(s)).toEqual([[0x10000, 4 * PAGE, "mmap"]]);
  });

  test("findFree: highest fit below the limit, hint, above, ENOMEM", () => {
    const stack = region(0xf000_0000, 0x10000, "stack");
    const s = set(region(0x1000, 0x4000, "text"), stack);
    // Grows down from the bottom of the stack.
    expect(s.findFree(2 * PAGE, { below: 0xf000_0000 })).toBe(0xefff_e000);
    expect(s.add(region(0xefff_e000, 2 * PAGE))).toBe(OK);
    expect(s.findFree(PAGE, { below: 0xf000_0000 })).toBe(0xefff_d000);
    // Default limit: the top of the address space, above the stack.
    expect(s.findFree(PAGE)).toBe(0xffff_f000);
    // A free hint is taken; an occupied or misaligned one is not.
    expect(s.findFree(PAGE, { hint: 0x8000_0000, below: 0xf000_0000 })).toBe(0x8000_0000);
    expect(s.findFree(PAGE, { hint: 0x2000, below: 0xf000_0000 })).toBe(0xefff_d000);
    expect(s.findFree(PAGE, { hint: 0x8000_0010, below: 0xf000_0000 })).toBe(0xefff_d000);
    // Hint beyond the limit is not taken.
    expect(s.findFree(PAGE, { hint: 0xf800_0000, below: 0xf000_0000 })).toBe(0xefff_d000);
    // Gaps too small are skipped; page 0 stays free by default.
    const t = set(region(0x3000, PAGE), region(0x6000, PAGE));
    expect(t.findFree(2 * PAGE, { below: 0x7000 })).toBe(0x4000);
    expect(t.findFree(3 * PAGE, { below: 0x7000 })).toBe(ENOMEM);
    expect(t.findFree(2 * PAGE, { below: 0x3000 })).toBe(0x1000);
    expect(t.findFree(PAGE, { below: 0x1000 })).toBe(ENOMEM);
    expect(t.findFree(PAGE, { below: 0x1000, above: 0 })).toBe(0);
    expect(t.findFree(PAGE, { below: 0x4000, above: 0x3000 })).toBe(ENOMEM);
    expect(t.findFree(PAGE, { below: 0x8000, above: 0x6000 })).toBe(0x7000);
    // Whole address space taken.
    const full = set(region(0, 2 ** 32 - PAGE), region(2 ** 32 - PAGE, PAGE));
    expect(full.findFree(PAGE, { above: 0 })).toBe(ENOMEM);
  });

  test("findFree rejects bad input with EINVAL", () => {
    const s = new RegionSet();
    expect(s.findFree(0)).toBe(EINVAL);
    expect(s.findFree(100)).toBe(EINVAL);
    expect(s.findFree(-PAGE)).toBe(EINVAL);
    expect(s.findFree(2 ** 32)).toBe(EINVAL);
    expect(s.findFree(Number.NaN)).toBe(EINVAL);
    expect(s.findFree(PAGE, { below: 0x1001 })).toBe(EINVAL);
    expect(s.findFree(PAGE, { below: 2 ** 33 })).toBe(EINVAL);
    expect(s.findFree(PAGE, { above: 0x3000, below: 0x2000 })).toBe(EINVAL);
    expect(s.findFree(PAGE, { hint: -1 })).toBe(EINVAL);
    expect(s.findFree(2 * PAGE, { above: 0x1000, below: 0x2000 })).toBe(ENOMEM);
  });

  test("property: RegionSet agrees with a page-bitmap model", () => {
    const NPAGES = 64;
    type Op =
      | { kind: "add"; page: number; n: number }
      | { kind: "remove"; page: number; n: number }
      | { kind: "free"; n: number; below: number; above: number; hint: number | undefined };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant("add" as const),
        page: fc.integer({ min: 0, max: NPAGES - 1 }),
        n: fc.integer({ min: 1, max: 12 }),
      }),
      fc.record({
        kind: fc.constant("remove" as const),
        page: fc.integer({ min: 0, max: NPAGES - 1 }),
        n: fc.integer({ min: 1, max: 20 }),
      }),
      fc.record({
        kind: fc.constant("free" as const),
        n: fc.integer({ min: 1, max: 10 }),
        below: fc.integer({ min: 0, max: NPAGES }),
        above: fc.integer({ min: 0, max: NPAGES }),
        hint: fc.option(fc.integer({ min: 0, max: NPAGES }), { nil: undefined }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const s = new RegionSet();
        // owner[page] = id of the region (as added) covering it, or -1.
        const owner: number[] = new Array<number>(NPAGES).fill(-1);
        const flagsOf: number[] = []; // by region id
        for (const o of ops) {
          if (o.kind === "add") {
            const n = Math.min(o.n, NPAGES - o.page);
            const id = flagsOf.length;
            const flags = VR_ANON | (id % 2 === 0 ? VR_WRITABLE : 0);
            flagsOf.push(flags);
            const r = s.add(region(o.page * PAGE, n * PAGE, "mmap", flags));
            const clash = owner.slice(o.page, o.page + n).some((x) => x !== -1);
            expect(r).toBe(clash ? EINVAL : OK);
            if (!clash) owner.fill(id, o.page, o.page + n);
          } else if (o.kind === "remove") {
            const n = Math.min(o.n, NPAGES - o.page);
            const pieces = s.remove(o.page * PAGE, n * PAGE);
            if (pieces === EINVAL) throw new Error("unexpected EINVAL");
            const removedPages: number[] = [];
            for (const p of pieces) {
              expect(p.start).toBeGreaterThanOrEqual(p.region.start);
              expect(p.start + p.length).toBeLessThanOrEqual(p.region.start + p.region.length);
              for (let a = p.start; a < p.start + p.length; a += PAGE) removedPages.push(a / PAGE);
            }
            const expectedPages: number[] = [];
            for (let pg = o.page; pg < o.page + n; pg++) {
              if (owner[pg] !== -1) expectedPages.push(pg);
            }
            expect(removedPages).toEqual(expectedPages);
            owner.fill(-1, o.page, o.page + n);
          } else {
            const got = s.findFree(o.n * PAGE, {
              below: o.below * PAGE,
              above: o.above * PAGE,
              ...(o.hint === undefined ? {} : { hint: o.hint * PAGE }),
            });
            if (o.above > o.below) {
              expect(got).toBe(EINVAL);
              continue;
            }
            const fits = (pg: number): boolean =>
              pg >= o.above &&
              pg + o.n <= Math.min(o.below, NPAGES) &&
              owner.slice(pg, pg + o.n).every((x) => x === -1);
            let want: number = ENOMEM;
            if (o.hint !== undefined && fits(o.hint)) want = o.hint * PAGE;
            else {
              for (let pg = o.below - o.n; pg >= o.above; pg--) {
                if (fits(pg)) {
                  want = pg * PAGE;
                  break;
                }
              }
            }
            expect(got).toBe(want);
          }
          expect(s.check()).toEqual([]);
        }
        // Final structure: the regions cover exactly the owned pages, each region lies
        // within one added region (pieces of a split one keep its flags).
        const covered: number[] = new Array<number>(NPAGES).fill(-1);
        for (const r of s.regions()) {
          const id = owner[r.start / PAGE] ?? -1;
          expect(r.flags).toBe(flagsOf[id]);
          for (let a = r.start; a < r.start + r.length; a += PAGE) covered[a / PAGE] = id;
        }
        expect(covered).toEqual(owner);
      }),
      { numRuns: 300 },
    );
  });
});
