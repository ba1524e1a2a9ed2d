import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  ANY,
  CLOCK,
  GEN_SIZE,
  generationOf,
  HARDWARE,
  IDLE,
  INIT_PROC_NR,
  KERNEL,
  makeEndpoint,
  MAX_GEN,
  MAX_NR_TASKS,
  nextGeneration,
  NONE,
  NR_TASKS,
  PM_PROC_NR,
  RS_PROC_NR,
  SELF,
  slotOf,
  SYSTEM,
  VM_PROC_NR,
} from "./endpoint.ts";

/** NR_PROCS of a default machine. */
const NR_PROCS = 256;
const INT_MAX = 0x7fffffff;

describe("endpoint constants", () => {
  test("match MINIX: magic values, GEN_SIZE and MAX_GEN", () => {
    expect([ANY, NONE, SELF]).toEqual([31438, 27342, 35534]);
    expect(GEN_SIZE).toBe(MAX_NR_TASKS + SELF + 1);
    expect(GEN_SIZE).toBe(36558);
    expect(MAX_GEN).toBe(Math.floor(INT_MAX / GEN_SIZE) - 1);
    expect(MAX_GEN).toBe(58740);
  });

  test("boot endpoints (generation 0) equal slot numbers", () => {
    for (const e of [IDLE, CLOCK, SYSTEM, KERNEL, PM_PROC_NR, RS_PROC_NR, VM_PROC_NR]) {
      expect(makeEndpoint(0, e)).toBe(e);
      expect(generationOf(e)).toBe(0);
      expect(slotOf(e)).toBe(e);
    }
    expect([IDLE, CLOCK, SYSTEM, KERNEL]).toEqual([-4, -3, -2, -1]);
    expect(HARDWARE).toBe(KERNEL);
  });

  test("the largest endpoint still fits in a signed 32-bit int", () => {
    expect(makeEndpoint(MAX_GEN - 1, NR_PROCS - 1)).toBeLessThanOrEqual(INT_MAX);
    expect(makeEndpoint(MAX_GEN, NR_PROCS - 1)).toBeLessThanOrEqual(INT_MAX);
  });
});

describe("endpoint arithmetic", () => {
  test("kernel tasks round-trip in every generation", () => {
    for (const slot of [IDLE, CLOCK, SYSTEM, KERNEL]) {
      for (const gen of [0, 1, 2, 1000, MAX_GEN - 2, MAX_GEN - 1]) {
        const e = makeEndpoint(gen, slot);
        expect(generationOf(e)).toBe(gen);
        expect(slotOf(e)).toBe(slot);
      }
    }
  });

  test("user slots round-trip, including generation MAX_GEN - 1", () => {
    for (const slot of [0, 1, INIT_PROC_NR, 11, 100, NR_PROCS - 1]) {
      for (const gen of [0, 1, 7, MAX_GEN - 1]) {
        const e = makeEndpoint(gen, slot);
        expect([generationOf(e), slotOf(e)]).toEqual([gen, slot]);
      }
    }
    expect(makeEndpoint(1, 5)).toBe(GEN_SIZE + 5);
    expect(makeEndpoint(1, CLOCK)).toBe(GEN_SIZE - 3);
  });

  test("property: (gen, slot) → endpoint → (gen, slot) for every gen < MAX_GEN", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_GEN - 1 }),
        fc.integer({ min: -NR_TASKS, max: 32_000 - 1 }),
        (gen, slot) => {
          const e = makeEndpoint(gen, slot);
          return generationOf(e) === gen && slotOf(e) === slot && Number.isSafeInteger(e);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("property: distinct (gen, slot) pairs give distinct endpoints", () => {
    const pair = fc.tuple(
      fc.integer({ min: 0, max: MAX_GEN - 1 }),
      fc.integer({ min: -NR_TASKS, max: NR_PROCS - 1 }),
    );
    fc.assert(
      fc.property(pair, pair, ([g1, s1], [g2, s2]) => {
        fc.pre(g1 !== g2 || s1 !== s2);
        return makeEndpoint(g1, s1) !== makeEndpoint(g2, s2);
      }),
      { numRuns: 2000 },
    );
  });

  test("property: no real endpoint equals a magic value (ANY, NONE, SELF)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_GEN - 1 }),
        fc.integer({ min: -NR_TASKS, max: NR_PROCS - 1 }),
        (gen, slot) => {
          const e = makeEndpoint(gen, slot);
          return e !== ANY && e !== NONE && e !== SELF;
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("magic values decode to slots outside the process table", () => {
    for (const magic of [ANY, NONE, SELF]) {
      expect(generationOf(magic)).toBe(0);
      const slot = slotOf(magic);
      expect(slot).toBe(magic);
      expect(slot >= -NR_TASKS && slot < NR_PROCS).toBe(false);
    }
  });
});

describe("nextGeneration", () => {
  test("increments, and wraps from MAX_GEN - 1 to 1 (never back to 0)", () => {
    expect(nextGeneration(0)).toBe(1);
    expect(nextGeneration(1)).toBe(2);
    expect(nextGeneration(MAX_GEN - 2)).toBe(MAX_GEN - 1);
    expect(nextGeneration(MAX_GEN - 1)).toBe(1);
  });

  test("property: the successor of a generation is a different, valid generation", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_GEN - 1 }), (gen) => {
        const next = nextGeneration(gen);
        return next >= 1 && next < MAX_GEN && next !== gen && (next === gen + 1 || next === 1);
      }),
    );
  });

  test("a fork-style successor endpoint keeps the slot and changes the endpoint", () => {
    for (const gen of [0, 1, MAX_GEN - 1]) {
      const old = makeEndpoint(gen, 42);
      const child = makeEndpoint(nextGeneration(generationOf(old)), slotOf(old));
      expect(slotOf(child)).toBe(42);
      expect(child).not.toBe(old);
    }
    expect(makeEndpoint(nextGeneration(MAX_GEN - 1), 42)).toBe(GEN_SIZE + 42);
  });
});
