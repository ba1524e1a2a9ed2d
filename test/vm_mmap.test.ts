/**
 * minix_mmap, minix_munmap and brk served by the VM server (issue 3): placement, demand-zero
 * touches, partial unmaps that split a mapping, MAP_FIXED, bad requests, the heap, and a
 * random workload whose frames all come back. VM checks its invariants after every request
 * (vmSanity) and the kernel its own after every step; a broken VM invariant would crash VM,
 * so each scenario also checks that VM is still there.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { BootImageEntry } from "../src/boot/image.ts";
import { VM_PROC_NR } from "../src/include/endpoint.ts";
import { EFAULT, EINVAL, ENOMEM, ENOSYS, OK } from "../src/include/errno.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import {
  MAP_ANON,
  MAP_FAILED,
  MAP_FIXED,
  MAP_IPC_SHARED,
  MAP_PREALLOC,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  VM_RQ_BASE,
  VM_USER_TOP,
} from "../src/include/vm.ts";
import { sendrec, type Syscall } from "../src/lib/ipc.ts";
import { brk, minixMmap, minixMunmap, sbrk, vmInfo } from "../src/lib/libc/mmap.ts";
import { lib } from "../src/lib/runtime.ts";
import { bootVm as boot, exits, peek, poke, runVm as run } from "./fixtures/vm.ts";

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_ANON | MAP_PRIVATE;

function app(program: (ctx: ProcessContext) => Syscall): BootImageEntry {
  return { name: "app", slot: 11, program };
}

describe("minix_mmap / minix_munmap", () => {
  test("anonymous memory: placed in a free range, demand-zero; a munmapped middle page is gone", () => {
    const log: (string | number)[] = [];
    let addr = 0;
    const { m, ev } = boot([
      app(function* (ctx) {
        const r = yield* minixMmap(ctx, { len: 3 * PAGE, prot: RW, flags: ANON });
        addr = r.addr;
        log.push(r.status);
        for (let i = 0; i < 3; i++) log.push(yield* peek(ctx, addr + i * PAGE + 5));
        for (let i = 0; i < 3; i++) yield* poke(ctx, addr + i * PAGE + 5, 10 + i);
        log.push(yield* minixMunmap(ctx, addr + PAGE, PAGE));
        log.push(yield* peek(ctx, addr + 5), yield* peek(ctx, addr + 2 * PAGE + 5));
        log.push("middle");
        log.push(yield* peek(ctx, addr + PAGE + 5)); // never returns
        return 0;
      }),
    ]);
    run(m);
    expect(addr % PAGE).toBe(0);
    expect(addr).toBeGreaterThanOrEqual(0x40_0000 + 16 * PAGE); // above the data area
    expect(addr + 3 * PAGE).toBeLessThanOrEqual(VM_USER_TOP);
    expect(log).toEqual([OK, 0, 0, 0, OK, 10, 12, "middle"]);
    expect(exits(ev)).toEqual(["11:signal 11"]);
    const faults = ev.flatMap((e) => (e.kind === "fault" && e.ep === 11 ? [e.addr >>> 12] : []));
    expect(faults).toContain((addr + PAGE) >>> 12);
  });

  test("MAP_FIXED maps at the address if free; over a mapping it fails with ENOMEM", () => {
    const log: number[] = [];
    const { m, ev } = boot([
      app(function* (ctx) {
        const fixed = ANON | MAP_FIXED;
        const a = yield* minixMmap(ctx, {
          addr: 0x2000_0000,
          len: 2 * PAGE,
          prot: RW,
          flags: fixed,
        });
        log.push(a.status, a.addr);
        yield* poke(ctx, 0x2000_1000, 7);
        const b = yield* minixMmap(ctx, { addr: 0x2000_1000, len: PAGE, prot: RW, flags: fixed });
        log.push(b.status, b.addr);
        log.push(yield* peek(ctx, 0x2000_1000)); // the old mapping is intact
        // Without MAP_FIXED an occupied hint just means "somewhere else".
        const c = yield* minixMmap(ctx, { addr: 0x2000_0000, len: PAGE, prot: RW, flags: ANON });
        log.push(c.status, c.addr === 0x2000_0000 ? 1 : 0);
        return 0;
      }),
    ]);
    run(m);
    expect(log).toEqual([OK, 0x2000_0000, ENOMEM, MAP_FAILED, 7, OK, 0]);
    expect(exits(ev)).toEqual(["11:exit"]);
  });

  test("bad requests are refused and VM keeps serving", () => {
    const log: number[] = [];
    const { m, ev } = boot([
      app(function* (ctx) {
        const mm = function* (req: Parameters<typeof minixMmap>[1]): Syscall {
          return (yield* minixMmap(ctx, req)).status;
        };
        log.push(yield* mm({ len: 0, prot: RW, flags: ANON }));
        log.push(yield* mm({ len: PAGE, prot: RW, flags: ANON | 0x0001 }));
        log.push(yield* mm({ len: PAGE, prot: 0x10, flags: ANON }));
        log.push(yield* mm({ addr: 0x3000_0123, len: PAGE, prot: RW, flags: ANON | MAP_FIXED }));
        log.push(yield* mm({ len: 0xffff_f000, prot: RW, flags: ANON }));
        log.push(yield* mm({ len: PAGE, prot: RW, flags: ANON | MAP_IPC_SHARED }));
        log.push(yield* mm({ len: PAGE, prot: RW, flags: MAP_PRIVATE, fd: 3 }));
        log.push(yield* minixMunmap(ctx, 0x3000_0000, PAGE));
        log.push(yield* minixMunmap(ctx, 0x3000_0004, PAGE));
        log.push(yield* brk(ctx, 0x1000));
        // An unknown request number (VM_PUSH_SIG, not served) is answered ENOSYS.
        const um = lib(ctx).scratch;
        um.m.clear();
        um.m.type = VM_RQ_BASE + 4;
        yield* um.put();
        yield* sendrec(VM_PROC_NR, um.va);
        log.push((yield* um.get()).type);
        // Still serving.
        const ok = yield* minixMmap(ctx, {
          len: 2 * PAGE,
          prot: RW,
          flags: ANON | MAP_PREALLOC | MAP_IPC_SHARED,
        });
        log.push(ok.status);
        yield* poke(ctx, ok.addr + PAGE, 1);
        log.push(yield* peek(ctx, ok.addr + PAGE));
        return 0;
      }),
    ]);
    run(m);
    expect(log).toEqual([
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      ENOMEM,
      EINVAL,
      ENOSYS,
      EFAULT,
      EINVAL,
      EINVAL,
      ENOSYS,
      OK,
      1,
    ]);
    expect(exits(ev)).toEqual(["11:exit"]);
  });

  test("a read-only mapping reads as zeros; a write to it ends the process", () => {
    const log: number[] = [];
    const { m, ev } = boot([
      app(function* (ctx) {
        const r = yield* minixMmap(ctx, { len: PAGE, prot: PROT_READ, flags: ANON });
        log.push(r.status, yield* peek(ctx, r.addr + 100));
        yield* poke(ctx, r.addr, 1);
        log.push(-1);
        return 0;
      }),
    ]);
    run(m);
    expect(log).toEqual([OK, 0]);
    expect(exits(ev)).toEqual(["11:signal 11"]);
  });
});

describe("brk", () => {
  test("growing the heap makes pages usable; shrinking takes them away", () => {
    const log: (string | number)[] = [];
    let heap = 0;
    const { m, ev } = boot([
      app(function* (ctx) {
        heap = ctx.heapBase + ctx.heapSize;
        const s = yield* sbrk(ctx, 3 * PAGE);
        log.push(s.status, s.addr === heap ? "old break" : s.addr);
        yield* poke(ctx, heap + 2 * PAGE + 9, 42);
        log.push(yield* peek(ctx, heap + 2 * PAGE + 9), yield* peek(ctx, heap));
        log.push(yield* brk(ctx, heap + PAGE));
        log.push(yield* peek(ctx, heap)); // still there
        const t = yield* sbrk(ctx, 0);
        log.push(t.addr === heap + PAGE ? "new break" : t.addr);
        log.push("cut");
        log.push(yield* peek(ctx, heap + 2 * PAGE + 9)); // never returns
        return 0;
      }),
    ]);
    run(m);
    expect(log).toEqual([OK, "old break", 42, 0, OK, 0, "new break", "cut"]);
    expect(exits(ev)).toEqual(["11:signal 11"]);
  });

  test("the heap cannot grow into a mapping", () => {
    const log: number[] = [];
    const { m } = boot([
      app(function* (ctx) {
        const heap = ctx.heapBase + ctx.heapSize;
        const fixed = ANON | MAP_FIXED;
        log.push(
          (yield* minixMmap(ctx, { addr: heap + 2 * PAGE, len: PAGE, prot: RW, flags: fixed }))
            .status,
        );
        log.push(yield* brk(ctx, heap + 2 * PAGE));
        log.push(yield* brk(ctx, heap + 2 * PAGE + 1));
        log.push(yield* brk(ctx, heap - 1));
        return 0;
      }),
    ]);
    run(m);
    expect(log).toEqual([OK, OK, ENOMEM, EINVAL]);
  });
});

type Op =
  | { kind: "mmap"; pages: number; fixed: number | null; prealloc: boolean }
  | { kind: "munmap"; pick: number; off: number; pages: number }
  | { kind: "touch"; pick: number; value: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("mmap" as const),
    pages: fc.integer({ min: 1, max: 8 }),
    fixed: fc.option(fc.integer({ min: 0, max: 32 })),
    prealloc: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("munmap" as const),
    pick: fc.nat(),
    off: fc.nat(),
    pages: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant("touch" as const),
    pick: fc.nat(),
    value: fc.integer({ min: 1, max: 255 }),
  }),
);

describe("property", () => {
  test("random mmap/munmap/touch in 2 MiB: contents as modelled, every frame comes back", () => {
    const WINDOW = 0x1000_0000;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const problems: string[] = [];
        const info: { free: number; tables: number; pages: number; regions: number }[] = [];
        const { m, ev } = boot(
          [
            app(function* (ctx) {
              const snap = function* (): Syscall<void> {
                const i = yield* vmInfo(ctx);
                if (i.status !== OK) problems.push(`info ${i.status}`);
                info.push({
                  free: i.freeFrames,
                  tables: i.tableFrames,
                  pages: i.pages,
                  regions: i.regions,
                });
              };
              yield* snap();
              /** Model: mapped page → the byte last written at its start (0: none). */
              const model = new Map<number, number>();
              const sorted = (): number[] => [...model.keys()].sort((a, b) => a - b);
              for (const op of ops) {
                if (op.kind === "mmap") {
                  const addr = op.fixed === null ? 0 : WINDOW + op.fixed * PAGE;
                  const flags =
                    ANON | (op.fixed === null ? 0 : MAP_FIXED) | (op.prealloc ? MAP_PREALLOC : 0);
                  const r = yield* minixMmap(ctx, { addr, len: op.pages * PAGE, prot: RW, flags });
                  const base = op.fixed === null ? r.addr : addr;
                  const want = Array.from({ length: op.pages }, (_, i) => base + i * PAGE);
                  const clash = op.fixed !== null && want.some((p) => model.has(p));
                  const expected = clash ? ENOMEM : OK;
                  if (r.status !== expected && !(op.prealloc && r.status === ENOMEM)) {
                    problems.push(`mmap ${JSON.stringify(op)}: ${r.status}`);
                  }
                  if (r.status === OK) {
                    if (base % PAGE !== 0 || want.some((p) => model.has(p))) {
                      problems.push(`mmap ${JSON.stringify(op)} placed at ${base}`);
                    }
                    for (const p of want) model.set(p, 0);
                  }
                } else if (op.kind === "munmap") {
                  const all = sorted();
                  if (all.length === 0) continue;
                  const at = all[op.pick % all.length]! + (op.off % 3) * PAGE;
                  const r = yield* minixMunmap(ctx, at, op.pages * PAGE);
                  if (r === OK) for (let i = 0; i < op.pages; i++) model.delete(at + i * PAGE);
                  else if (r !== EFAULT) problems.push(`munmap ${at}: ${r}`);
                } else {
                  const all = sorted();
                  if (all.length === 0) continue;
                  const p = all[op.pick % all.length]!;
                  const got = yield* peek(ctx, p);
                  if (got !== model.get(p)) problems.push(`page ${p}: ${got} not ${model.get(p)}`);
                  yield* poke(ctx, p, op.value);
                  model.set(p, op.value);
                }
              }
              // Unmap whatever is left, page by page.
              for (const p of sorted()) {
                const r = yield* minixMunmap(ctx, p, PAGE);
                if (r !== OK) problems.push(`final munmap ${p}: ${r}`);
              }
              yield* snap();
              return 0;
            }),
          ],
          2 << 20,
        );
        run(m, 500_000);
        expect(problems).toEqual([]);
        expect(exits(ev)).toEqual(["11:exit"]);
        const [first, last] = [info[0]!, info[1]!];
        // Every frame is back, except page tables, which stay until the process is gone.
        expect(last.free + (last.tables - first.tables)).toBe(first.free);
        expect([last.pages, last.regions]).toEqual([first.pages, first.regions]);
      }),
      { numRuns: 40, seed: 3 },
    );
  });
});
