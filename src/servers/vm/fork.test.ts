import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { makeEndpoint, type Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { PFF_VMINHIBIT, VMCTL_FLUSHTLB, VMCTL_SETADDRSPACE } from "../../include/kcall.ts";
import { virAddr } from "../../include/types.ts";
import { PROT_READ, type VmReq } from "../../include/vm.ts";
import { I386_VM_WRITE } from "../../include/vmpt.ts";
import { doExit } from "./acl.ts";
import { runWithFakeKernel, type KcallSeen, type KernelAnswer } from "./fake_kernel.ts";
import { copyAddressSpace, discardAddressSpace, doFork, type ForkedSpace } from "./fork.ts";
import { doRemap } from "./shm.ts";
import {
  forkSpace,
  mmapPages as mmap,
  peek,
  poke,
  procOf as proc,
  vmWorld,
  DATA,
  type World,
} from "./test_world.ts";
import type { Vm } from "./vm.ts";

const PAGE = 4096;
const A = 11 as Endpoint;
const B = 12 as Endpoint;
const PM = 0 as Endpoint;
/** Endpoint the fake kernel gives the child (generation 1 of slot 20). */
const CHILD_SLOT = 20;
const CHILD = makeEndpoint(1, CHILD_SLOT);

/** Frames 0..3 are the loader's: 1, 2, 3 the page directories of A, B and PM. */
function setup(frames = 256): World {
  return vmWorld(frames, 4, [
    [A, 4],
    [B, 4],
    [PM, 4],
  ]);
}

/** {@link forkSpace} with the child under CHILD by default. */
function fork(vm: Vm, parent: Endpoint, child = CHILD): ForkedSpace {
  return forkSpace(vm, parent, child);
}

function snapshotPt(vm: Vm, ep: Endpoint): string {
  return JSON.stringify([...proc(vm, ep).pt.mappings()]);
}

describe("copyAddressSpace", () => {
  test("shares every present frame read-only; untouched pages stay absent in both", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 7);
    poke(w, A, DATA + PAGE, 8);
    expect(vm.fault(A, DATA + 2 * PAGE, false)).toBe(OK);
    const free0 = vm.phys.freeFrames;
    vm.takeTlbFlush();
    const space = fork(vm, A);
    expect(vm.takeTlbFlush()).toBe(true);
    expect(space.protected.map((p) => p.vaddr)).toEqual([DATA, DATA + PAGE, DATA + 2 * PAGE]);
    // Only the child's directory and one page table.
    expect(vm.phys.freeFrames).toBe(free0 - 2);
    for (let i = 0; i < 3; i++) {
      const pa = proc(vm, A).pt.lookup(DATA + i * PAGE)!;
      const ca = proc(vm, CHILD).pt.lookup(DATA + i * PAGE)!;
      expect(ca.phys).toBe(pa.phys);
      expect(pa.flags & I386_VM_WRITE).toBe(0);
      expect(ca.flags & I386_VM_WRITE).toBe(0);
      expect(vm.refcount(pa.phys)).toBe(2);
    }
    expect(proc(vm, CHILD).pt.lookup(DATA + 3 * PAGE)).toBeUndefined();
    expect(proc(vm, CHILD).regions.regions()).toEqual(proc(vm, A).regions.regions());
    expect(peek(w, CHILD, DATA)).toBe(7);
    expect(peek(w, CHILD, DATA + PAGE)).toBe(8);
  });

  test("a child's write copies exactly that page; the parent keeps its data", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 7);
    poke(w, A, DATA + PAGE, 8);
    fork(vm, A);
    const old = proc(vm, A).pt.lookup(DATA)!.phys;
    const free0 = vm.phys.freeFrames;
    poke(w, CHILD, DATA + 1, 9);
    vm.check();
    expect(vm.stats.copies).toBe(1);
    expect(vm.phys.freeFrames).toBe(free0 - 1);
    const mine = proc(vm, CHILD).pt.lookup(DATA)!;
    expect(mine.phys).not.toBe(old);
    expect(mine.flags & I386_VM_WRITE).toBe(I386_VM_WRITE);
    expect(vm.refcount(old)).toBe(1);
    expect(vm.refcount(mine.phys)).toBe(1);
    // The copy has the whole page, the child's write on top.
    expect(peek(w, CHILD, DATA)).toBe(7);
    expect(peek(w, CHILD, DATA + 1)).toBe(9);
    expect(peek(w, A, DATA)).toBe(7);
    expect(peek(w, A, DATA + 1)).toBe(0);
    // The other page is still shared.
    expect(vm.refcount(proc(vm, A).pt.lookup(DATA + PAGE)!.phys)).toBe(2);
    // The parent's entry is read-only until it writes; then, alone on the frame, no copy.
    expect(proc(vm, A).pt.lookup(DATA)!.flags & I386_VM_WRITE).toBe(0);
    vm.takeTlbFlush();
    poke(w, A, DATA, 1);
    expect(vm.takeTlbFlush()).toBe(true);
    expect(vm.stats.copies).toBe(1);
    expect(proc(vm, A).pt.lookup(DATA)!.phys).toBe(old);
    expect(vm.phys.freeFrames).toBe(free0 - 1);
    expect(peek(w, CHILD, DATA)).toBe(7);
    vm.check();
  });

  test("a parent's write after fork leaves the child the old value", () => {
    const w = setup();
    const { vm } = w;
    const a = mmap(vm, A, 2);
    poke(w, A, a, 3);
    fork(vm, A);
    poke(w, A, a, 4);
    vm.check();
    expect(peek(w, A, a)).toBe(4);
    expect(peek(w, CHILD, a)).toBe(3);
    poke(w, CHILD, a, 5);
    expect(vm.stats.copies).toBe(1);
    expect(peek(w, A, a)).toBe(4);
    expect(peek(w, CHILD, a)).toBe(5);
    vm.check();
  });

  test("pages absent at fork are demand-zero in each process independently", () => {
    const w = setup();
    const { vm } = w;
    const a = mmap(vm, A, 2);
    fork(vm, A);
    poke(w, A, a + PAGE, 1);
    expect(peek(w, CHILD, a + PAGE)).toBe(0);
    poke(w, CHILD, a, 2);
    expect(peek(w, A, a)).toBe(0);
    expect(vm.stats.copies).toBe(0);
    expect(proc(vm, A).pt.lookup(a + PAGE)!.phys).not.toBe(
      proc(vm, CHILD).pt.lookup(a + PAGE)!.phys,
    );
    vm.check();
  });

  test("read-only regions stay read-only; a write there is still refused", () => {
    const w = setup();
    const { vm } = w;
    const a = mmap(vm, A, 1, PROT_READ);
    expect(vm.fault(A, a, false)).toBe(OK);
    const space = fork(vm, A);
    expect(space.protected).toEqual([]);
    expect(vm.fault(CHILD, a, true)).toBe(EFAULT);
    expect(vm.fault(A, a, true)).toBe(EFAULT);
    vm.check();
  });

  test("VR_SHARED memory stays shared and writable in parent and child", () => {
    const w = setup();
    const { vm } = w;
    const a = mmap(vm, A, 2);
    poke(w, A, a, 1);
    const r = doRemap(vm, PM, {
      dest: B,
      src: A,
      destAddr: virAddr(0),
      srcAddr: virAddr(a),
      size: 2 * PAGE,
    });
    expect(r.status).toBe(OK);
    const space = fork(vm, A);
    expect(space.protected).toEqual([]);
    const pa = proc(vm, A).pt.lookup(a)!;
    const ca = proc(vm, CHILD).pt.lookup(a)!;
    expect(ca.phys).toBe(pa.phys);
    expect(ca.flags & I386_VM_WRITE).toBe(I386_VM_WRITE);
    expect(pa.flags & I386_VM_WRITE).toBe(I386_VM_WRITE);
    expect(vm.refcount(pa.phys)).toBe(3);
    poke(w, CHILD, a + 1, 2);
    poke(w, B, r.addr + 2, 3);
    expect(vm.stats.copies).toBe(0);
    expect([peek(w, A, a + 1), peek(w, A, a + 2)]).toEqual([2, 3]);
    expect([peek(w, CHILD, a), peek(w, CHILD, a + 2)]).toEqual([1, 3]);
    vm.check();
  });

  test("sharing a region still copy-on-write after fork (VM_REMAP) gives the sharer its own pages first", () => {
    const w = setup();
    const { vm } = w;
    const a = mmap(vm, A, 2);
    poke(w, A, a, 1);
    poke(w, A, a + PAGE, 2);
    fork(vm, A);
    const r = doRemap(vm, PM, {
      dest: B,
      src: A,
      destAddr: virAddr(0),
      srcAddr: virAddr(a),
      size: 2 * PAGE,
    });
    expect(r.status).toBe(OK);
    expect(vm.stats.copies).toBe(2);
    vm.check();
    poke(w, B, r.addr, 9);
    poke(w, A, a + PAGE, 8);
    expect([peek(w, A, a), peek(w, B, r.addr + PAGE)]).toEqual([9, 8]);
    expect([peek(w, CHILD, a), peek(w, CHILD, a + PAGE)]).toEqual([1, 2]);
    vm.check();
  });

  test("the child's exit returns exactly its private frames and page tables", () => {
    const w = setup();
    const { vm } = w;
    const a = mmap(vm, A, 4);
    for (let i = 0; i < 4; i++) poke(w, A, a + i * PAGE, i + 1);
    const free0 = vm.phys.freeFrames;
    fork(vm, A);
    poke(w, CHILD, a, 10);
    poke(w, CHILD, a + PAGE, 11);
    poke(w, A, a + 2 * PAGE, 12);
    poke(w, CHILD, DATA, 13); // a page absent at fork
    expect(doExit(vm, PM, { endpoint: CHILD }).status).toBe(OK);
    vm.check();
    expect(vm.phys.freeFrames).toBe(free0);
    for (let i = 0; i < 4; i++) {
      const e = proc(vm, A).pt.lookup(a + i * PAGE)!;
      expect(vm.refcount(e.phys)).toBe(1);
      expect(w.mem.bytes[e.phys]).toBe(i === 2 ? 12 : i + 1);
    }
    // Back alone, the parent makes its read-only entries writable without copying.
    const copies = vm.stats.copies;
    poke(w, A, a + 3 * PAGE, 14);
    expect(vm.stats.copies).toBe(copies);
    expect(vm.phys.freeFrames).toBe(free0);
    vm.check();
  });

  test("fork of a fork: three processes share a frame until each writes", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 1);
    fork(vm, A);
    const GRANDCHILD = makeEndpoint(1, 21);
    fork(vm, CHILD, GRANDCHILD);
    const pa = proc(vm, A).pt.lookup(DATA)!.phys;
    expect(vm.refcount(pa)).toBe(3);
    poke(w, CHILD, DATA, 2);
    poke(w, A, DATA, 3);
    expect(vm.refcount(pa)).toBe(1);
    poke(w, GRANDCHILD, DATA, 4);
    expect(vm.stats.copies).toBe(2);
    expect([peek(w, A, DATA), peek(w, CHILD, DATA), peek(w, GRANDCHILD, DATA)]).toEqual([3, 2, 4]);
    vm.check();
  });

  test("ENOMEM for the page tables changes nothing", () => {
    for (const left of [0, 1, 2]) {
      const w = setup();
      const { vm } = w;
      poke(w, A, DATA, 1);
      const a = mmap(vm, A, 1);
      poke(w, A, a, 2); // another 4 MiB block: the child needs two page tables
      expect(vm.phys.allocList(vm.phys.freeFrames - left)).not.toBeNull();
      const before = snapshotPt(vm, A);
      vm.takeTlbFlush();
      expect(copyAddressSpace(vm, proc(vm, A))).toBe(ENOMEM);
      expect(vm.phys.freeFrames).toBe(left);
      expect(snapshotPt(vm, A)).toBe(before);
      expect(vm.takeTlbFlush()).toBe(false);
      expect(vm.refcount(proc(vm, A).pt.lookup(a)!.phys)).toBe(1);
    }
  });

  test("discardAddressSpace undoes the copy; the parent's pages are writable again", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 1);
    expect(vm.fault(A, DATA + PAGE, false)).toBe(OK);
    const free0 = vm.phys.freeFrames;
    const before = snapshotPt(vm, A);
    const space = copyAddressSpace(vm, proc(vm, A));
    if (space === ENOMEM) throw new Error("ENOMEM");
    discardAddressSpace(vm, proc(vm, A), space);
    vm.check();
    expect(vm.phys.freeFrames).toBe(free0);
    expect(snapshotPt(vm, A)).toBe(before);
  });
});

// --- doFork against a fake kernel: the calls it makes, and undo when SYS_FORK fails. ---

/** Runs `doFork`, answering its kernel calls with `answer`; returns its result and the calls. */
function runFork(
  vm: Vm,
  req: VmReq<"VM_FORK">,
  answer: (call: KcallSeen) => KernelAnswer,
): { status: number; endpt: number; calls: KcallSeen[] } {
  const { result, calls } = runWithFakeKernel((ctx) => doFork(vm, PM, req, ctx), answer);
  return { ...result, calls };
}

describe("doFork", () => {
  test("SYS_FORK with PFF_VMINHIBIT, TLB flush, SETADDRSPACE of the child's directory", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 1);
    const r = runFork(vm, { endpt: A, slot: CHILD_SLOT }, (c) =>
      c.name === "SYS_FORK" ? { status: OK, reply: { endpt: CHILD } } : { status: OK },
    );
    expect(r.status).toBe(OK);
    expect(r.endpt).toBe(CHILD);
    const child = proc(vm, CHILD);
    expect(r.calls.map((c) => [c.name, c.req])).toEqual([
      ["SYS_FORK", { endpt: A, slot: CHILD_SLOT, flags: PFF_VMINHIBIT }],
      ["SYS_VMCTL", expect.objectContaining({ param: VMCTL_FLUSHTLB })],
      ["SYS_VMCTL", { who: CHILD, param: VMCTL_SETADDRSPACE, value: child.pt.root }],
    ]);
    expect(child.heapStart).toBe(proc(vm, A).heapStart);
    expect(child.privileged).toBe(false);
    vm.check();
    expect(peek(w, CHILD, DATA)).toBe(1);
  });

  test("unknown parent, slot in use and a failing SYS_FORK change nothing", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 1);
    const free0 = vm.phys.freeFrames;
    const before = snapshotPt(vm, A);
    const never = (): KernelAnswer => {
      throw new Error("no kernel call expected");
    };
    expect(runFork(vm, { endpt: 99 as Endpoint, slot: CHILD_SLOT }, never).status).toBe(EINVAL);
    expect(runFork(vm, { endpt: A, slot: 12 }, never).status).toBe(EINVAL);
    const failed = runFork(vm, { endpt: A, slot: CHILD_SLOT }, () => ({ status: EINVAL }));
    expect(failed.status).toBe(EINVAL);
    expect(failed.calls.map((c) => c.name)).toEqual(["SYS_FORK"]);
    expect(vm.procs.size).toBe(3);
    expect(vm.phys.freeFrames).toBe(free0);
    expect(snapshotPt(vm, A)).toBe(before);
    vm.check();
  });

  test("ENOMEM before any kernel call", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 1);
    vm.phys.allocList(vm.phys.freeFrames);
    const r = runFork(vm, { endpt: A, slot: CHILD_SLOT }, () => {
      throw new Error("no kernel call expected");
    });
    expect(r.status).toBe(ENOMEM);
  });
});

describe("property: parent and child see their own memory", () => {
  test("random writes on both sides after a fork match a model; exits free everything", () => {
    const op = fc.record({
      who: fc.constantFrom(A, CHILD),
      page: fc.integer({ min: 0, max: 5 }),
      value: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 12 }),
        fc.array(op, { maxLength: 20 }),
        (before, after) => {
          const w = setup();
          const { vm } = w;
          const free0 = vm.phys.freeFrames;
          const a = mmap(vm, A, 6);
          const model = new Map<Endpoint, number[]>([[A, new Array<number>(6).fill(0)]]);
          for (const o of before) {
            poke(w, A, a + o.page * PAGE, o.value);
            model.get(A)![o.page] = o.value;
          }
          fork(vm, A);
          model.set(CHILD, [...model.get(A)!]);
          for (const o of after) {
            poke(w, o.who, a + o.page * PAGE, o.value);
            model.get(o.who)![o.page] = o.value;
            vm.check();
          }
          for (const ep of [A, CHILD]) {
            const want = model.get(ep)!;
            for (let i = 0; i < 6; i++) expect(peek(w, ep, a + i * PAGE)).toBe(want[i]);
          }
          vm.check();
          expect(vm.exit(CHILD)).toBe(OK);
          vm.check();
          expect(vm.exit(A)).toBe(OK);
          vm.check();
          // A's directory is the loader's; everything VM handed out is back.
          expect(vm.phys.freeFrames).toBe(free0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
