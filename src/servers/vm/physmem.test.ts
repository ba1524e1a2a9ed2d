import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_FRAMES, PhysMem, VmSanityError, type FrameRun } from "./physmem.ts";

/** Build a PhysMem whose free ranges are exactly `free` (address order not required). */
function withFree(total: number, free: readonly (readonly [number, number])[]): PhysMem {
  const p = new PhysMem(total);
  p.reserve(0, total);
  for (const [first, n] of free) p.free(first, n);
  p.check();
  return p;
}

function runs(list: readonly (readonly [number, number])[]): FrameRun[] {
  return list.map(([first, n]) => ({ first, n }));
}

describe("PhysMem basics", () => {
  it("starts with everything free and allocates from the top", () => {
    const p = new PhysMem(100);
    expect(p.freeFrames).toBe(100);
    expect(p.usedFrames).toBe(0);
    expect(p.ranges()).toEqual(runs([[0, 100]]));
    expect(p.alloc(10)).toBe(90);
    expect(p.alloc(5)).toBe(85);
    expect(p.freeFrames).toBe(85);
    expect(p.usedFrames).toBe(15);
    expect(p.ranges()).toEqual(runs([[0, 85]]));
    p.check();
    p.free(90, 10);
    p.free(85, 5);
    expect(p.ranges()).toEqual(runs([[0, 100]]));
    p.check();
  });

  it("returns -1 when nothing fits and allocates nothing", () => {
    const p = withFree(100, [
      [10, 5],
      [30, 7],
    ]);
    expect(p.alloc(8)).toBe(-1);
    expect(p.freeFrames).toBe(12);
    expect(new PhysMem(0).alloc(1)).toBe(-1);
  });

  it("can allocate all memory exactly", () => {
    const p = new PhysMem(64);
    expect(p.alloc(64)).toBe(0);
    expect(p.freeFrames).toBe(0);
    expect(p.ranges()).toEqual([]);
    expect(p.largestFree).toBe(0);
    expect(p.alloc(1)).toBe(-1);
    p.check();
  });

  it("best fit picks the smallest fitting range, lowest address on ties", () => {
    const p = withFree(200, [
      [0, 20],
      [30, 6],
      [50, 9],
      [70, 6],
      [100, 50],
    ]);
    expect(p.alloc(5)).toBe(30 + 6 - 5); // the 6 at 30 (lower of the two 6s), from its end
    expect(p.alloc(6)).toBe(70); // the other 6, used up whole
    expect(p.alloc(7)).toBe(50 + 9 - 7);
    expect(p.alloc(21)).toBe(150 - 21);
    expect(p.ranges()).toEqual(
      runs([
        [0, 20],
        [30, 1],
        [50, 2],
        [100, 29],
      ]),
    );
    p.check();
  });

  it("coalesces with the previous, the next and both neighbours", () => {
    const p = new PhysMem(100);
    p.reserve(0, 100);
    p.free(10, 5); // alone
    p.free(15, 5); // merges with previous
    expect(p.ranges()).toEqual(runs([[10, 10]]));
    p.free(5, 5); // merges with next
    expect(p.ranges()).toEqual(runs([[5, 15]]));
    p.free(30, 10);
    expect(p.rangeCount).toBe(2);
    p.free(20, 10); // fills the gap: merges with both
    expect(p.ranges()).toEqual(runs([[5, 35]]));
    p.free(0, 5);
    p.free(40, 60);
    expect(p.ranges()).toEqual(runs([[0, 100]]));
    p.check();
  });

  it("lower allocations come from the low end and never cross the limit", () => {
    const p = new PhysMem(1000);
    expect(p.alloc(10, { lower: 100 })).toBe(0);
    expect(p.alloc(10, { lower: 100 })).toBe(10);
    expect(p.alloc(50)).toBe(950); // normal ones still from the top
    p.free(0, 10);
    // First fit from the bottom: the hole at 0 takes a 4, from its start.
    expect(p.alloc(4, { lower: 100 })).toBe(0);
    expect(p.alloc(8, { lower: 100 })).toBe(20); // the 6 left at 4 is too small
    // The range [28, 950) straddles the limit; only [28, 100) is usable.
    expect(p.alloc(72, { lower: 100 })).toBe(28);
    expect(p.alloc(1, { lower: 100 })).toBe(4);
    expect(p.alloc(6, { lower: 100 })).toBe(-1);
    expect(p.alloc(5, { lower: 100 })).toBe(5);
    expect(p.alloc(1, { lower: 100 })).toBe(-1);
    expect(p.alloc(1, { lower: 0 })).toBe(-1);
    expect(p.ranges()).toEqual(runs([[100, 850]]));
    p.check();
  });

  it("a lower allocation fails rather than take memory above the limit", () => {
    const p = withFree(100, [
      [0, 3],
      [40, 30],
    ]);
    expect(p.alloc(5, { lower: 44 })).toBe(-1);
    expect(p.alloc(4, { lower: 44 })).toBe(40);
    expect(p.freeFrames).toBe(29);
    p.check();
  });

  it("contig is accepted by alloc (always contiguous)", () => {
    const p = new PhysMem(16);
    expect(p.alloc(4, { contig: true })).toBe(12);
    expect(p.alloc(4, { contig: true, lower: 8 })).toBe(0);
  });

  it("reserve removes a specific free run, splitting a range", () => {
    const p = new PhysMem(100);
    p.reserve(0, 10); // what the loader used
    p.reserve(40, 20);
    p.reserve(99, 1);
    expect(p.ranges()).toEqual(
      runs([
        [10, 30],
        [60, 39],
      ]),
    );
    expect(p.usedFrames).toBe(31);
    p.check();
    expect(() => p.reserve(35, 10)).toThrow(VmSanityError); // 40.. is not free
    expect(() => p.reserve(5, 1)).toThrow(VmSanityError);
    expect(() => p.reserve(99, 1)).toThrow(VmSanityError);
    expect(() => p.reserve(95, 10)).toThrow(VmSanityError); // outside
    expect(p.usedFrames).toBe(31);
    p.check();
  });

  it("isFree answers for whole runs", () => {
    const p = withFree(50, [[10, 10]]);
    expect(p.isFree(10, 10)).toBe(true);
    expect(p.isFree(19)).toBe(true);
    expect(p.isFree(9)).toBe(false);
    expect(p.isFree(20)).toBe(false);
    expect(p.isFree(15, 6)).toBe(false);
  });

  it("throws VmSanityError on double free, overlap and bad arguments", () => {
    const p = new PhysMem(100);
    const a = p.alloc(10); // 90
    p.free(a, 10);
    expect(() => p.free(a, 10)).toThrow(VmSanityError);
    p.reserve(10, 20);
    expect(() => p.free(5, 10)).toThrow(/overlaps/); // head overlaps a free range
    expect(() => p.free(25, 10)).toThrow(/overlaps/); // tail overlaps
    expect(() => p.free(0, 100)).toThrow(VmSanityError); // covers free ranges
    expect(() => p.free(95, 10)).toThrow(/outside/);
    expect(() => p.free(-1, 2)).toThrow(VmSanityError);
    expect(() => p.free(10, 0)).toThrow(VmSanityError);
    expect(() => p.free(10.5, 1)).toThrow(VmSanityError);
    expect(() => p.alloc(0)).toThrow(VmSanityError);
    expect(() => p.alloc(1.5)).toThrow(VmSanityError);
    expect(() => p.alloc(1, { lower: -1 })).toThrow(VmSanityError);
    expect(() => p.allocList(-3)).toThrow(VmSanityError);
    expect(() => new PhysMem(MAX_FRAMES + 1)).toThrow(VmSanityError);
    // Nothing changed by the failed calls.
    expect(p.ranges()).toEqual(
      runs([
        [0, 10],
        [30, 70],
      ]),
    );
    p.check();
  });

  it("works with the largest machine (composite size keys stay exact)", () => {
    const p = new PhysMem(MAX_FRAMES);
    expect(p.alloc(MAX_FRAMES - 1)).toBe(1);
    expect(p.ranges()).toEqual(runs([[0, 1]]));
    p.free(1, MAX_FRAMES - 1);
    p.reserve(MAX_FRAMES - 2, 1);
    expect(p.alloc(1)).toBe(MAX_FRAMES - 1); // best fit: the 1-frame range at the top
    expect(p.largestFree).toBe(MAX_FRAMES - 2);
    p.check();
  });
});

describe("PhysMem.allocList", () => {
  it("uses a single best-fit chunk when one range fits", () => {
    const p = withFree(100, [
      [0, 10],
      [50, 20],
    ]);
    expect(p.allocList(15)).toEqual(runs([[55, 15]]));
    p.check();
  });

  it("takes whole ranges largest first, then a best-fit piece", () => {
    const p = withFree(200, [
      [0, 10],
      [20, 4],
      [30, 30],
      [70, 30],
      [110, 5],
      [130, 8],
    ]);
    // 30 + 30 whole, then 9 remaining: best fit is the 10 at 0.
    expect(p.allocList(69)).toEqual(
      runs([
        [30, 30],
        [70, 30],
        [1, 9],
      ]),
    );
    expect(p.ranges()).toEqual(
      runs([
        [0, 1],
        [20, 4],
        [110, 5],
        [130, 8],
      ]),
    );
    p.check();
  });

  it("returns null and allocates nothing when memory is short", () => {
    const p = withFree(100, [
      [0, 10],
      [50, 20],
    ]);
    expect(p.allocList(31)).toBeNull();
    expect(p.freeFrames).toBe(30);
    expect(p.allocList(30)).toEqual(
      runs([
        [50, 20],
        [0, 10],
      ]),
    );
    expect(p.freeFrames).toBe(0);
    p.check();
  });

  it("contig asks for a single chunk", () => {
    const p = withFree(100, [
      [0, 10],
      [50, 20],
    ]);
    expect(p.allocList(25, { contig: true })).toBeNull();
    expect(p.allocList(20, { contig: true })).toEqual(runs([[50, 20]]));
  });

  it("lower collects chunks from the bottom up, below the limit", () => {
    const p = withFree(100, [
      [2, 3],
      [10, 4],
      [20, 50],
    ]);
    expect(p.allocList(40, { lower: 30 })).toBeNull(); // only 3 + 4 + 10 below 30
    expect(p.freeFrames).toBe(57);
    expect(p.allocList(12, { lower: 30 })).toEqual(
      runs([
        [2, 3],
        [10, 4],
        [20, 5],
      ]),
    );
    expect(p.allocList(5, { lower: 30 })).toEqual(runs([[25, 5]]));
    expect(p.allocList(1, { lower: 30 })).toBeNull();
    expect(p.ranges()).toEqual(runs([[30, 40]]));
    p.check();
  });
});

describe("check() detects corruption", () => {
  it("reports a broken size map and a wrong free count", () => {
    const p = withFree(100, [
      [0, 10],
      [50, 20],
    ]);
    const inner = p as unknown as {
      bySize: { clear(): void };
      nFree: number;
    };
    inner.nFree += 1;
    expect(() => p.check()).toThrow(/free count/);
    inner.nFree -= 1;
    inner.bySize.clear();
    expect(() => p.check()).toThrow(/size map/);
  });

  it("reports uncoalesced and overlapping ranges", () => {
    const p = withFree(100, [[0, 10]]);
    const byAddr = (
      p as unknown as { byAddr: { set(k: number, v: number): void; delete(k: number): void } }
    ).byAddr;
    byAddr.set(10, 5);
    expect(() => p.check()).toThrow(/coalesced/);
    byAddr.delete(10);
    byAddr.set(5, 3);
    expect(() => p.check()).toThrow(/overlaps/);
  });
});

// --- model test ---

type Op =
  | { kind: "alloc"; n: number; lower: number | null }
  | { kind: "allocList"; n: number; lower: number | null; contig: boolean }
  | { kind: "free"; pick: number; len: number }
  | { kind: "badFree"; pick: number; back: number; len: number }
  | { kind: "reserve"; pick: number; len: number }
  | { kind: "badReserve"; pick: number; back: number; len: number };

const TOTAL = 48;

const lowerArb = fc.option(fc.integer({ min: 0, max: TOTAL + 4 }), { freq: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("alloc" as const),
      n: fc.integer({ min: 1, max: 20 }),
      lower: lowerArb,
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("allocList" as const),
      n: fc.integer({ min: 1, max: 30 }),
      lower: lowerArb,
      contig: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("free" as const),
      pick: fc.nat(),
      len: fc.integer({ min: 1, max: 16 }),
    }),
    weight: 4,
  },
  fc.record({
    kind: fc.constant("badFree" as const),
    pick: fc.nat(),
    back: fc.nat({ max: 8 }),
    len: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({
    kind: fc.constant("reserve" as const),
    pick: fc.nat(),
    len: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant("badReserve" as const),
    pick: fc.nat(),
    back: fc.nat({ max: 8 }),
    len: fc.integer({ min: 1, max: 12 }),
  }),
);

/** The model: used[f] = 1 when frame f is allocated. */
class Model {
  readonly used = new Uint8Array(TOTAL);

  freeRuns(): FrameRun[] {
    const out: FrameRun[] = [];
    let f = 0;
    while (f < TOTAL) {
      if (this.used[f] === 1) {
        f++;
        continue;
      }
      const first = f;
      while (f < TOTAL && this.used[f] === 0) f++;
      out.push({ first, n: f - first });
    }
    return out;
  }

  /** The `pick`-th (mod count) frame whose state is `state`, or -1. */
  nth(state: 0 | 1, pick: number): number {
    let count = 0;
    for (const u of this.used) if (u === state) count++;
    if (count === 0) return -1;
    let k = pick % count;
    for (let f = 0; f < TOTAL; f++) {
      if (this.used[f] === state && k-- === 0) return f;
    }
    return -1;
  }

  /** Length (≤ max) of the run of frames in `state` starting at `first`. */
  runFrom(state: 0 | 1, first: number, max: number): number {
    let n = 0;
    while (n < max && first + n < TOTAL && this.used[first + n] === state) n++;
    return n;
  }

  mark(first: number, n: number, state: 0 | 1): void {
    for (let f = first; f < first + n; f++) {
      expect(this.used[f], `frame ${f}`).toBe(1 - state);
      this.used[f] = state;
    }
  }
}

function applyOp(p: PhysMem, m: Model, op: Op): void {
  switch (op.kind) {
    case "alloc": {
      const runs = m.freeRuns();
      let expected = -1;
      if (op.lower === null) {
        // Best fit, ties lowest address, from the end of the range.
        let best: FrameRun | undefined;
        for (const r of runs) if (r.n >= op.n && (best === undefined || r.n < best.n)) best = r;
        if (best !== undefined) expected = best.first + best.n - op.n;
      } else {
        const lower = op.lower;
        const r = runs.find((r) => r.n >= op.n && r.first + op.n <= lower);
        if (r !== undefined) expected = r.first;
      }
      const got =
        op.lower === null ? p.alloc(op.n) : p.alloc(op.n, { lower: op.lower, contig: true });
      expect(got).toBe(expected);
      if (got >= 0) m.mark(got, op.n, 1);
      return;
    }
    case "allocList": {
      const runs = m.freeRuns();
      const limit = op.lower ?? TOTAL;
      const avail = runs.reduce(
        (s, r) => s + Math.max(0, Math.min(r.first + r.n, limit) - r.first),
        0,
      );
      const fitsOne = runs.some((r) => r.n >= op.n && (op.lower === null || r.first < limit));
      const opts = {
        contig: op.contig,
        ...(op.lower === null ? {} : { lower: op.lower }),
      };
      const before = p.ranges();
      const got = p.allocList(op.n, opts);
      if (got === null) {
        expect(p.ranges()).toEqual(before);
        if (op.contig) {
          if (op.lower === null) expect(fitsOne).toBe(false);
        } else {
          expect(avail).toBeLessThan(op.n);
        }
        return;
      }
      if (!op.contig) expect(avail).toBeGreaterThanOrEqual(op.n);
      expect(got.reduce((s, c) => s + c.n, 0)).toBe(op.n);
      if (op.contig) expect(got).toHaveLength(1);
      if (op.lower === null && fitsOne) expect(got).toHaveLength(1);
      for (const c of got) {
        expect(c.n).toBeGreaterThan(0);
        expect(c.first + c.n).toBeLessThanOrEqual(limit);
        m.mark(c.first, c.n, 1);
      }
      if (op.lower === null && !op.contig && got.length > 1) {
        // All chunks but the last are whole free ranges, largest first.
        for (const c of got.slice(0, -1)) expect(runs).toContainEqual(c);
        const sizes = got.slice(0, -1).map((c) => c.n);
        expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
      }
      return;
    }
    case "free": {
      const first = m.nth(1, op.pick);
      if (first < 0) return;
      const n = m.runFrom(1, first, op.len);
      p.free(first, n);
      m.mark(first, n, 0);
      return;
    }
    case "reserve": {
      const first = m.nth(0, op.pick);
      if (first < 0) return;
      const n = m.runFrom(0, first, op.len);
      p.reserve(first, n);
      m.mark(first, n, 1);
      return;
    }
    case "badFree":
    case "badReserve": {
      // A run that contains a frame in the wrong state (free for free, used for reserve),
      // or sticks out of memory.
      const wrong = op.kind === "badFree" ? 0 : 1;
      const f = m.nth(wrong, op.pick);
      if (f < 0) return;
      const first = Math.max(0, f - op.back);
      const n = Math.max(op.len, f - first + 1);
      const before = p.ranges();
      if (op.kind === "badFree") expect(() => p.free(first, n)).toThrow(VmSanityError);
      else expect(() => p.reserve(first, n)).toThrow(VmSanityError);
      expect(p.ranges()).toEqual(before);
      return;
    }
  }
}

describe("PhysMem model test", () => {
  it("matches a bitmap model under random alloc/free/reserve", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const p = new PhysMem(TOTAL);
        const m = new Model();
        for (const op of ops) {
          applyOp(p, m, op);
          p.check();
          expect(p.ranges()).toEqual(m.freeRuns());
          expect(p.freeFrames + p.usedFrames).toBe(TOTAL);
        }
        // Free everything still used, in maximal runs.
        for (let f = 0; f < TOTAL;) {
          const n = m.runFrom(1, f, TOTAL);
          if (n === 0) {
            f++;
            continue;
          }
          p.free(f, n);
          m.mark(f, n, 0);
          p.check();
          f += n;
        }
        expect(p.freeFrames).toBe(TOTAL);
        expect(p.ranges()).toEqual(runs([[0, TOTAL]]));
      }),
      { numRuns: 300 },
    );
  });
});
