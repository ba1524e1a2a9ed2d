/**
 * Frame reference counts, shared memory (VM_REMAP, VM_SHM_UNMAP, VM_GETPHYS, VM_GETREF),
 * VM_EXIT and VM's access control (issue 3). A privileged "driver" in PM's slot plays PM and
 * the IPC server; "workers" touch, map and unmap their own memory on its command. VM checks
 * its invariants (refcounts included) after every request, the kernel its own after every
 * step, and every scenario ends with VM still running.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { BootImageEntry } from "../src/boot/image.ts";
import {
  INIT_PROC_NR,
  NONE,
  PM_PROC_NR,
  RS_PROC_NR,
  VM_PROC_NR,
  type Endpoint,
} from "../src/include/endpoint.ts";
import { EDEADSRCDST, EFAULT, EINVAL, ENOMEM, EPERM, OK } from "../src/include/errno.ts";
import { defineLayout } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import {
  MAP_ANON,
  MAP_IPC_SHARED,
  MAP_PREALLOC,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from "../src/include/vm.ts";
import { receive, send, sendrec, type Syscall } from "../src/lib/ipc.ts";
import { minixMmap, minixMunmap, vmInfo } from "../src/lib/libc/mmap.ts";
import {
  vmExit,
  vmGetphys,
  vmGetref,
  vmRemap,
  vmSetPriv,
  vmShmUnmap,
} from "../src/lib/libc/vm_ipc.ts";
import { load, store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { bootVm as boot, exits, runVm as run } from "./fixtures/vm.ts";

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_ANON | MAP_PRIVATE;
const DRIVER = PM_PROC_NR;
const A = 11 as Endpoint;
const B = 12 as Endpoint;
const C = 13 as Endpoint;

// --- Workers: do what the driver asks in their own address space. ---

const W_TOUCH = 1; // read the byte at addr (reply value), then write `value` unless it is NOWRITE
const W_MMAP = 2; // minix_mmap(len, RW, flags): reply status, addr
const W_MUNMAP = 3; // minix_munmap(addr, len): reply status
const W_EXIT = 4; // return (the driver's SENDREC fails with EDEADSRCDST)
const NOWRITE = 0xffff_ffff;
const CMD = defineLayout({ addr: "vir", len: "u32", value: "u32", flags: "i32" });
const ANSWER = defineLayout({ status: "i32", addr: "vir", value: "u32" });

function* worker(ctx: ProcessContext): Syscall {
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  for (;;) {
    if ((yield* receive(DRIVER, um.va)) !== OK) return 0; // the driver is gone
    const m = yield* um.get();
    const op = m.type;
    const c = m.get(CMD);
    let answer = { status: OK, addr: virAddr(0), value: 0 };
    if (op === W_TOUCH) {
      const b = new Uint8Array(1);
      yield* load(ctx, c.addr, b);
      if (c.value !== NOWRITE) yield* store(ctx, c.addr, Uint8Array.of(c.value));
      answer.value = b[0]!;
    } else if (op === W_MMAP) {
      const r = yield* minixMmap(ctx, { len: c.len, prot: RW, flags: c.flags });
      answer = { ...answer, status: r.status, addr: r.addr };
    } else if (op === W_MUNMAP) {
      answer.status = yield* minixMunmap(ctx, c.addr, c.len);
    } else if (op === W_EXIT) {
      return 0;
    }
    um.m.set(0, ANSWER, answer);
    yield* um.put();
    yield* send(DRIVER, um.va);
  }
}

function workerEntry(slot: Endpoint, dataPages = 4): BootImageEntry {
  return { name: `w${slot}`, slot, dataPages, program: worker };
}

/** The driver's side: one command to a worker, its answer (status EDEADSRCDST if it died). */
class Driver {
  readonly ctx: ProcessContext;
  readonly um: UMessage;
  constructor(ctx: ProcessContext) {
    this.ctx = ctx;
    this.um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  }

  *cmd(
    ep: Endpoint,
    op: number,
    c: { addr?: number; len?: number; value?: number; flags?: number },
  ): Syscall<{ status: number; addr: number; value: number }> {
    this.um.m.set(op, CMD, {
      addr: virAddr(c.addr ?? 0),
      len: c.len ?? 0,
      value: c.value ?? 0,
      flags: c.flags ?? 0,
    });
    yield* this.um.put();
    const r = yield* sendrec(ep, this.um.va);
    if (r !== OK) return { status: r, addr: 0, value: 0 };
    const a = (yield* this.um.get()).get(ANSWER);
    return { status: a.status, addr: a.addr, value: a.value };
  }

  *touch(ep: Endpoint, addr: number, value = NOWRITE): Syscall {
    const r = yield* this.cmd(ep, W_TOUCH, { addr, value });
    return r.status === OK ? r.value : r.status;
  }

  *mmap(ep: Endpoint, len: number, flags = ANON): Syscall<{ status: number; addr: number }> {
    return yield* this.cmd(ep, W_MMAP, { len, flags });
  }

  *free(): Syscall {
    return (yield* vmInfo(this.ctx)).freeFrames;
  }

  /** Makes the driver's own pages present, so later VM_INFO counts only the workers. */
  *warmUp(): Syscall {
    yield* vmInfo(this.ctx);
    yield* this.um.put();
    return yield* this.free();
  }
}

function driverEntry(body: (d: Driver) => Syscall<void>, slot = DRIVER): BootImageEntry {
  return {
    name: "driver",
    slot,
    program: function* (ctx) {
      yield* body(new Driver(ctx));
      return 0;
    },
  };
}

describe("shared memory (VM_REMAP)", () => {
  test("a write through one mapping is seen through the other; unmapping one side keeps the other's data", () => {
    const log: (string | number)[] = [];
    const { m, ev } = boot([
      driverEntry(function* (d) {
        const a = yield* d.mmap(A, 2 * PAGE); // demand-zero: nothing present yet
        yield* d.touch(A, a.addr + 5, 0x11); // page 0 present, page 1 still absent
        const r = yield* vmRemap(d.ctx, B, A, 0, a.addr, 2 * PAGE);
        log.push(r.status);
        log.push(yield* d.touch(B, r.addr + 5, 0x22)); // A's byte, then B writes
        log.push(yield* d.touch(A, a.addr + 5)); // B's byte
        log.push(yield* d.touch(B, r.addr + PAGE + 7, 0x33)); // the page made present by remap
        log.push(yield* d.touch(A, a.addr + PAGE + 7));
        const pa = yield* vmGetphys(d.ctx, A, a.addr);
        const pb = yield* vmGetphys(d.ctx, B, r.addr);
        log.push(pa.status, pa.phys === pb.phys && pa.phys !== 0 ? "same frame" : "different");
        log.push("refs", (yield* vmGetref(d.ctx, A, a.addr)).count);
        log.push((yield* vmGetref(d.ctx, B, r.addr)).count);
        // A drops its side with munmap: the frames stay, B keeps the data.
        const before = yield* d.free();
        log.push((yield* d.cmd(A, W_MUNMAP, { addr: a.addr, len: 2 * PAGE })).status);
        log.push((yield* d.free()) - before);
        log.push(yield* d.touch(B, r.addr + 5), yield* d.touch(B, r.addr + PAGE + 7));
        log.push("refs", (yield* vmGetref(d.ctx, B, r.addr)).count);
        // B's side goes too: now both frames are free.
        log.push(yield* vmShmUnmap(d.ctx, B, r.addr));
        log.push((yield* d.free()) - before);
        log.push(yield* d.touch(B, r.addr)); // no region any more: B is killed
      }),
      workerEntry(A),
      workerEntry(B),
    ]);
    run(m);
    expect(log).toEqual([
      OK,
      0x11,
      0x22,
      0,
      0x33,
      OK,
      "same frame",
      "refs",
      2,
      2,
      OK,
      0,
      0x22,
      0x33,
      "refs",
      1,
      OK,
      2,
      EDEADSRCDST,
    ]);
    expect(exits(ev)).toEqual(["0:exit", "11:exit", "12:signal 11"]);
  });

  test("a MAP_IPC_SHARED segment shared three ways at a chosen address; each write seen by all", () => {
    const log: number[] = [];
    const { m } = boot([
      driverEntry(function* (d) {
        const seg = yield* d.mmap(A, 3 * PAGE, ANON | MAP_PREALLOC | MAP_IPC_SHARED);
        const fixed = yield* vmRemap(d.ctx, B, A, 0x3000_0000, seg.addr, 3 * PAGE - 100);
        log.push(fixed.status, fixed.addr);
        const c = yield* vmRemap(d.ctx, C, B, 0, fixed.addr, 3 * PAGE);
        log.push(c.status, (yield* vmGetref(d.ctx, C, c.addr)).count);
        yield* d.touch(C, c.addr + 2 * PAGE, 7);
        log.push(yield* d.touch(A, seg.addr + 2 * PAGE, 8));
        log.push(yield* d.touch(B, 0x3000_0000 + 2 * PAGE, 9));
        log.push(yield* d.touch(C, c.addr + 2 * PAGE));
        // A partial munmap of a shared region drops one page's reference only.
        log.push((yield* d.cmd(B, W_MUNMAP, { addr: 0x3000_0000, len: PAGE })).status);
        log.push((yield* vmGetref(d.ctx, A, seg.addr)).count);
        log.push((yield* vmGetref(d.ctx, B, 0x3000_1000)).count);
      }),
      workerEntry(A),
      workerEntry(B),
      workerEntry(C),
    ]);
    run(m);
    expect(log).toEqual([OK, 0x3000_0000, OK, 3, 7, 8, 9, OK, 2, 3]);
  });

  test("bad requests get EINVAL, EFAULT or ENOMEM and change nothing", () => {
    const log: number[] = [];
    let freeBefore = 0;
    let freeAfter = 0;
    const { m } = boot(
      [
        driverEntry(function* (d) {
          const a = yield* d.mmap(A, 2 * PAGE);
          yield* d.touch(A, a.addr, 1);
          const occupied = yield* d.cmd(B, W_MMAP, { len: PAGE, flags: ANON });
          freeBefore = yield* d.free();
          const remap = function* (
            dest: number,
            src: number,
            da: number,
            sa: number,
            size: number,
          ): Syscall {
            return (yield* vmRemap(d.ctx, dest as Endpoint, src as Endpoint, da, sa, size)).status;
          };
          log.push(yield* remap(99, A, 0, a.addr, 2 * PAGE)); // unknown destination
          log.push(yield* remap(B, NONE, 0, a.addr, 2 * PAGE)); // unknown source
          log.push(yield* remap(B, VM_PROC_NR, 0, 0x40_0000, PAGE)); // VM is nobody's source
          log.push(yield* remap(B, A, 0, a.addr + PAGE, PAGE)); // not a region start
          log.push(yield* remap(B, A, 0, a.addr + 1, PAGE)); // misaligned
          log.push(yield* remap(B, A, 0, a.addr, 0)); // size 0
          log.push(yield* remap(B, A, 0, a.addr, PAGE)); // not the whole region
          log.push(yield* remap(B, A, 0, a.addr, 0xffff_ffff)); // huge
          log.push(yield* remap(B, A, 0, 0x40_0000, 4 * PAGE)); // the data area
          log.push(yield* remap(B, A, 0x3000_0010, a.addr, 2 * PAGE)); // misaligned destination
          log.push(yield* remap(B, A, occupied.addr, a.addr, 2 * PAGE)); // taken
          log.push(yield* remap(B, A, 0xffff_f000, a.addr, 2 * PAGE)); // beyond user space
          log.push(yield* vmShmUnmap(d.ctx, A, a.addr)); // not shared
          log.push(yield* vmShmUnmap(d.ctx, 77 as Endpoint, a.addr));
          log.push((yield* vmGetref(d.ctx, A, a.addr)).status);
          log.push((yield* vmGetphys(d.ctx, A, 0x1234)).status);
          log.push(yield* vmExit(d.ctx, 99 as Endpoint));
          log.push(yield* vmExit(d.ctx, VM_PROC_NR));
          log.push(yield* vmSetPriv(d.ctx, 99 as Endpoint, true));
          freeAfter = yield* d.free();
          // Still serving, and A's page intact.
          log.push(yield* d.touch(A, a.addr));
        }),
        workerEntry(A),
        workerEntry(B),
      ],
      2 << 20,
    );
    run(m);
    expect(log).toEqual([
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EFAULT,
      EFAULT,
      EFAULT,
      EINVAL,
      EINVAL,
      EINVAL,
      EFAULT,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      1,
    ]);
    expect(freeAfter).toBe(freeBefore);
  });

  test("out of memory while making the source present: ENOMEM, and VM goes on", () => {
    const log: number[] = [];
    const { m } = boot(
      [
        driverEntry(function* (d) {
          const big = yield* d.mmap(A, 600 * PAGE); // more than 2 MiB, on demand
          log.push(big.status);
          log.push((yield* vmRemap(d.ctx, B, A, 0, big.addr, 600 * PAGE)).status);
          log.push((yield* d.cmd(A, W_MUNMAP, { addr: big.addr, len: 600 * PAGE })).status);
          const small = yield* d.mmap(A, 2 * PAGE);
          log.push((yield* vmRemap(d.ctx, B, A, 0, small.addr, 2 * PAGE)).status);
        }),
        workerEntry(A),
        workerEntry(B),
      ],
      2 << 20,
    );
    run(m);
    expect(log).toEqual([OK, ENOMEM, OK, OK]);
  });
});

describe("VM_EXIT", () => {
  test("frees every frame and page table; shared frames live while the other side maps them", () => {
    const log: (string | number)[] = [];
    const { m, ev } = boot([
      driverEntry(function* (d) {
        const base = yield* d.warmUp();
        const a = yield* d.mmap(A, 3 * PAGE);
        for (let i = 0; i < 3; i++) yield* d.touch(A, a.addr + i * PAGE, 40 + i);
        yield* d.touch(A, 0x40_0000 + 3 * PAGE, 1); // a data page too
        const b = yield* vmRemap(d.ctx, B, A, 0, a.addr, 3 * PAGE);
        yield* d.touch(B, b.addr + 10, 1);
        log.push((yield* d.cmd(A, W_EXIT, {})).status);
        const beforeExit = yield* d.free();
        log.push(yield* vmExit(d.ctx, A));
        // A's data page, its page table and its message page are back; the shared ones not.
        log.push((yield* d.free()) - beforeExit);
        log.push(yield* d.touch(B, b.addr + 2 * PAGE), (yield* vmGetref(d.ctx, B, b.addr)).count);
        log.push(yield* vmExit(d.ctx, A)); // already gone
        log.push((yield* d.cmd(B, W_EXIT, {})).status);
        log.push(yield* vmExit(d.ctx, B));
        log.push((yield* d.free()) - base);
      }),
      workerEntry(A),
      workerEntry(B),
    ]);
    run(m);
    // A's own frames: data page 3, its message page (data page 0) and two page tables (data
    // area, mmap area); the three shared pages stay with B.
    expect(log).toEqual([EDEADSRCDST, OK, 4, 42, 1, EINVAL, EDEADSRCDST, OK, 0]);
    expect(exits(ev)).toEqual(["0:exit", "11:exit", "12:exit"]);
  });

  test("a process whose memory VM_EXIT took while it was alive cannot use it; VM unharmed", () => {
    const log: number[] = [];
    const { m, ev } = boot([
      driverEntry(function* (d) {
        const a = yield* d.mmap(A, PAGE);
        yield* d.touch(A, a.addr, 5);
        log.push(yield* vmExit(d.ctx, A));
        log.push(yield* d.touch(A, a.addr));
      }),
      workerEntry(A),
    ]);
    run(m);
    expect(log).toEqual([OK, EDEADSRCDST]);
    // The message to A cannot even be delivered (its buffer page is gone), so A ends one way
    // or another; VM goes on.
    expect(exits(ev).map((e) => e.split(":")[0])).toEqual(["0", "11"]);
  });
});

describe("access control", () => {
  test("privileged calls need a system-server slot or a grant from one", () => {
    const user: (string | number)[] = [];
    const others: (string | number)[] = [];
    const { m } = boot([
      {
        name: "user",
        slot: 11,
        program: function* (ctx) {
          const seg = yield* minixMmap(ctx, { len: PAGE, prot: RW, flags: ANON });
          const self = 11 as Endpoint;
          user.push((yield* vmRemap(ctx, self, self, 0, seg.addr, PAGE)).status);
          user.push(yield* vmExit(ctx, 12 as Endpoint));
          user.push((yield* vmGetref(ctx, self, seg.addr)).status);
          user.push(yield* vmSetPriv(ctx, self, true));
          // Ask RS for the grant (RS answers once it is given).
          const buf = malloc(ctx, 64, 64);
          yield* sendrec(RS_PROC_NR, buf);
          const r = yield* vmRemap(ctx, self, self, 0, seg.addr, PAGE);
          user.push("granted", r.status, (yield* vmGetref(ctx, self, r.addr)).count);
          yield* sendrec(RS_PROC_NR, buf);
          user.push("withdrawn", (yield* vmGetref(ctx, self, r.addr)).status);
          return 0;
        },
      },
      {
        name: "init",
        slot: INIT_PROC_NR,
        program: function* (ctx) {
          others.push("init", yield* vmExit(ctx, 12 as Endpoint));
          return 0;
        },
      },
      {
        name: "rs",
        slot: RS_PROC_NR,
        program: function* (ctx) {
          const buf = malloc(ctx, 64, 64);
          yield* receive(11 as Endpoint, buf);
          const grant = yield* vmSetPriv(ctx, 11 as Endpoint, true);
          yield* send(11 as Endpoint, buf);
          yield* receive(11 as Endpoint, buf);
          const withdraw = yield* vmSetPriv(ctx, 11 as Endpoint, false);
          yield* send(11 as Endpoint, buf);
          others.push("rs", grant, withdraw);
          return 0;
        },
      },
    ]);
    run(m);
    expect(user).toEqual([EPERM, EPERM, EPERM, EPERM, "granted", OK, 2, "withdrawn", EPERM]);
    expect(others.sort()).toEqual(["init", EPERM, "rs", OK, OK].sort());
  });
});

type Op =
  | { kind: "mmap"; w: number; pages: number; flags: "demand" | "prealloc" | "shared" }
  | { kind: "munmap"; w: number; pick: number; off: number; pages: number }
  | { kind: "remap"; src: number; dst: number; pick: number; fixed: number | null }
  | { kind: "shmunmap"; w: number; pick: number }
  | { kind: "touch"; w: number; pick: number; value: number }
  | { kind: "exit"; w: number };

const W = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("mmap" as const),
      w: W,
      // Mostly small; now and then big enough to run 2 MiB out of frames.
      pages: fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: 1, max: 6 }) },
        { weight: 1, arbitrary: fc.integer({ min: 100, max: 450 }) },
      ),
      flags: fc.constantFrom("demand" as const, "prealloc" as const, "shared" as const),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("munmap" as const),
      w: W,
      pick: fc.nat(),
      off: fc.nat(),
      pages: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("remap" as const),
      src: W,
      dst: W,
      pick: fc.nat(),
      fixed: fc.option(fc.integer({ min: 0, max: 16 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("shmunmap" as const), w: W, pick: fc.nat() }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("touch" as const),
      w: W,
      pick: fc.nat(),
      value: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("exit" as const), w: W }) },
);

/** One byte cell of the model: every page mapping the same frame points at the same cell. */
interface Cell {
  value: number;
}
interface ModelRegion {
  start: number;
  pages: number;
  shared: boolean;
}

describe("property", () => {
  test("random mmap/munmap/remap/touch/exit over three processes in 2 MiB: data as modelled, every frame back", () => {
    const WORKERS = [A, B, C];
    const WINDOW = 0x2000_0000;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 50, size: "max" }), (ops) => {
        const problems: string[] = [];
        const freeCounts: number[] = [];
        const { m } = boot(
          [
            driverEntry(function* (d) {
              freeCounts.push(yield* d.warmUp());
              const alive = [true, true, true];
              /** Per worker: page → cell; regions (start → region). */
              const pages = WORKERS.map(() => new Map<number, Cell>());
              const regions = WORKERS.map(() => new Map<number, ModelRegion>());
              // The data area (4 pages at 4 MiB) is memory too; page 0 holds the message.
              for (let w = 0; w < 3; w++) {
                for (let i = 1; i < 4; i++) pages[w]!.set(0x40_0000 + i * PAGE, { value: 0 });
              }
              const listRegions = (w: number): ModelRegion[] =>
                [...regions[w]!.values()].sort((x, y) => x.start - y.start);
              const unmapModel = (w: number, start: number, n: number): void => {
                for (let i = 0; i < n; i++) pages[w]!.delete(start + i * PAGE);
                const stop = start + n * PAGE;
                for (const r of listRegions(w)) {
                  const end = r.start + r.pages * PAGE;
                  if (end <= start || r.start >= stop) continue;
                  regions[w]!.delete(r.start);
                  if (r.start < start) {
                    regions[w]!.set(r.start, { ...r, pages: (start - r.start) / PAGE });
                  }
                  if (end > stop)
                    regions[w]!.set(stop, { ...r, start: stop, pages: (end - stop) / PAGE });
                }
              };
              for (const op of ops) {
                if (op.kind === "exit") {
                  if (!alive[op.w]) continue;
                  const r = yield* d.cmd(WORKERS[op.w]!, W_EXIT, {});
                  if (r.status !== EDEADSRCDST) problems.push(`exit ${op.w}: ${r.status}`);
                  const x = yield* vmExit(d.ctx, WORKERS[op.w]!);
                  if (x !== OK) problems.push(`VM_EXIT ${op.w}: ${x}`);
                  alive[op.w] = false;
                  pages[op.w]!.clear();
                  regions[op.w]!.clear();
                  continue;
                }
                const w = op.kind === "remap" ? op.src : op.w;
                if (!alive[w]) continue;
                const ep = WORKERS[w]!;
                if (op.kind === "mmap") {
                  const flags =
                    op.flags === "demand"
                      ? ANON
                      : op.flags === "prealloc"
                        ? ANON | MAP_PREALLOC
                        : ANON | MAP_PREALLOC | MAP_IPC_SHARED;
                  const r = yield* d.mmap(ep, op.pages * PAGE, flags);
                  if (r.status === OK) {
                    regions[w]!.set(r.addr, {
                      start: r.addr,
                      pages: op.pages,
                      shared: op.flags === "shared",
                    });
                    for (let i = 0; i < op.pages; i++)
                      pages[w]!.set(r.addr + i * PAGE, { value: 0 });
                  } else if (!(op.flags !== "demand" && r.status === ENOMEM)) {
                    problems.push(`mmap ${JSON.stringify(op)}: ${r.status}`);
                  }
                } else if (op.kind === "munmap") {
                  const rs = listRegions(w);
                  if (rs.length === 0) continue;
                  const reg = rs[op.pick % rs.length]!;
                  const off = op.off % reg.pages;
                  const n = Math.min(op.pages, reg.pages - off);
                  const at = reg.start + off * PAGE;
                  const r = yield* d.cmd(ep, W_MUNMAP, { addr: at, len: n * PAGE });
                  if (r.status !== OK) problems.push(`munmap ${at}+${n}: ${r.status}`);
                  else unmapModel(w, at, n);
                } else if (op.kind === "shmunmap") {
                  const rs = listRegions(w).filter((r) => r.shared);
                  if (rs.length === 0) continue;
                  const reg = rs[op.pick % rs.length]!;
                  const r = yield* vmShmUnmap(d.ctx, ep, reg.start);
                  if (r !== OK) problems.push(`shm_unmap ${reg.start}: ${r}`);
                  else unmapModel(w, reg.start, reg.pages);
                } else if (op.kind === "remap") {
                  if (!alive[op.dst]) continue;
                  const rs = listRegions(w);
                  if (rs.length === 0) continue;
                  const reg = rs[op.pick % rs.length]!;
                  const want = op.fixed === null ? 0 : WINDOW + op.fixed * PAGE;
                  const dst = WORKERS[op.dst]!;
                  const r = yield* vmRemap(d.ctx, dst, ep, want, reg.start, reg.pages * PAGE);
                  const clash =
                    want !== 0 &&
                    listRegions(op.dst).some(
                      (x) => x.start < want + reg.pages * PAGE && want < x.start + x.pages * PAGE,
                    );
                  if (r.status === OK) {
                    if (clash || (want !== 0 && r.addr !== want))
                      problems.push(`remap placed at ${r.addr}`);
                    reg.shared = true;
                    regions[op.dst]!.set(r.addr, { start: r.addr, pages: reg.pages, shared: true });
                    for (let i = 0; i < reg.pages; i++) {
                      pages[op.dst]!.set(r.addr + i * PAGE, pages[w]!.get(reg.start + i * PAGE)!);
                    }
                  } else if (!(r.status === ENOMEM || (clash && r.status === EINVAL))) {
                    problems.push(`remap ${JSON.stringify(op)}: ${r.status}`);
                  }
                } else {
                  const all = [...pages[w]!.keys()].sort((x, y) => x - y);
                  const p = all[op.pick % all.length]!;
                  const cell = pages[w]!.get(p)!;
                  const got = yield* d.touch(ep, p + 3, op.value);
                  if (got === EDEADSRCDST) {
                    // Out of memory on a demand-zero page: the worker was killed.
                    alive[w] = false;
                    if ((yield* vmExit(d.ctx, ep)) !== EINVAL)
                      problems.push(`killed ${w} still known`);
                    pages[w]!.clear();
                    regions[w]!.clear();
                    continue;
                  }
                  if (got !== cell.value) {
                    problems.push(`worker ${w} page ${p}: ${got} not ${cell.value}`);
                  }
                  cell.value = op.value;
                }
              }
              for (let w = 0; w < 3; w++) {
                if (!alive[w]) continue;
                yield* d.cmd(WORKERS[w]!, W_EXIT, {});
                const x = yield* vmExit(d.ctx, WORKERS[w]!);
                if (x !== OK) problems.push(`final VM_EXIT ${w}: ${x}`);
              }
              freeCounts.push(yield* d.free());
            }),
            ...WORKERS.map((ep) => workerEntry(ep)),
          ],
          2 << 20,
        );
        run(m, 1_000_000);
        expect(problems).toEqual([]);
        expect(freeCounts).toHaveLength(2);
        expect(freeCounts[1]).toBe(freeCounts[0]);
      }),
      { numRuns: 50, seed: 7 },
    );
  });
});
