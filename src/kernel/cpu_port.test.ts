import { describe, expect, test } from "vitest";
import { CPU_FAULT, CPU_OK, type ProcessContext } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import { Machine, type Syscall } from "../../test/system_harness.ts";

describe("UserCpuPort", () => {
  test("word loads and stores go through the page tables; faults report the address", () => {
    const out: number[] = [];
    const m = Machine.boot({
      image: [
        {
          name: "p",
          // eslint-disable-next-line require-yield
          program: function* (ctx: ProcessContext): Syscall {
            const cpu = ctx.cpu;
            const a = virAddr(ctx.heapBase + 8);
            out.push(cpu.write32(a, 0xdeadbeef), cpu.read32(a));
            const bytes = new Uint8Array(4);
            cpu.read(a, bytes);
            out.push(...bytes);
            out.push(cpu.read32(virAddr(0x10)), cpu.faultAddr, cpu.write32(virAddr(a + 1), 1));
            return 0;
          },
        },
      ],
    });
    m.runUntilIdle();
    expect(out).toEqual([CPU_OK, 0xdeadbeef, 0xef, 0xbe, 0xad, 0xde, CPU_FAULT, 0x10, CPU_FAULT]);
  });
});
