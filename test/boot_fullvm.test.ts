import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { DATA_BASE } from "../src/boot/loader.ts";
import { initEntry, pmEntry } from "../src/boot/services.ts";
import { RS_PROC_NR } from "../src/include/endpoint.ts";
import { PROC_FULLVM, PROC_ROOT } from "../src/include/kcall.ts";
import type { PhysAddr } from "../src/include/types.ts";
import { BIG_PAGE_SIZE, PTE_G, PTE_PS } from "../src/hw/mmu.ts";
import { sefReceive, sefStartup } from "../src/lib/sef.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { recordEvents } from "./system_harness.ts";
import { CRASH_THROW, driverEntry, ECHO, ECHO_LAYOUT, rsImage, runUntil } from "./fixtures/rs.ts";
import { rsLookup } from "../src/lib/rs.ts";
import { sendrec } from "../src/lib/ipc.ts";
import type { Endpoint } from "../src/include/endpoint.ts";
import { OK } from "../src/include/errno.ts";

/** A system service without PROC_FULLVM: it shares RS's mapping. */
const sharer: BootImageEntry = {
  name: "sharer",
  slot: 13,
  fullvm: false,
  dataPages: 4,
  program: function* (ctx) {
    yield* sefStartup(ctx);
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    for (;;) yield* sefReceive(ctx, um, { value: 0 });
  },
};

function boot(extra: readonly BootImageEntry[], vmSanity = false): Machine {
  return Machine.boot({
    memoryBytes: 32 << 20,
    nrProcs: 64,
    vmSanity,
    image: rsImage([pmEntry, initEntry(), ...extra]),
  });
}

describe("PROC_FULLVM and the shared mapping", () => {
  test("processes without PROC_FULLVM share one directory: a global 4 MiB page at DATA_BASE", () => {
    const m = boot([driverEntry(), sharer]);
    const k = m.kernel;
    const rs = k.procAddr(RS_PROC_NR)!;
    const sh = k.procAddr(13)!;
    const drv = k.procAddr(11)!;
    expect(sh.cr3).toBe(rs.cr3);
    expect(drv.cr3).not.toBe(rs.cr3);
    const flags = Object.fromEntries(k.image.map((e) => [e.name, e.flags]));
    expect(flags).toMatchObject({ rs: PROC_ROOT, vm: 0, sharer: 0, driver: PROC_FULLVM });
    // The directory's only entry: physical [0, 4 MiB) as one global big page at DATA_BASE.
    const dir = rs.cr3;
    for (let i = 0; i < 1024; i++) {
      const pde = m.hw.mem.read32((dir + i * 4) as PhysAddr);
      if (i === DATA_BASE / BIG_PAGE_SIZE) expect(pde & (PTE_PS | PTE_G)).toBe(PTE_PS | PTE_G);
      else expect(pde).toBe(0);
    }
    // Each has its data at its own addresses in it.
    const rsHeap = rs.context!.heapBase;
    const shHeap = sh.context!.heapBase;
    expect(rsHeap).not.toBe(shHeap);
    for (const va of [rsHeap, shHeap]) {
      expect(m.hw.mmu.translate(dir, va, true, true)).toBe(va - DATA_BASE);
    }
  });

  test("switching between them needs no page-table switch; their TLB entries are global", () => {
    const m = boot([sharer]);
    const k = m.kernel;
    const rs = k.procAddr(RS_PROC_NR)!;
    const shared = rs.cr3;
    const switches = recordEvents(m, "switch");
    const cr3Of: number[] = [];
    m.onEvent((e) => {
      if (e.kind === "switch") cr3Of.push(k.isokendpt(e.ep)?.cr3 ?? -1);
    });
    m.runUntilIdle(200_000);
    expect(m.halted).toBeNull();
    // RS hands over to the sharer (and back) without loading another page directory.
    let sameSpace = 0;
    for (let i = 1; i < cr3Of.length; i++) {
      if (
        cr3Of[i] === shared &&
        cr3Of[i - 1] === shared &&
        switches[i]!.ep !== switches[i - 1]!.ep
      ) {
        sameSpace++;
      }
    }
    expect(sameSpace).toBeGreaterThan(0);
    // A CR3 reload (flush of that address space) keeps global entries: with the directory
    // entry cleared behind the TLB's back, the cached global translation still answers.
    const va = rs.context!.heapBase;
    const pa = m.hw.mmu.translate(shared, va, false, true);
    const pdeAddr = (shared + (DATA_BASE / BIG_PAGE_SIZE) * 4) as PhysAddr;
    const pde = m.hw.mem.read32(pdeAddr);
    m.hw.mem.write32(pdeAddr, 0);
    m.hw.mmu.flushTlb(shared);
    expect(m.hw.mmu.translate(shared, va, false, true)).toBe(pa);
    m.hw.mmu.flushTlb();
    expect(m.hw.mmu.translate(shared, va, false, true)).toBeLessThan(0);
    m.hw.mem.write32(pdeAddr, pde);
  });

  test("a fork of RS gives the child its own space: restarts work with VM's sanity checks on", () => {
    const replies: number[] = [];
    const client: BootImageEntry = {
      name: "client",
      slot: 12,
      priv: "user",
      program: function* (ctx) {
        const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
        for (const op of [ECHO, CRASH_THROW, ECHO]) {
          for (let tries = 0; tries < 100_000; tries++) {
            const ep = yield* rsLookup(ctx, "driver");
            if (ep < 0) continue;
            um.m.set(op, ECHO_LAYOUT, { value: 7, incarnation: 0 });
            yield* um.put();
            const r = yield* sendrec(ep as Endpoint, um.va);
            if (op !== ECHO) break;
            const m = yield* um.get();
            if (r === OK && m.type === OK) {
              replies.push(m.get(ECHO_LAYOUT).incarnation);
              break;
            }
          }
        }
        return 0;
      },
    };
    const m = boot([driverEntry(), client], true);
    runUntil(m, () => replies.length === 2);
    expect(m.halted).toBeNull();
    m.check();
    expect(replies).toEqual([0, 2]);
    // The restarted driver is RS's child with a page table of its own.
    const drv = m.kernel.procs.find((p) => !p.isFree && p.name === "driver");
    expect(drv).toBeDefined();
    expect(drv!.endpoint).not.toBe(11);
    expect(drv!.cr3).not.toBe(m.kernel.procAddr(RS_PROC_NR)!.cr3);
  });
});
