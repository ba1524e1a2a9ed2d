import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, ENOMEM, ENOSYS, ENXIO, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import {
  MAP_ALIGN64K,
  MAP_ANON,
  MAP_CONTIG,
  MAP_FIXED,
  MAP_IPC_SHARED,
  MAP_LOWER16M,
  MAP_LOWER1M,
  MAP_PREALLOC,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  VM_USER_TOP,
  type VmReq,
} from "../../include/vm.ts";
import { I386_VM_WRITE } from "../../include/vmpt.ts";
import { FakePhysMemory } from "./fake_memory.ts";
import { doBrk, doInfo, doMmap, doMunmap } from "./mmap.ts";
import { VR_ANON, VR_CONTIG, VR_PHYS64K, VR_SHARED, VR_WRITABLE } from "./region.ts";
import { Vm } from "./vm.ts";

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_ANON | MAP_PRIVATE;
const EP = 11 as Endpoint;
const DATA = 0x40_0000;
const DATA_PAGES = 4;
const HEAP = DATA + DATA_PAGES * PAGE;

/**
 * A VM over `frames` frames; frame 0 is the "loader's", frame 1 the page directory of
 * process EP (a data region of DATA_PAGES pages at DATA). Free memory is full of garbage.
 */
function setup(frames = 1024): { vm: Vm; mem: FakePhysMemory } {
  const mem = new FakePhysMemory(frames * PAGE, 0xa5);
  mem.zero(0, 2 * PAGE);
  const vm = new Vm(mem, frames, 2);
  expect(vm.adopt(EP, PAGE, DATA, DATA_PAGES)).toBe(OK);
  vm.check();
  return { vm, mem };
}

function mmapReq(r: Partial<VmReq<"VM_MMAP">>): VmReq<"VM_MMAP"> {
  return {
    addr: virAddr(0),
    len: PAGE,
    prot: RW,
    flags: ANON,
    fd: -1,
    offset: 0,
    ...r,
  };
}

function mmap(vm: Vm, r: Partial<VmReq<"VM_MMAP">>): { status: number; addr: number } {
  const out = doMmap(vm, EP, mmapReq(r));
  vm.check();
  return { status: out.status, addr: out.addr };
}

function munmap(vm: Vm, addr: number, len: number): number {
  const s = doMunmap(vm, EP, { addr: virAddr(addr), len }).status;
  vm.check();
  return s;
}

function brk(vm: Vm, addr: number): number {
  const s = doBrk(vm, EP, { addr: virAddr(addr) }).status;
  vm.check();
  return s;
}

function spans(vm: Vm): [number, number, string][] {
  return vm.procs
    .get(EP)!
    .regions.regions()
    .map((r) => [r.start, r.length, r.tag]);
}

function touch(vm: Vm, addr: number, write = true): number {
  const r = vm.fault(EP, addr, write);
  vm.check();
  return r;
}

function mapped(vm: Vm, addr: number): boolean {
  return vm.procs.get(EP)!.pt.lookup(addr) !== undefined;
}

describe("minix_mmap", () => {
  test("anonymous, not fixed: a free page-aligned slot as high as possible, demand-zero", () => {
    const { vm } = setup();
    const a = mmap(vm, { len: 3 * PAGE - 5 });
    expect(a.status).toBe(OK);
    expect(a.addr).toBe(VM_USER_TOP - 3 * PAGE);
    const b = mmap(vm, { len: PAGE });
    expect(b).toEqual({ status: OK, addr: VM_USER_TOP - 4 * PAGE });
    const region = vm.procs.get(EP)!.regions.at(a.addr)!;
    expect(region).toMatchObject({ length: 3 * PAGE, flags: VR_ANON | VR_WRITABLE, tag: "mmap" });
    const free = vm.phys.freeFrames;
    expect(mapped(vm, a.addr + PAGE)).toBe(false);
    expect(touch(vm, a.addr + PAGE + 7)).toBe(OK);
    expect(mapped(vm, a.addr + PAGE)).toBe(true);
    expect(vm.phys.freeFrames).toBe(free - 2); // the page and its page table
  });

  test("a free hint is taken; an occupied or misaligned one is ignored", () => {
    const { vm } = setup();
    expect(mmap(vm, { addr: virAddr(0x1000_0000), len: 2 * PAGE })).toEqual({
      status: OK,
      addr: 0x1000_0000,
    });
    expect(mmap(vm, { addr: virAddr(0x1000_1000) }).addr).toBe(VM_USER_TOP - PAGE);
    expect(mmap(vm, { addr: virAddr(0x2000_0010) }).addr).toBe(VM_USER_TOP - 2 * PAGE);
  });

  test("MAP_FIXED over a free range maps there; over a region it fails with ENOMEM (MINIX)", () => {
    const { vm } = setup();
    const fixed = ANON | MAP_FIXED;
    expect(mmap(vm, { addr: virAddr(0x2000_0000), len: 4 * PAGE, flags: fixed })).toEqual({
      status: OK,
      addr: 0x2000_0000,
    });
    const before = spans(vm);
    expect(mmap(vm, { addr: virAddr(0x2000_3000), len: 2 * PAGE, flags: fixed }).status).toBe(
      ENOMEM,
    );
    expect(mmap(vm, { addr: virAddr(0x1fff_f000), len: 2 * PAGE, flags: fixed }).status).toBe(
      ENOMEM,
    );
    expect(mmap(vm, { addr: virAddr(DATA), flags: fixed }).status).toBe(ENOMEM);
    expect(spans(vm)).toEqual(before);
    // Right next to it is fine.
    expect(mmap(vm, { addr: virAddr(0x2000_4000), flags: fixed }).status).toBe(OK);
  });

  test("bad requests change nothing and say why", () => {
    const { vm } = setup();
    expect(mmap(vm, { len: 2 * PAGE }).status).toBe(OK);
    const before = { spans: spans(vm), free: vm.phys.freeFrames };
    const cases: [Partial<VmReq<"VM_MMAP">>, number][] = [
      [{ len: 0 }, EINVAL],
      [{ flags: ANON | 0x0001 }, EINVAL], // POSIX MAP_SHARED: not a MINIX flag
      [{ flags: ANON | 0x0400 }, EINVAL], // MAP_THIRDPARTY: not supported
      [{ flags: -1 }, EINVAL],
      [{ prot: 0x08 }, EINVAL],
      [{ prot: -1 }, EINVAL],
      [{ fd: 3 }, EINVAL], // an fd with MAP_ANON
      [{ fd: 3, flags: MAP_PRIVATE }, ENOSYS], // a file mapping
      [{ offset: PAGE }, EINVAL],
      [{ len: 0xffff_ffff }, ENOMEM],
      [{ len: VM_USER_TOP }, ENOMEM],
      [{ len: VM_USER_TOP - 4 * PAGE }, ENOMEM], // no gap that large is left
      [{ flags: ANON | MAP_IPC_SHARED }, EINVAL],
      [{ flags: ANON | MAP_CONTIG }, EINVAL],
      [{ flags: ANON | MAP_LOWER16M }, EINVAL],
      [{ flags: ANON | MAP_FIXED, addr: virAddr(0x3000_0010) }, EINVAL],
      [{ flags: ANON | MAP_FIXED, addr: virAddr(0) }, ENOMEM],
      [{ flags: ANON | MAP_FIXED, addr: virAddr(VM_USER_TOP - PAGE), len: 2 * PAGE }, ENOMEM],
      [{ flags: ANON | MAP_FIXED, addr: virAddr(0xffff_f000) }, ENOMEM],
      [{ flags: ANON | MAP_PREALLOC, len: 2000 * PAGE }, ENOMEM],
      [{ flags: ANON | MAP_PREALLOC | MAP_CONTIG | MAP_LOWER1M, len: 300 * PAGE }, ENOMEM],
    ];
    for (const [req, want] of cases) {
      expect([req, mmap(vm, req).status]).toEqual([req, want]);
      expect({ spans: spans(vm), free: vm.phys.freeFrames }).toEqual(before);
    }
    expect(doMmap(vm, 99 as Endpoint, mmapReq({})).status).toBe(ENXIO);
  });

  test("without PROT_WRITE the memory is read-only", () => {
    const { vm } = setup();
    const { addr } = mmap(vm, { prot: PROT_READ, len: 2 * PAGE });
    expect(vm.procs.get(EP)!.regions.at(addr)!.flags).toBe(VR_ANON);
    expect(touch(vm, addr, true)).toBe(EFAULT);
    expect(touch(vm, addr, false)).toBe(OK);
    expect(vm.procs.get(EP)!.pt.lookup(addr)!.flags & I386_VM_WRITE).toBe(0);
    expect(touch(vm, addr, true)).toBe(EFAULT);
  });

  test("MAP_PREALLOC maps zeroed memory at once; MAP_IPC_SHARED is recorded as VR_SHARED", () => {
    const { vm, mem } = setup();
    const free = vm.phys.freeFrames;
    const { status, addr } = mmap(vm, {
      len: 5 * PAGE,
      flags: ANON | MAP_PREALLOC | MAP_IPC_SHARED,
    });
    expect(status).toBe(OK);
    expect(vm.procs.get(EP)!.regions.at(addr)!.flags).toBe(VR_ANON | VR_WRITABLE | VR_SHARED);
    expect(vm.phys.freeFrames).toBe(free - 5 - 1);
    for (let i = 0; i < 5; i++) {
      const m = vm.procs.get(EP)!.pt.lookup(addr + i * PAGE)!;
      expect(m.flags & I386_VM_WRITE).toBe(I386_VM_WRITE);
      expect(mem.bytes.subarray(m.phys, m.phys + PAGE).every((b) => b === 0)).toBe(true);
    }
    expect(vm.stats.faults).toBe(0);
  });

  test("MAP_CONTIG, MAP_ALIGN64K and MAP_LOWER1M place preallocated memory physically", () => {
    const { vm } = setup();
    const pt = vm.procs.get(EP)!.pt;
    const physOf = (addr: number, pages: number): number[] =>
      Array.from({ length: pages }, (_, i) => pt.lookup(addr + i * PAGE)!.phys);

    const c = mmap(vm, { len: 6 * PAGE, flags: ANON | MAP_PREALLOC | MAP_CONTIG });
    const cp = physOf(c.addr, 6);
    expect(cp.every((p, i) => p === cp[0]! + i * PAGE)).toBe(true);
    expect(vm.procs.get(EP)!.regions.at(c.addr)!.flags & VR_CONTIG).toBe(VR_CONTIG);

    const a = mmap(vm, { len: 3 * PAGE, flags: ANON | MAP_PREALLOC | MAP_ALIGN64K });
    const ap = physOf(a.addr, 3);
    expect(ap[0]! % 0x10000).toBe(0);
    expect(ap).toEqual([ap[0]!, ap[0]! + PAGE, ap[0]! + 2 * PAGE]);
    expect(vm.procs.get(EP)!.regions.at(a.addr)!.flags & VR_PHYS64K).toBe(VR_PHYS64K);

    const l = mmap(vm, { len: 4 * PAGE, flags: ANON | MAP_PREALLOC | MAP_LOWER1M });
    expect(physOf(l.addr, 4).every((p) => p + PAGE <= 0x10_0000)).toBe(true);
    const l16 = mmap(vm, { len: 2 * PAGE, flags: ANON | MAP_PREALLOC | MAP_LOWER16M });
    expect(l16.status).toBe(OK);
  });
});

describe("minix_munmap", () => {
  test("unmapping the middle page splits the region and frees the frame", () => {
    const { vm } = setup();
    const { addr } = mmap(vm, { len: 3 * PAGE });
    for (let i = 0; i < 3; i++) expect(touch(vm, addr + i * PAGE)).toBe(OK);
    const free = vm.phys.freeFrames;
    vm.takeTlbFlush();
    expect(munmap(vm, addr + PAGE, 1)).toBe(OK); // length rounded up to a page
    expect(vm.takeTlbFlush()).toBe(true);
    expect(vm.takeTlbFlush()).toBe(false);
    expect(vm.phys.freeFrames).toBe(free + 1);
    expect(spans(vm).filter((s) => s[2] === "mmap")).toEqual([
      [addr, PAGE, "mmap"],
      [addr + 2 * PAGE, PAGE, "mmap"],
    ]);
    expect(mapped(vm, addr + PAGE)).toBe(false);
    expect(touch(vm, addr + PAGE)).toBe(EFAULT);
    expect(mapped(vm, addr) && mapped(vm, addr + 2 * PAGE)).toBe(true);
  });

  test("prefix, suffix and whole mappings; untouched pages need no freeing", () => {
    const { vm } = setup();
    const { addr } = mmap(vm, { len: 4 * PAGE });
    expect(touch(vm, addr + 3 * PAGE)).toBe(OK);
    expect(munmap(vm, addr, PAGE)).toBe(OK);
    expect(munmap(vm, addr + 2 * PAGE, 2 * PAGE)).toBe(OK);
    expect(spans(vm).filter((s) => s[2] === "mmap")).toEqual([[addr + PAGE, PAGE, "mmap"]]);
    expect(munmap(vm, addr + PAGE, PAGE)).toBe(OK);
    expect(spans(vm).filter((s) => s[2] === "mmap")).toEqual([]);
  });

  test("bad requests change nothing", () => {
    const { vm } = setup();
    const a = mmap(vm, { addr: virAddr(0x1000_0000), len: 2 * PAGE }).addr;
    mmap(vm, { addr: virAddr(0x1000_2000), len: 2 * PAGE });
    brk(vm, HEAP + PAGE);
    const before = spans(vm);
    expect(munmap(vm, a, 0)).toBe(EINVAL);
    expect(munmap(vm, a + 8, PAGE)).toBe(EINVAL);
    expect(munmap(vm, a, 3 * PAGE)).toBe(EFAULT); // spills into the next region
    expect(munmap(vm, a + PAGE, 0xffff_ffff)).toBe(EFAULT);
    expect(munmap(vm, 0x5000_0000, PAGE)).toBe(EFAULT); // nothing there
    expect(munmap(vm, DATA, PAGE)).toBe(EFAULT); // the data area
    expect(munmap(vm, HEAP, PAGE)).toBe(EFAULT); // the heap (brk's)
    expect(doMunmap(vm, 99 as Endpoint, { addr: virAddr(a), len: PAGE }).status).toBe(ENXIO);
    expect(spans(vm)).toEqual(before);
  });
});

describe("brk", () => {
  test("grows a heap region right after the data area, and shrinks it", () => {
    const { vm } = setup();
    expect(brk(vm, HEAP + 2 * PAGE + 10)).toBe(OK);
    expect(spans(vm)).toEqual([
      [DATA, DATA_PAGES * PAGE, "data"],
      [HEAP, 3 * PAGE, "heap"],
    ]);
    for (let i = 0; i < 3; i++) expect(touch(vm, HEAP + i * PAGE)).toBe(OK);
    const free = vm.phys.freeFrames;
    expect(brk(vm, HEAP + PAGE)).toBe(OK);
    expect(vm.phys.freeFrames).toBe(free + 2);
    expect(spans(vm)[1]).toEqual([HEAP, PAGE, "heap"]);
    expect(touch(vm, HEAP + PAGE)).toBe(EFAULT);
    expect(touch(vm, HEAP)).toBe(OK);
    expect(brk(vm, HEAP)).toBe(OK);
    expect(spans(vm)).toEqual([[DATA, DATA_PAGES * PAGE, "data"]]);
    expect(vm.phys.freeFrames).toBe(free + 3);
    expect(brk(vm, HEAP + PAGE)).toBe(OK);
    expect(mapped(vm, HEAP)).toBe(false);
  });

  test("below the heap start: EINVAL; into a mapping or past the top: ENOMEM", () => {
    const { vm } = setup();
    expect(brk(vm, HEAP - 1)).toBe(EINVAL);
    expect(brk(vm, 0)).toBe(EINVAL);
    expect(brk(vm, VM_USER_TOP + 1)).toBe(ENOMEM);
    const fixed = ANON | MAP_FIXED;
    expect(mmap(vm, { addr: virAddr(HEAP + 4 * PAGE), flags: fixed }).status).toBe(OK);
    expect(brk(vm, HEAP + 4 * PAGE)).toBe(OK);
    expect(brk(vm, HEAP + 4 * PAGE + 1)).toBe(ENOMEM);
    expect(spans(vm)[1]).toEqual([HEAP, 4 * PAGE, "heap"]);
    // A mapping placed right at the heap start blocks any heap.
    const { vm: vm2 } = setup();
    expect(mmap(vm2, { addr: virAddr(HEAP), flags: fixed }).status).toBe(OK);
    expect(brk(vm2, HEAP + PAGE)).toBe(ENOMEM);
    expect(brk(vm2, HEAP)).toBe(OK);
    expect(doBrk(vm, 99 as Endpoint, { addr: virAddr(HEAP) }).status).toBe(ENXIO);
  });
});

describe("VM_INFO", () => {
  test("reports frames, faults and the caller's usage", () => {
    const { vm } = setup(512);
    const { addr } = mmap(vm, { len: 2 * PAGE });
    touch(vm, addr);
    touch(vm, DATA);
    expect(doInfo(vm, EP)).toEqual({
      status: OK,
      totalFrames: 512,
      freeFrames: 512 - 2 - 4,
      faults: 2,
      memreqs: 0,
      regions: 2,
      pages: 2,
      tableFrames: 3,
    });
    expect(doInfo(vm, 99 as Endpoint)).toMatchObject({ status: OK, regions: 0, pages: 0 });
  });
});

type Op =
  | { kind: "mmap"; pages: number; fixed: number | null; prealloc: boolean }
  | { kind: "munmap"; pick: number; off: number; pages: number }
  | { kind: "touch"; pick: number }
  | { kind: "brk"; pages: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("mmap" as const),
    pages: fc.integer({ min: 1, max: 12 }),
    fixed: fc.option(fc.integer({ min: 0, max: 40 })),
    prealloc: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("munmap" as const),
    pick: fc.nat(),
    off: fc.nat(),
    pages: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ kind: fc.constant("touch" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("brk" as const), pages: fc.integer({ min: 0, max: 6 }) }),
);

describe("property", () => {
  test("random mmap/munmap/brk/touch keep VM sane and agree with a page model", () => {
    const WINDOW = 0x1000_0000;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const { vm } = setup(160);
        const vmp = vm.procs.get(EP)!;
        const free0 = vm.phys.freeFrames;
        const tables0 = vmp.pt.tableFrames().length;
        /** Model: the start of each mapped page (mmap'd or heap). */
        const pages = new Set<number>();
        let heapEnd = HEAP;
        const mmapPages = (): number[] =>
          [...pages].filter((p) => p >= WINDOW).sort((a, b) => a - b);
        for (const op of ops) {
          switch (op.kind) {
            case "mmap": {
              const len = op.pages * PAGE;
              const addr = op.fixed === null ? 0 : WINDOW + op.fixed * PAGE;
              const flags =
                ANON | (op.fixed === null ? 0 : MAP_FIXED) | (op.prealloc ? MAP_PREALLOC : 0);
              const r = mmap(vm, { addr: virAddr(addr), len, flags });
              const base = op.fixed === null ? r.addr : addr;
              const want = Array.from({ length: op.pages }, (_, i) => base + i * PAGE);
              if (op.fixed !== null && want.some((p) => pages.has(p))) {
                expect(r.status).toBe(ENOMEM);
              } else if (!op.prealloc) {
                expect(r.status).toBe(OK);
              }
              if (r.status === OK) {
                expect(r.addr % PAGE).toBe(0);
                for (const p of want) {
                  expect(pages.has(p)).toBe(false);
                  pages.add(p);
                  expect(mapped(vm, p)).toBe(op.prealloc);
                }
              } else {
                expect(r.status).toBe(ENOMEM); // only out of memory/room
              }
              break;
            }
            case "munmap": {
              const all = mmapPages();
              if (all.length === 0) break;
              const at = all[op.pick % all.length]! + (op.off % 3) * PAGE;
              const len = op.pages * PAGE;
              const region = vmp.regions.find(at);
              const fits = region?.tag === "mmap" && at + len <= region.start + region.length;
              expect(munmap(vm, at, len)).toBe(fits ? OK : EFAULT);
              if (fits) {
                for (let p = at; p < at + len; p += PAGE) {
                  expect(pages.delete(p)).toBe(true);
                  expect(mapped(vm, p)).toBe(false);
                }
              }
              break;
            }
            case "touch": {
              const all = [...pages];
              if (all.length === 0) break;
              const p = all[op.pick % all.length]!;
              const r = touch(vm, p);
              expect([OK, ENOMEM]).toContain(r);
              expect(mapped(vm, p)).toBe(r === OK);
              break;
            }
            case "brk": {
              const end = HEAP + op.pages * PAGE;
              const r = brk(vm, end);
              if (r === OK) {
                for (let p = HEAP; p < Math.max(end, heapEnd); p += PAGE) {
                  if (p < end) pages.add(p);
                  else pages.delete(p);
                }
                heapEnd = end;
              } else {
                expect(r).toBe(ENOMEM);
              }
              break;
            }
          }
          const regionPages = vmp.regions
            .regions()
            .filter((r) => r.tag !== "data")
            .flatMap((r) => Array.from({ length: r.length / PAGE }, (_, i) => r.start + i * PAGE));
          expect(new Set(regionPages)).toEqual(pages);
        }
        // Unmap everything: all frames come back but the page tables (kept, as in MINIX).
        for (const p of mmapPages()) expect(munmap(vm, p, PAGE)).toBe(OK);
        expect(brk(vm, HEAP)).toBe(OK);
        const tables = vmp.pt.tableFrames().length;
        expect(vm.phys.freeFrames + (tables - tables0)).toBe(free0);
        expect(doInfo(vm, EP)).toMatchObject({ regions: 1, pages: 0 });
      }),
      { numRuns: 200 },
    );
  });
});
