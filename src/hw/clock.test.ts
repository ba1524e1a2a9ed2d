// Tests for the simulated clock.

import { describe, expect, it } from "vitest";
import { COST, Clock } from "./clock.ts";

describe("Clock", () => {
  it("validates cyclesPerTick", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => new Clock({ cyclesPerTick: bad })).toThrow(RangeError);
    }
  });

  it("counts tick boundaries crossed by each advance", () => {
    const c = new Clock({ cyclesPerTick: 1000 });
    expect(c.cycles).toBe(0);
    expect(c.ticks).toBe(0);
    expect(c.cyclesUntilNextTick()).toBe(1000);
    expect(c.advance(999)).toBe(0);
    expect(c.cyclesUntilNextTick()).toBe(1);
    expect(c.advance(1)).toBe(1);
    expect(c.ticks).toBe(1);
    expect(c.cyclesUntilNextTick()).toBe(1000);
    expect(c.advance(2500)).toBe(2);
    expect(c.cycles).toBe(3500);
    expect(c.ticks).toBe(3);
    expect(c.cyclesUntilNextTick()).toBe(500);
    expect(c.advance(0)).toBe(0);
  });

  it("accepts fractional costs", () => {
    const c = new Clock({ cyclesPerTick: 10 });
    let crossed = 0;
    for (let i = 0; i < 40; i++) crossed += c.advance(COST.ipcCopyPerByte);
    expect(c.cycles).toBe(10);
    expect(crossed).toBe(1);
  });

  it("rejects negative or NaN advances", () => {
    const c = new Clock({ cyclesPerTick: 10 });
    expect(() => c.advance(-1)).toThrow(RangeError);
    expect(() => c.advance(Number.NaN)).toThrow(RangeError);
    expect(c.cycles).toBe(0);
  });

  it("jumps forward to the start of a tick only", () => {
    const c = new Clock({ cyclesPerTick: 100 });
    c.advance(150);
    expect(c.jumpToTick(5)).toBe(4);
    expect(c.cycles).toBe(500);
    expect(c.ticks).toBe(5);
    expect(c.cyclesUntilNextTick()).toBe(100);
    expect(c.jumpToTick(5)).toBe(0);
    expect(c.jumpToTick(2)).toBe(0);
    expect(c.cycles).toBe(500);
    expect(() => c.jumpToTick(-1)).toThrow(RangeError);
    expect(() => c.jumpToTick(1.5)).toThrow(RangeError);
  });

  it("has a cost table in cycles", () => {
    expect(COST.trap).toBe(200);
    expect(COST.kcall).toBe(400);
    expect(COST.contextSwitch).toBe(300);
    expect(COST.pageFault).toBe(1000);
    expect(COST.idleStep).toBe(0);
  });
});
