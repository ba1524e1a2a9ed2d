// Tests for simulated physical memory.

import { describe, expect, it } from "vitest";
import { physAddr } from "../include/types.ts";
import { PAGE_SHIFT, PAGE_SIZE, PhysicalMemory } from "./memory.ts";

const pa = physAddr;

describe("PhysicalMemory", () => {
  it("has page constants", () => {
    expect(PAGE_SIZE).toBe(4096);
    expect(1 << PAGE_SHIFT).toBe(PAGE_SIZE);
  });

  it("validates the size", () => {
    for (const bad of [0, -4096, 4095, 4097, 1.5 * 4096, Number.NaN, 2 ** 32 + 4096]) {
      expect(() => new PhysicalMemory(bad)).toThrow(RangeError);
    }
    const m = new PhysicalMemory(3 * 4096);
    expect(m.size).toBe(12288);
    expect(m.frames).toBe(3);
    expect(m.u8.length).toBe(12288);
    expect(m.u32.length).toBe(3072);
  });

  it("starts zeroed and reads back 8-bit writes", () => {
    const m = new PhysicalMemory(4096);
    expect(m.read8(pa(100))).toBe(0);
    m.write8(pa(100), 0x1ab);
    expect(m.read8(pa(100))).toBe(0xab);
    expect(m.read8(pa(4095))).toBe(0);
  });

  it("stores 32-bit words little-endian, aligned and unaligned", () => {
    const m = new PhysicalMemory(4096);
    m.write32(pa(8), 0x11223344);
    expect([...m.readBytes(pa(8), 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(m.u32[2]).toBe(0x11223344);
    m.write32(pa(13), 0xdeadbeef);
    expect(m.read32(pa(13))).toBe(0xdeadbeef);
    expect([...m.readBytes(pa(13), 4)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    m.write32(pa(4092), -1);
    expect(m.read32(pa(4092))).toBe(0xffffffff);
  });

  it("rejects out-of-range addresses", () => {
    const m = new PhysicalMemory(4096);
    expect(() => m.read8(pa(4096))).toThrow(RangeError);
    expect(() => m.read8(pa(-1))).toThrow(RangeError);
    expect(() => m.read8(pa(1.5))).toThrow(RangeError);
    expect(() => m.write8(pa(4096), 1)).toThrow(RangeError);
    expect(() => m.read32(pa(4093))).toThrow(RangeError);
    expect(() => m.write32(pa(4094), 1)).toThrow(RangeError);
    expect(() => m.write32(pa(-4), 1)).toThrow(RangeError);
    expect(() => m.copy(pa(0), pa(4000), 97)).toThrow(RangeError);
    expect(() => m.copy(pa(4000), pa(0), 97)).toThrow(RangeError);
    expect(() => m.fill(pa(1), 4096, 0)).toThrow(RangeError);
    expect(() => m.readBytes(pa(0), -1)).toThrow(RangeError);
    expect(() => m.writeBytes(pa(4090), new Uint8Array(7))).toThrow(RangeError);
    expect(m.readBytes(pa(4096), 0).length).toBe(0);
  });

  it("copies with memmove semantics, fills and round-trips bytes", () => {
    const m = new PhysicalMemory(4096);
    m.writeBytes(pa(0), Uint8Array.of(1, 2, 3, 4, 5));
    m.copy(pa(2), pa(0), 5);
    expect([...m.readBytes(pa(0), 7)]).toEqual([1, 2, 1, 2, 3, 4, 5]);
    m.copy(pa(0), pa(2), 5);
    expect([...m.readBytes(pa(0), 7)]).toEqual([1, 2, 3, 4, 5, 4, 5]);
    m.fill(pa(1), 3, 0x1ff);
    expect([...m.readBytes(pa(0), 5)]).toEqual([1, 0xff, 0xff, 0xff, 5]);
  });

  it("readBytes returns a copy", () => {
    const m = new PhysicalMemory(4096);
    const b = m.readBytes(pa(0), 4);
    b[0] = 9;
    expect(m.read8(pa(0))).toBe(0);
  });
});
