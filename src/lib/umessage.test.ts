import { describe, expect, test } from "vitest";
import { I386_VM_PRESENT, I386_VM_USER } from "../include/vmpt.ts";
import type { ProcessContext } from "../include/trap.ts";
import { virAddr, type PhysAddr } from "../include/types.ts";
import {
  DATA_BASE,
  Machine,
  mapPage,
  PAGE_SIZE,
  UMessage,
  type Syscall,
} from "../../test/system_harness.ts";

/**
 * Boots one process running `body` (which makes no trap); `body` gets `remap(flags)`, which
 * moves the process's first data page to a fresh frame (copying it) with `flags` as VM would,
 * and `frameWord(i)`, word `i` of the page's current frame.
 */
function runInProcess(
  body: (
    ctx: ProcessContext,
    remap: (flags?: number) => void,
    frameWord: (i: number) => number,
  ) => void,
): void {
  const holder: { m: Machine | null } = { m: null };
  const frameOf = (): PhysAddr => {
    const m = holder.m!;
    const cr3 = m.kernel.procAddr(11)!.cr3;
    return m.hw.mmu.translate(cr3, DATA_BASE, false, false) as PhysAddr;
  };
  const remap = (flags?: number): void => {
    const m = holder.m!;
    const cr3 = m.kernel.procAddr(11)!.cr3;
    const old = frameOf();
    const fresh = m.frames.alloc();
    m.hw.mem.u8.copyWithin(fresh, old, old + PAGE_SIZE);
    mapPage(m.hw, m.frames, cr3, DATA_BASE, fresh, flags);
  };
  const frameWord = (i: number): number => holder.m!.hw.mem.u32[(frameOf() >>> 2) + i]!;
  holder.m = Machine.boot({
    image: [
      {
        name: "p",
        slot: 11,
        // eslint-disable-next-line require-yield
        program: function* (ctx: ProcessContext): Syscall {
          body(ctx, remap, frameWord);
          return 0;
        },
      },
    ],
  });
  holder.m.runUntilIdle();
}

describe("CpuPort.mapWords", () => {
  test("maps the words themselves while the TLB is unchanged; null where a copy would fault", () => {
    const out: unknown[] = [];
    runInProcess((ctx, remap) => {
      const cpu = ctx.cpu;
      const a = virAddr(DATA_BASE + 64);
      const w = cpu.mapWords(a, 16)!;
      w[3] = 0x1234;
      out.push(cpu.read32(virAddr(a + 12)) === 0x1234);
      cpu.write32(virAddr(a + 4), 7);
      out.push(w[1] === 7);
      const gen = cpu.tlbGen;
      cpu.read32(a);
      out.push(cpu.tlbGen === gen, cpu.mapWords(a, 16, w) === w);
      // A whole page maps; unaligned, across a page, empty, not present: no mapping.
      out.push(cpu.mapWords(virAddr(DATA_BASE), PAGE_SIZE / 4)?.length);
      out.push(
        cpu.mapWords(virAddr(a + 2), 4),
        cpu.mapWords(virAddr(DATA_BASE + PAGE_SIZE - 8), 4),
        cpu.mapWords(a, 0),
        cpu.mapWords(virAddr(0x10), 4),
      );
      // VM moves the page: the generation changes and a new mapping reaches the new frame.
      remap();
      out.push(cpu.tlbGen !== gen);
      const moved = cpu.mapWords(a, 16, w)!;
      out.push(moved !== w);
      moved[3] = 0x5678;
      out.push(cpu.read32(virAddr(a + 12)) === 0x5678, w[3] === 0x1234);
      // A read-only page cannot be mapped (the words are for loads and stores).
      remap(I386_VM_PRESENT | I386_VM_USER);
      out.push(cpu.mapWords(a, 16));
    });
    expect(out).toEqual([
      true,
      true,
      true,
      true,
      1024,
      null,
      null,
      null,
      null,
      true,
      true,
      true,
      true,
      null,
    ]);
  });
});

describe("UMessage", () => {
  test("put and get reach the buffer's current frame after VM moves or protects the page", () => {
    const out: unknown[] = [];
    runInProcess((ctx, remap, frameWord) => {
      const um = new UMessage(ctx, virAddr(DATA_BASE + 128));
      um.m.type = 1;
      out.push(um.putNow(), frameWord(32 + 1));
      remap();
      um.m.type = 2;
      out.push(um.putNow(), frameWord(32 + 1));
      // Another writer changes the memory: get sees it.
      ctx.cpu.write32(virAddr(DATA_BASE + 132), 3);
      out.push(um.getNow(), um.m.type);
      // Read-only: get still loads through the copying path; put faults.
      remap(I386_VM_PRESENT | I386_VM_USER);
      ctx.cpu.write32(virAddr(DATA_BASE + 132), 4); // faults: read-only
      out.push(um.getNow(), um.m.type, um.putNow());
    });
    expect(out).toEqual([true, 1, true, 2, true, 3, true, 3, false]);
  });

  test("copies with the CPU port when the buffer crosses a page", () => {
    const out: unknown[] = [];
    runInProcess((ctx) => {
      const um = new UMessage(ctx, virAddr(DATA_BASE + PAGE_SIZE - 32));
      um.m.words.forEach((_, i, w) => (w[i] = i + 1));
      out.push(um.putNow(), ctx.cpu.read32(virAddr(DATA_BASE + PAGE_SIZE + 4)) === 10);
      um.m.words.fill(0);
      out.push(um.getNow(), um.m.words.join());
    });
    expect(out).toEqual([true, true, true, Array.from({ length: 16 }, (_, i) => i + 1).join()]);
  });
});
