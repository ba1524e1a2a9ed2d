import { describe, expect, test } from "vitest";
import { makeEndpoint, type Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { MAP_ANON, MAP_IPC_SHARED, MAP_PREALLOC, PROT_READ, PROT_WRITE } from "../../include/vm.ts";
import { I386_VM_WRITE } from "../../include/vmpt.ts";
import { MAP_COW, mapMemory, unmapMemory } from "./map.ts";
import { VR_DIRECT, VR_WRITABLE } from "./region.ts";
import {
  forkSpace,
  mmapPages,
  procOf as proc,
  touch,
  vmWorld,
  DATA,
  type World,
} from "./test_world.ts";
import type { Vm } from "./vm.ts";

const PAGE = 4096;
const G = 11 as Endpoint;
const R = 12 as Endpoint;
const CHILD = makeEndpoint(1, 20);

function setup(frames = 256): World {
  return vmWorld(frames, 4, [
    [G, 8],
    [R, 8],
  ]);
}

/** Fills the page at `addr` of `ep` with `v`, faulting first as the MMU would. */
function fill(w: World, ep: Endpoint, addr: number, v: number): number {
  const e = touch(w, ep, addr, true);
  if (typeof e === "number") return e;
  w.mem.bytes.fill(v, e.phys, e.phys + PAGE);
  return OK;
}

/** The single byte value every byte of the page holds, or -1 if they differ. */
function read(w: World, ep: Endpoint, addr: number): number {
  const e = touch(w, ep, addr, false);
  expect(e).not.toBeTypeOf("number");
  if (typeof e === "number") return -1;
  const page = w.mem.bytes.subarray(e.phys, e.phys + PAGE);
  const v = page[0]!;
  return page.every((b) => b === v) ? v : -1;
}

function frameOf(vm: Vm, ep: Endpoint, addr: number): number {
  return proc(vm, ep).pt.lookup(addr)?.phys ?? -1;
}

describe("mapMemory SMAP", () => {
  test("writable share: both see each other's writes on every page; marks and counts", () => {
    const w = setup();
    const { vm } = w;
    for (let i = 0; i < 4; i++) expect(fill(w, G, DATA + i * PAGE, 20 + i)).toBe(OK);
    expect(fill(w, R, DATA, 99)).toBe(OK);
    const free0 = vm.phys.freeFrames;
    expect(mapMemory(vm, G, R, DATA, DATA, 4 * PAGE, 1)).toBe(OK);
    vm.check();
    // R's old page went back to the free lists.
    expect(vm.phys.freeFrames).toBe(free0 + 1);
    for (let i = 0; i < 4; i++) {
      const a = DATA + i * PAGE;
      expect(frameOf(vm, R, a)).toBe(frameOf(vm, G, a));
      expect(vm.isSmap(frameOf(vm, G, a))).toBe(true);
      expect(vm.refcount(frameOf(vm, G, a))).toBe(2);
      expect(read(w, R, a)).toBe(20 + i);
    }
    expect(fill(w, R, DATA + PAGE, 10)).toBe(OK);
    expect(read(w, G, DATA + PAGE)).toBe(10);
    expect(fill(w, G, DATA + 3 * PAGE, 30)).toBe(OK);
    expect(read(w, R, DATA + 3 * PAGE)).toBe(30);
    vm.check();
  });

  test("absent source pages are made present (zeroed) and shared", () => {
    const w = setup();
    const { vm } = w;
    expect(mapMemory(vm, G, R, DATA, DATA + 4 * PAGE, 2 * PAGE, 1)).toBe(OK);
    vm.check();
    expect(read(w, R, DATA + 4 * PAGE)).toBe(0);
    expect(fill(w, G, DATA + PAGE, 5)).toBe(OK);
    expect(read(w, R, DATA + 5 * PAGE)).toBe(5);
  });

  test("read-only share: the grantee's write is refused (EFAULT), the granter's shows", () => {
    const w = setup();
    const { vm } = w;
    expect(fill(w, G, DATA, 20)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE, 0)).toBe(OK);
    vm.check();
    expect(fill(w, R, DATA, 10)).toBe(EFAULT);
    expect(fill(w, G, DATA, 21)).toBe(OK);
    expect(read(w, R, DATA)).toBe(21);
    vm.check();
  });

  test("unmap gives the grantee a private copy; later writes stay on their side", () => {
    const w = setup();
    const { vm } = w;
    expect(fill(w, G, DATA, 20)).toBe(OK);
    expect(fill(w, G, DATA + PAGE, 21)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA, DATA, 2 * PAGE, 1)).toBe(OK);
    expect(fill(w, R, DATA, 10)).toBe(OK);
    expect(unmapMemory(vm, G, R, DATA, DATA, 2 * PAGE)).toBe(OK);
    vm.check();
    expect(vm.isSmap(frameOf(vm, G, DATA))).toBe(false);
    expect(frameOf(vm, R, DATA)).not.toBe(frameOf(vm, G, DATA));
    expect(read(w, R, DATA)).toBe(10);
    expect(read(w, R, DATA + PAGE)).toBe(21);
    expect(fill(w, G, DATA, 22)).toBe(OK);
    expect(fill(w, R, DATA + PAGE, 11)).toBe(OK);
    expect(read(w, R, DATA)).toBe(10);
    expect(read(w, G, DATA + PAGE)).toBe(21);
    // Repeating is harmless.
    expect(unmapMemory(vm, G, R, DATA, DATA, 2 * PAGE)).toBe(OK);
    vm.check();
  });

  test("unmap only touches pages still shared with that source", () => {
    const w = setup();
    const { vm } = w;
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE, 1)).toBe(OK);
    // R's page is now shared with G's second page instead.
    expect(mapMemory(vm, G, R, DATA + PAGE, DATA, PAGE, 1)).toBe(OK);
    const f = frameOf(vm, R, DATA);
    expect(unmapMemory(vm, G, R, DATA, DATA, PAGE)).toBe(OK);
    expect(frameOf(vm, R, DATA)).toBe(f);
    expect(vm.isSmap(f)).toBe(true);
    vm.check();
  });

  test("SMAP of COW-shared pages: the granter gets a private copy first (COW_SMAP)", () => {
    const w = setup();
    const { vm } = w;
    expect(fill(w, G, DATA, 21)).toBe(OK);
    forkSpace(vm, G, CHILD);
    expect(fill(w, R, DATA, 10)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE, 1)).toBe(OK);
    vm.check();
    expect(frameOf(vm, CHILD, DATA)).not.toBe(frameOf(vm, G, DATA));
    expect(fill(w, CHILD, DATA, 22)).toBe(OK);
    expect(read(w, G, DATA)).toBe(21);
    expect(read(w, R, DATA)).toBe(21);
    expect(fill(w, G, DATA, 23)).toBe(OK);
    expect(read(w, R, DATA)).toBe(23);
    expect(read(w, CHILD, DATA)).toBe(22);
    vm.check();
  });

  test("fork of an SMAP holder: the child gets a private copy, the parent stays shared", () => {
    const w = setup();
    const { vm } = w;
    expect(mapMemory(vm, G, R, DATA, DATA, 2 * PAGE, 1)).toBe(OK);
    expect(fill(w, R, DATA, 10)).toBe(OK);
    vm.takeTlbFlush();
    forkSpace(vm, R, CHILD);
    expect(proc(vm, R).pt.lookup(DATA)!.flags & I386_VM_WRITE).not.toBe(0);
    expect(frameOf(vm, CHILD, DATA)).not.toBe(frameOf(vm, R, DATA));
    expect(fill(w, G, DATA, 20)).toBe(OK);
    expect(read(w, R, DATA)).toBe(20);
    expect(read(w, CHILD, DATA)).toBe(10);
    expect(fill(w, CHILD, DATA + PAGE, 5)).toBe(OK);
    expect(read(w, G, DATA + PAGE)).toBe(0);
    vm.check();
    expect(vm.exit(CHILD)).toBe(OK);
    expect(vm.exit(G)).toBe(OK);
    // R alone holds the frames now: no mark, writable on the next fault.
    expect(vm.isSmap(frameOf(vm, R, DATA))).toBe(false);
    expect(fill(w, R, DATA, 1)).toBe(OK);
    vm.check();
  });

  test("errors: bad flag or alignment EINVAL, missing region EFAULT, unknown process EINVAL (unmap: unknown source OK)", () => {
    const w = setup();
    const { vm } = w;
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE, 2)).toBe(EINVAL);
    expect(mapMemory(vm, G, R, DATA + 1, DATA, PAGE, 1)).toBe(EINVAL);
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE + 1, 1)).toBe(EINVAL);
    expect(mapMemory(vm, G, R, DATA, DATA, 0, 1)).toBe(EINVAL);
    expect(mapMemory(vm, G, R, DATA, 0x1000_0000, PAGE, 1)).toBe(EFAULT);
    expect(mapMemory(vm, G, R, DATA + 7 * PAGE, DATA, 2 * PAGE, 1)).toBe(EFAULT);
    expect(mapMemory(vm, G, 99, DATA, DATA, PAGE, 1)).toBe(EINVAL);
    expect(mapMemory(vm, G, G, DATA, DATA + PAGE, 2 * PAGE, 1)).toBe(EINVAL);
    expect(unmapMemory(vm, G, 99, DATA, DATA, PAGE)).toBe(EINVAL);
    // A source VM no longer knows shares nothing.
    expect(unmapMemory(vm, 99, R, DATA, DATA, PAGE)).toBe(OK);
    vm.check();
  });

  test("VR_DIRECT regions are refused on either side, by SMAP and by COW (EFAULT)", () => {
    const { vm } = setup();
    const direct = 0x100_0000;
    const flags = VR_DIRECT | VR_WRITABLE;
    expect(proc(vm, G).regions.add({ start: direct, length: PAGE, flags, tag: "mmap" })).toBe(OK);
    for (const flag of [1, 0, MAP_COW]) {
      expect(mapMemory(vm, G, R, direct, DATA, PAGE, flag)).toBe(EFAULT);
      expect(mapMemory(vm, R, G, DATA, direct, PAGE, flag)).toBe(EFAULT);
    }
    vm.check();
  });

  test("SysV shared regions are refused on either side (EFAULT)", () => {
    const w = setup();
    const { vm } = w;
    const shm = mmapPages(
      vm,
      G,
      1,
      PROT_READ | PROT_WRITE,
      MAP_ANON | MAP_IPC_SHARED | MAP_PREALLOC,
    );
    expect(mapMemory(vm, G, R, shm, DATA, PAGE, 1)).toBe(EFAULT);
    expect(mapMemory(vm, R, G, DATA, shm, PAGE, 0)).toBe(EFAULT);
    // A COW safecopy into shared memory copies the data in instead.
    expect(fill(w, R, DATA, 9)).toBe(OK);
    expect(mapMemory(vm, R, G, DATA, shm, PAGE, MAP_COW)).toBe(OK);
    expect(frameOf(vm, G, shm)).not.toBe(frameOf(vm, R, DATA));
    expect(read(w, G, shm)).toBe(9);
    vm.check();
  });

  test("ENOMEM undoes the destination pages mapped so far", () => {
    const w = setup(40);
    const { vm } = w;
    // G has its 8 data pages COW-shared with a child: each SMAP'd page needs a copy.
    for (let i = 0; i < 8; i++) expect(fill(w, G, DATA + i * PAGE, i + 1)).toBe(OK);
    forkSpace(vm, G, CHILD);
    while (vm.phys.freeFrames > 3) vm.allocFrame();
    const r = mapMemory(vm, G, R, DATA, DATA, 8 * PAGE, 1);
    expect(r).toBe(ENOMEM);
    for (let i = 0; i < 8; i++) expect(proc(vm, R).pt.lookup(DATA + i * PAGE)).toBeUndefined();
  });
});

describe("mapMemory COW", () => {
  test("shares read-only; a write on either side copies only that page", () => {
    const w = setup();
    const { vm } = w;
    for (let i = 0; i < 3; i++) expect(fill(w, G, DATA + i * PAGE, 20 + i)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA, DATA + 4 * PAGE, 3 * PAGE, MAP_COW)).toBe(OK);
    vm.check();
    for (let i = 0; i < 3; i++) {
      expect(frameOf(vm, R, DATA + (4 + i) * PAGE)).toBe(frameOf(vm, G, DATA + i * PAGE));
      expect(vm.isSmap(frameOf(vm, G, DATA + i * PAGE))).toBe(false);
      expect(read(w, R, DATA + (4 + i) * PAGE)).toBe(20 + i);
    }
    // Destination writes.
    expect(fill(w, R, DATA + 4 * PAGE, 1)).toBe(OK);
    expect(read(w, G, DATA)).toBe(20);
    // Source writes.
    expect(fill(w, G, DATA + PAGE, 2)).toBe(OK);
    expect(read(w, R, DATA + 5 * PAGE)).toBe(21);
    expect(read(w, R, DATA + 6 * PAGE)).toBe(22);
    vm.check();
  });

  test("an SMAP-shared source page is copied, not COW-shared (SMAP_COW)", () => {
    const w = setup();
    const { vm } = w;
    expect(fill(w, G, DATA, 20)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE, 1)).toBe(OK);
    expect(mapMemory(vm, R, G, DATA, DATA + 4 * PAGE, PAGE, MAP_COW)).toBe(OK);
    vm.check();
    expect(frameOf(vm, G, DATA + 4 * PAGE)).not.toBe(frameOf(vm, G, DATA));
    expect(read(w, G, DATA + 4 * PAGE)).toBe(20);
    expect(fill(w, R, DATA, 10)).toBe(OK);
    expect(read(w, G, DATA)).toBe(10);
    expect(read(w, G, DATA + 4 * PAGE)).toBe(20);
    vm.check();
  });

  test("a destination page that is an SMAP share keeps its link: data copied into it", () => {
    const w = setup();
    const { vm } = w;
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE, 1)).toBe(OK);
    expect(fill(w, R, DATA + 2 * PAGE, 7)).toBe(OK);
    expect(mapMemory(vm, R, R, DATA + 2 * PAGE, DATA, PAGE, MAP_COW)).toBe(OK);
    vm.check();
    expect(read(w, G, DATA)).toBe(7);
    expect(frameOf(vm, R, DATA)).toBe(frameOf(vm, G, DATA));
  });

  test("COW then SMAP (COW_SMAP2): the granter gets a private copy before sharing", () => {
    const w = setup();
    const { vm } = w;
    expect(fill(w, R, DATA, 10)).toBe(OK);
    // R's safecopyto G: G's page COW-shares R's frame.
    expect(mapMemory(vm, R, G, DATA, DATA, PAGE, MAP_COW)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA, DATA, PAGE, 1)).toBe(OK);
    vm.check();
    expect(read(w, R, DATA)).toBe(10);
    expect(read(w, G, DATA)).toBe(10);
    expect(fill(w, R, DATA, 11)).toBe(OK);
    expect(read(w, G, DATA)).toBe(11);
    vm.check();
  });

  test("a read-only destination region or a read-only SMAP destination is refused", () => {
    const w = setup();
    const { vm } = w;
    const ro = mmapPages(vm, R, 1, PROT_READ);
    expect(mapMemory(vm, G, R, DATA, ro, PAGE, MAP_COW)).toBe(EFAULT);
    expect(mapMemory(vm, G, R, DATA, ro, PAGE, 1)).toBe(EFAULT);
    expect(mapMemory(vm, G, R, DATA, ro, PAGE, 0)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA + PAGE, DATA, PAGE, 0)).toBe(OK);
    expect(mapMemory(vm, G, R, DATA + 2 * PAGE, DATA, PAGE, MAP_COW)).toBe(EFAULT);
    vm.check();
  });
});
