import { describe, expect, test } from "vitest";
import { makeEndpoint, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { VMCTL_SETADDRSPACE } from "../../include/kcall.ts";
import { EXEC_IMAGE_PAGES_MAX, VM_USER_TOP, type VmReq } from "../../include/vm.ts";
import { I386_VM_WRITE } from "../../include/vmpt.ts";
import { buildImage, doExecNewmem, installImage } from "./exec.ts";
import { runWithFakeKernel, type KcallSeen } from "./fake_kernel.ts";
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
const PM = 0 as Endpoint;
const CHILD = makeEndpoint(1, 20);

/** Frames 0..2 are the loader's: 1 and 2 the page directories of A and PM. */
function setup(frames = 128): World {
  return vmWorld(frames, 3, [
    [A, 4],
    [PM, 4],
  ]);
}

function snapshot(vm: Vm, ep: Endpoint): string {
  const p = proc(vm, ep);
  return JSON.stringify([p.pt.root, [...p.pt.mappings()], p.regions.regions()]);
}

/** buildImage + installImage, as doExecNewmem does around VMCTL_SETADDRSPACE. */
function exec(vm: Vm, ep: Endpoint, pages: number): number {
  const old = proc(vm, ep);
  const image = buildImage(vm, old, pages);
  if (image === ENOMEM) return ENOMEM;
  installImage(vm, old, image);
  return OK;
}

describe("buildImage / installImage", () => {
  test("the new image: data area demand-zero, image pages present and zeroed; old memory freed", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 7);
    poke(w, A, DATA + 3 * PAGE, 8);
    const m = mmap(vm, A, 2);
    poke(w, A, m, 9);
    const free0 = vm.phys.freeFrames;
    const used = [...proc(vm, A).pt.mappings()].map((x) => x.phys);
    vm.takeTlbFlush();
    expect(exec(vm, A, 3)).toBe(OK);
    expect(vm.takeTlbFlush()).toBe(true);
    vm.check();
    const p = proc(vm, A);
    expect(p.pt.root).not.toBe(1 * PAGE);
    const regions = p.regions.regions();
    expect(regions.map((r) => [r.tag, r.length])).toEqual([
      ["data", 4 * PAGE],
      ["image", 3 * PAGE],
    ]);
    const image = regions[1]!;
    expect(image.start + image.length).toBe(VM_USER_TOP);
    for (let i = 0; i < 3; i++) {
      const e = p.pt.lookup(image.start + i * PAGE)!;
      expect(e.flags & I386_VM_WRITE).toBe(I386_VM_WRITE);
      expect(vm.refcount(e.phys)).toBe(1);
      expect(w.mem.bytes.subarray(e.phys, e.phys + PAGE).every((b) => b === 0)).toBe(true);
    }
    // Old frames are free again (refcount 0); the data area is absent until touched.
    for (const pa of used) expect(vm.refcount(pa)).toBe(0);
    expect(p.pt.lookup(DATA)).toBeUndefined();
    expect(peek(w, A, DATA)).toBe(0);
    expect(peek(w, A, DATA + 3 * PAGE)).toBe(0);
    expect(p.regions.regions().some((r) => r.tag === "mmap")).toBe(false);
    // 3 old frames (2 data pages, 1 mmap page) went, 3 image frames, a directory and 2 page tables came; the
    // old page tables (2) went; the two data pages just read took two more.
    expect(vm.phys.freeFrames).toBe(free0 + 3 - 3 - 3 + 2 - 2);
    expect(p.heapStart).toBe(DATA + 4 * PAGE);
    vm.check();
  });

  test("writes into the image stay private; exec again frees the VM-allocated directory", () => {
    const w = setup();
    const { vm } = w;
    expect(exec(vm, A, 2)).toBe(OK);
    const start = proc(vm, A).regions.regions()[1]!.start;
    poke(w, A, start, 5);
    const root = proc(vm, A).pt.root;
    const free0 = vm.phys.freeFrames;
    expect(exec(vm, A, 2)).toBe(OK);
    vm.check();
    expect(proc(vm, A).pt.root).not.toBe(root);
    expect(peek(w, A, start)).toBe(0);
    expect(vm.phys.freeFrames).toBe(free0);
  });

  test("imagePages 0: only the data area", () => {
    const w = setup();
    expect(exec(w.vm, A, 0)).toBe(OK);
    expect(
      proc(w.vm, A)
        .regions.regions()
        .map((r) => r.tag),
    ).toEqual(["data"]);
    w.vm.check();
  });

  test("out of memory at any point: ENOMEM, everything of the new image freed, old image intact", () => {
    const w = setup(64);
    const { vm } = w;
    poke(w, A, DATA, 7);
    poke(w, A, DATA + PAGE, 8);
    const free0 = vm.phys.freeFrames;
    const before = snapshot(vm, A);
    // Every size from "just too big" down to where it first fits; and far beyond memory.
    let fits = -1;
    for (let n = free0 + 1; n >= 0 && fits < 0; n--) {
      const old = proc(vm, A);
      const r = buildImage(vm, old, n);
      if (r === ENOMEM) {
        expect(vm.phys.freeFrames).toBe(free0);
        expect(snapshot(vm, A)).toBe(before);
        vm.check();
      } else {
        fits = n;
        vm.discardTable(r.pt);
        expect(vm.phys.freeFrames).toBe(free0);
        vm.check();
      }
    }
    // A directory and one page table are needed besides the image.
    expect(fits).toBe(free0 - 2);
    expect(buildImage(vm, proc(vm, A), EXEC_IMAGE_PAGES_MAX)).toBe(ENOMEM);
    expect(peek(w, A, DATA)).toBe(7);
    expect(peek(w, A, DATA + PAGE)).toBe(8);
    vm.check();
  });

  test("a forked child's exec drops its shares: the parent's frames are its own again", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 7);
    const parent = proc(vm, A);
    forkSpace(vm, A, CHILD);
    const pa = parent.pt.lookup(DATA)!.phys;
    expect(vm.refcount(pa)).toBe(2);
    expect(exec(vm, CHILD, 1)).toBe(OK);
    vm.check();
    expect(vm.refcount(pa)).toBe(1);
    expect(peek(w, A, DATA)).toBe(7);
    expect(peek(w, CHILD, DATA)).toBe(0);
  });
});

// --- doExecNewmem against a fake kernel. ---

/** Runs doExecNewmem, answering every kernel call with `status`. */
function runExec(
  vm: Vm,
  req: VmReq<"VM_EXEC_NEWMEM">,
  status = OK,
): { status: number; addr: number; calls: KcallSeen[] } {
  const { result, calls } = runWithFakeKernel(
    (ctx) => doExecNewmem(vm, PM, req, ctx),
    () => ({ status }),
  );
  return { ...result, calls };
}

describe("doExecNewmem", () => {
  test("builds, installs with VMCTL_SETADDRSPACE, then releases; replies the image start", () => {
    const w = setup();
    const { vm } = w;
    poke(w, A, DATA, 7);
    const r = runExec(vm, { endpt: A, imagePages: 2 });
    expect(r.status).toBe(OK);
    const p = proc(vm, A);
    expect(r.calls).toEqual([
      { name: "SYS_VMCTL", req: { who: A, param: VMCTL_SETADDRSPACE, value: p.pt.root } },
    ]);
    expect(r.addr).toBe(VM_USER_TOP - 2 * PAGE);
    expect(vm.takeTlbFlush()).toBe(true);
    vm.check();
    expect(peek(w, A, DATA)).toBe(0);
  });

  test("unknown process, too many pages, ENOMEM and a refused SETADDRSPACE change nothing", () => {
    const w = setup(64);
    const { vm } = w;
    poke(w, A, DATA, 7);
    const free0 = vm.phys.freeFrames;
    const before = snapshot(vm, A);
    expect(runExec(vm, { endpt: 99 as Endpoint, imagePages: 1 }).status).toBe(EINVAL);
    expect(runExec(vm, { endpt: A, imagePages: EXEC_IMAGE_PAGES_MAX + 1 }).status).toBe(EINVAL);
    const nomem = runExec(vm, { endpt: A, imagePages: free0 });
    expect(nomem.status).toBe(ENOMEM);
    expect(nomem.calls).toEqual([]);
    const refused = runExec(vm, { endpt: A, imagePages: 1 }, EINVAL);
    expect(refused.status).toBe(EINVAL);
    expect(refused.calls.map((c) => c.name)).toEqual(["SYS_VMCTL"]);
    expect(vm.phys.freeFrames).toBe(free0);
    expect(snapshot(vm, A)).toBe(before);
    vm.check();
    expect(peek(w, A, DATA)).toBe(7);
  });
});
