import { describe, expect, test } from "vitest";
import { CPU_FAULT, CPU_OK, type ProcessContext } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import { Machine, type Syscall } from "../../test/system_harness.ts";

/** Runs `body` (which makes no trap) as the program of the only process. */
function runInProcess(body: (ctx: ProcessContext) => void): void {
  const m = Machine.boot({
    image: [
      {
        name: "p",
        // eslint-disable-next-line require-yield
        program: function* (ctx: ProcessContext): Syscall {
          body(ctx);
          return 0;
        },
      },
    ],
  });
  m.runUntilIdle();
}

describe("UserCpuPort", () => {
  test("word loads and stores go through the page tables; faults report the address", () => {
    const out: number[] = [];
    runInProcess((ctx) => {
      const cpu = ctx.cpu;
      const a = virAddr(ctx.heapBase + 8);
      out.push(cpu.write32(a, 0xdeadbeef), cpu.read32(a));
      const bytes = new Uint8Array(4);
      cpu.read(a, bytes);
      out.push(...bytes);
      out.push(cpu.read32(virAddr(0x10)), cpu.faultAddr, cpu.write32(virAddr(a + 1), 1));
    });
    expect(out).toEqual([CPU_OK, 0xdeadbeef, 0xef, 0xbe, 0xad, 0xde, CPU_FAULT, 0x10, CPU_FAULT]);
  });

  test("small copies (words or bytes, one page) read and write what the general copy does", () => {
    const out: (number | boolean)[] = [];
    runInProcess((ctx) => {
      const cpu = ctx.cpu;
      // A page boundary inside the heap: the last 64 bytes before it and across it.
      const page = (ctx.heapBase + 0x1fff) & ~0xfff;
      const src = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
      const back = new Uint8Array(68);
      const bytesOf = (b: Uint8Array): number[] => [...b];
      for (const at of [page - 64, page - 32, page + 4, page - 41, page + 3]) {
        for (const n of [1, 4, 8, 10, 12, 40, 41, 64]) {
          back.fill(0);
          out.push(cpu.write(virAddr(at), src.subarray(0, n)) === CPU_OK);
          // Into a word-aligned view and an unaligned one: both agree with what was written.
          out.push(cpu.read(virAddr(at), back.subarray(0, n)) === CPU_OK);
          out.push(cpu.read(virAddr(at), back.subarray(1, n + 1)) === CPU_OK);
          const viaWords = new Uint8Array(n);
          cpu.read(virAddr(at), viaWords);
          out.push(
            JSON.stringify(bytesOf(viaWords)) === JSON.stringify(bytesOf(src.subarray(0, n))),
            JSON.stringify(bytesOf(back.subarray(1, n + 1))) ===
              JSON.stringify(bytesOf(src.subarray(0, n))),
          );
        }
      }
      // Faults name the address and direction, whichever path is taken.
      const buf = new Uint8Array(64);
      out.push(cpu.read(virAddr(0x10), buf), cpu.faultAddr, cpu.faultWrite);
      out.push(cpu.write(virAddr(0x20), buf), cpu.faultAddr, cpu.faultWrite);
      // Addresses outside the 32-bit space never reach the page tables.
      out.push(cpu.read((page - 0x1_0000_0000) as never, buf), cpu.faultAddr === page);
    });
    const copies = out.slice(0, 5 * 8 * 5);
    expect(copies.every((x) => x === true)).toBe(true);
    expect(out.slice(5 * 8 * 5)).toEqual([
      CPU_FAULT,
      0x10,
      false,
      CPU_FAULT,
      0x20,
      true,
      CPU_FAULT,
      true,
    ]);
  });

  test("word copies agree with byte copies: one page, across pages, unaligned, and faults", () => {
    const out: unknown[] = [];
    runInProcess((ctx) => {
      const cpu = ctx.cpu;
      const page = (ctx.heapBase + 0x1fff) & ~0xfff;
      const words = new Uint32Array(16).map((_, i) => (0x9e3779b9 * (i + 1)) >>> 0);
      for (const at of [page - 64, page - 32, page + 2, page - 41]) {
        for (const n of [1, 3, 16]) {
          const src = words.subarray(0, n);
          out.push(cpu.writeWords(virAddr(at), src));
          const bytes = new Uint8Array(4 * n);
          cpu.read(virAddr(at), bytes);
          out.push([...bytes].join() === [...new Uint8Array(src.slice().buffer)].join());
          const back = new Uint32Array(n);
          out.push(cpu.readWords(virAddr(at), back), back.join() === src.join());
        }
      }
      out.push(cpu.readWords(virAddr(0x40), words), cpu.faultAddr, cpu.faultWrite);
      out.push(cpu.writeWords(virAddr(0x80), words), cpu.faultAddr, cpu.faultWrite);
    });
    const copies = out.slice(0, 4 * 3 * 4);
    expect(copies).toEqual(
      Array.from({ length: 4 * 3 }, () => [CPU_OK, true, CPU_OK, true]).flat(),
    );
    expect(out.slice(4 * 3 * 4)).toEqual([CPU_FAULT, 0x40, false, CPU_FAULT, 0x80, true]);
  });
});
