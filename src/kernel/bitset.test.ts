import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BitSet } from "./bitset.ts";

describe("BitSet", () => {
  test("set, has and clear single bits across word boundaries", () => {
    const b = new BitSet(70);
    expect(b.isEmpty()).toBe(true);
    for (const i of [0, 31, 32, 63, 64, 69]) b.set(i);
    expect([...b.members()]).toEqual([0, 31, 32, 63, 64, 69]);
    expect(b.has(31) && b.has(32) && !b.has(33)).toBe(true);
    b.clear(32);
    b.clear(0);
    expect([...b.members()]).toEqual([31, 63, 64, 69]);
    expect(b.isEmpty()).toBe(false);
  });

  test("out-of-range bits read as clear and are ignored on write", () => {
    const b = new BitSet(40);
    b.set(-1);
    b.set(40);
    b.set(1000);
    expect(b.isEmpty()).toBe(true);
    expect(b.has(-1) || b.has(40) || b.has(1000)).toBe(false);
    b.set(39);
    b.clear(40);
    b.clear(-3);
    expect([...b.members()]).toEqual([39]);
  });

  test.each([1, 31, 32, 33, 64, 65])("setAll sets exactly %i bits", (size) => {
    const b = new BitSet(size);
    b.setAll();
    const all = [...b.members()];
    expect(all.length).toBe(size);
    expect(all[0]).toBe(0);
    expect(all[size - 1]).toBe(size - 1);
    expect(b.nextSet(size)).toBe(-1);
    b.clearAll();
    expect(b.isEmpty()).toBe(true);
  });

  test("nextSet finds the lowest set bit at or above `from`", () => {
    const b = new BitSet(100);
    for (const i of [5, 40, 99]) b.set(i);
    expect(b.nextSet()).toBe(5);
    expect(b.nextSet(-7)).toBe(5);
    expect(b.nextSet(5)).toBe(5);
    expect(b.nextSet(6)).toBe(40);
    expect(b.nextSet(41)).toBe(99);
    expect(b.nextSet(100)).toBe(-1);
    expect(new BitSet(100).nextSet(0)).toBe(-1);
  });

  test("property: behaves like a Set of integers in [0, size)", () => {
    const op = fc.tuple(fc.constantFrom("set", "clear"), fc.integer({ min: -5, max: 140 }));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 130 }),
        fc.array(op, { maxLength: 80 }),
        (size, ops) => {
          const b = new BitSet(size);
          const model = new Set<number>();
          for (const [kind, i] of ops) {
            if (kind === "set") {
              b.set(i);
              if (i >= 0 && i < size) model.add(i);
            } else {
              b.clear(i);
              model.delete(i);
            }
          }
          const expected = [...model].sort((x, y) => x - y);
          expect([...b.members()]).toEqual(expected);
          expect(b.isEmpty()).toBe(expected.length === 0);
          for (let i = -2; i < size + 2; i++) expect(b.has(i)).toBe(model.has(i));
        },
      ),
    );
  });
});
