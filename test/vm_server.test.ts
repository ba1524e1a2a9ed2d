/**
 * The VM server as a process (issue 3, first part): demand-zero paging of boot processes,
 * faults VM cannot resolve, the kernel's memory requests, forged page-fault messages.
 * VM's sanity checks run after every request and the kernel's after every step.
 */
import { describe, expect, test } from "vitest";
import { VM_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import { EPERM, OK } from "../src/include/errno.ts";
import { GET_KINFO, KINFO_SIZE } from "../src/include/kcall.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import { VM_PAGEFAULT, VM_PAGEFAULT_LAYOUT } from "../src/include/vm.ts";
import { receive, sendrec, type Syscall } from "../src/lib/ipc.ts";
import { sysGetinfo } from "../src/lib/libsys/sys_getinfo.ts";
import { load, store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { bootVm as boot, exits, runVm as run } from "./fixtures/vm.ts";

const PAGE = 4096;

/** Stays alive, blocked in RECEIVE on a page it touched once. */
function* park(ctx: ProcessContext): Syscall {
  const buf = malloc(ctx, 64, 64);
  for (;;) yield* receive(VM_PROC_NR, buf);
}

describe("VM server", () => {
  test("the first touch of a data page maps a zeroed page; untouched pages read as zero", () => {
    const seen: number[][] = [];
    const { m, ev: events } = boot([
      {
        name: "app",
        slot: 11,
        dataPages: 8,
        program: function* (ctx) {
          const a = virAddr(ctx.heapBase + 3 * PAGE + 100);
          yield* store(ctx, a, Uint8Array.of(1, 2, 3));
          const back = new Uint8Array(4);
          yield* load(ctx, a, back);
          seen.push([...back]);
          const other = new Uint8Array(8);
          yield* load(ctx, virAddr(ctx.heapBase + 5 * PAGE), other);
          seen.push([...other]);
          return 0;
        },
      },
    ]);
    run(m);
    expect(seen).toEqual([
      [1, 2, 3, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    const faults = events.filter((e) => e.kind === "fault" && e.ep === 11);
    expect(faults.map((e) => (e.kind === "fault" ? e.addr >>> 12 : 0))).toEqual([
      (0x400000 + 3 * PAGE) >>> 12,
      (0x400000 + 5 * PAGE) >>> 12,
    ]);
    expect(exits(events)).toEqual(["11:exit"]);
    const vm = m.snapshot().vm;
    expect(vm?.faults).toBe(2);
    expect(vm !== undefined && vm.framesFree + vm.framesUsed).toBe(vm?.framesTotal);
    expect(vm?.cowCopies).toBe(0);
  });

  test("a touch outside every region ends only that process, with SIGSEGV", () => {
    const after: number[] = [];
    const { m, ev: events } = boot([
      {
        name: "bad",
        slot: 11,
        program: function* (ctx) {
          yield* store(ctx, virAddr(0x1000_0000), Uint8Array.of(1));
          return 0;
        },
      },
      {
        name: "good",
        slot: 12,
        program: function* (ctx) {
          const a = virAddr(ctx.heapBase);
          yield* store(ctx, a, Uint8Array.of(9));
          const b = new Uint8Array(1);
          yield* load(ctx, a, b);
          after.push(b[0]!);
          return 0;
        },
      },
    ]);
    run(m);
    expect(exits(events).sort()).toEqual(["11:signal 11", "12:exit"]);
    expect(after).toEqual([9]);
    expect(m.snapshot().procs.find((p) => p.slot === VM_PROC_NR)?.rts).toBe("RECEIVING");
  });

  test("running out of memory during a fault ends the process; its frames come back", () => {
    let touched = 0;
    const got: number[] = [];
    const { m, ev: events } = boot(
      [
        {
          name: "hog",
          slot: 11,
          dataPages: 1024,
          program: function* (ctx) {
            for (let i = 0; i < 1024; i++) {
              yield* store(ctx, virAddr(ctx.heapBase + i * PAGE), Uint8Array.of(1));
              touched++;
            }
            return 0;
          },
        },
        {
          name: "later",
          slot: 12,
          dataPages: 64,
          program: function* (ctx) {
            const buf = malloc(ctx, 64, 64);
            // Wait until the hog is gone (its exit is what wakes us: a notification).
            yield* receive(11 as Endpoint, buf);
            // Recycled frames (the hog wrote 1 into each) must come back zeroed.
            let zeros = 0;
            const b = new Uint8Array(1);
            for (let i = 0; i < 64; i++) {
              const va = virAddr(ctx.heapBase + i * PAGE);
              yield* load(ctx, va, b);
              if (b[0] === 0) zeros++;
              yield* store(ctx, va, Uint8Array.of(2));
            }
            got.push(zeros);
            return 0;
          },
        },
      ],
      2 << 20,
    );
    run(m);
    expect(touched).toBeGreaterThan(100);
    expect(touched).toBeLessThan(512);
    expect(exits(events)).toContain("11:signal 11");
    expect(got).toEqual([64]);
  });

  test("a kernel call whose buffer is not yet present completes after the MEMREQ flow", () => {
    const out: number[] = [];
    const { m, ev: events } = boot([
      {
        name: "app",
        slot: 11,
        program: function* (ctx) {
          const buf = virAddr(ctx.heapBase + 6 * PAGE);
          out.push(yield* sysGetinfo(ctx, GET_KINFO, buf, KINFO_SIZE));
          const bytes = new Uint8Array(KINFO_SIZE);
          yield* load(ctx, buf, bytes);
          out.push(new DataView(bytes.buffer).getUint32(0, true));
          return 0;
        },
      },
    ]);
    run(m);
    expect(out).toEqual([OK, 256]);
    expect(events.some((e) => e.kind === "vmreq" && e.ep === 11)).toBe(true);
  });

  test("a VM_PAGEFAULT that did not come from the kernel is refused", () => {
    const types: number[] = [];
    const { m } = boot([
      {
        name: "forger",
        slot: 11,
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, 64, 64));
          um.m.set(VM_PAGEFAULT, VM_PAGEFAULT_LAYOUT, { addr: virAddr(0x400000), flags: 1 });
          yield* um.put();
          const r = yield* sendrec(VM_PROC_NR, um.va);
          types.push(r, (yield* um.get()).type);
          return 0;
        },
      },
      { name: "idle", slot: 12, program: park },
    ]);
    run(m);
    expect(types).toEqual([OK, EPERM]);
  });
});
