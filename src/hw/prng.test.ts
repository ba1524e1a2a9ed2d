// Tests for the seeded PRNG.

import { describe, expect, it } from "vitest";
import { Prng } from "./prng.ts";

function take(p: Prng, n: number): number[] {
  return Array.from({ length: n }, () => p.nextU32());
}

describe("Prng", () => {
  it("repeats the same sequence for the same seed", () => {
    expect(take(new Prng(42), 50)).toEqual(take(new Prng(42), 50));
  });

  it("gives different sequences for different seeds", () => {
    const seeds = [0, 1, 2, -1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
    const seqs = seeds.map((s) => take(new Prng(s), 8).join(","));
    expect(new Set(seqs).size).toBe(seeds.length);
  });

  it("produces unsigned 32-bit integers that are not degenerate", () => {
    const xs = take(new Prng(7), 1000);
    for (const x of xs) {
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(2 ** 32);
    }
    expect(new Set(xs).size).toBe(1000);
    expect(xs.some((x) => x >= 2 ** 31)).toBe(true);
  });

  it("keeps nextInt in bounds and covers every value", () => {
    const p = new Prng(3);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 6000; i++) {
      const v = p.nextInt(6);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(6);
      counts[v] = (counts[v] ?? 0) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(p.nextInt(1)).toBe(0);
    const big = p.nextInt(2 ** 32);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 32);
    for (const bad of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) {
      expect(() => p.nextInt(bad)).toThrow(RangeError);
    }
  });

  it("keeps nextFloat in [0, 1)", () => {
    const p = new Prng(9);
    let sum = 0;
    for (let i = 0; i < 2000; i++) {
      const f = p.nextFloat();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      sum += f;
    }
    expect(sum / 2000).toBeGreaterThan(0.45);
    expect(sum / 2000).toBeLessThan(0.55);
  });

  it("forks deterministically into an independent generator", () => {
    const a = new Prng(5);
    const b = new Prng(5);
    const fa = a.fork();
    const fb = b.fork();
    expect(take(fa, 20)).toEqual(take(fb, 20));
    expect(take(a, 20)).toEqual(take(b, 20));
    const p = new Prng(5);
    const child = p.fork();
    expect(take(child, 20)).not.toEqual(take(p, 20));
    expect(take(p.fork(), 5)).not.toEqual(take(p.fork(), 5));
  });

  it("rejects non-integer seeds", () => {
    expect(() => new Prng(1.5)).toThrow(RangeError);
    expect(() => new Prng(Number.NaN)).toThrow(RangeError);
    expect(() => new Prng(2 ** 60)).toThrow(RangeError);
  });
});
