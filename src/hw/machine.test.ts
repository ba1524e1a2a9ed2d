// Tests for the Hardware wiring.

import { describe, expect, it } from "vitest";
import { physAddr } from "../include/types.ts";
import { Hardware } from "./machine.ts";
import { PTE_P, PTE_RW } from "./mmu.ts";

describe("Hardware", () => {
  it("wires the components from its options", () => {
    const hw = new Hardware({ memoryBytes: 64 * 4096, cyclesPerTick: 1000, seed: 1 });
    expect(hw.mem.size).toBe(64 * 4096);
    expect(hw.clock.cyclesPerTick).toBe(1000);
    expect(hw.prng.nextU32()).toBe(
      new Hardware({ memoryBytes: 4096, cyclesPerTick: 1, seed: 1 }).prng.nextU32(),
    );
    expect(hw.events.active).toBe(false);
    expect(hw.console.output()).toBe("");
    // The MMU walks tables in this machine's memory.
    const cr3 = physAddr(0x1000);
    hw.mem.write32(cr3, 0x2000 | PTE_P | PTE_RW);
    hw.mem.write32(physAddr(0x2000), 0x5000 | PTE_P | PTE_RW);
    expect(hw.mmu.translate(cr3, 0x123, true, false)).toBe(0x5123);
  });

  it("rejects bad options", () => {
    expect(() => new Hardware({ memoryBytes: 100, cyclesPerTick: 1, seed: 1 })).toThrow(RangeError);
    expect(() => new Hardware({ memoryBytes: 4096, cyclesPerTick: 0, seed: 1 })).toThrow(
      RangeError,
    );
    expect(() => new Hardware({ memoryBytes: 4096, cyclesPerTick: 1, seed: 0.5 })).toThrow(
      RangeError,
    );
  });
});
