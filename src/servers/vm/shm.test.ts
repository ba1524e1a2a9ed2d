import { describe, expect, test } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import { I386_VM_WRITE } from "../../include/vmpt.ts";
import { doExit, doRsSetPriv, mayCall } from "./acl.ts";
import { doMunmap } from "./mmap.ts";
import { mmapPages as mmap, vmWorld, DATA } from "./test_world.ts";
import { VmSanityError } from "./physmem.ts";
import { VR_SHARED } from "./region.ts";
import { doGetphys, doGetref, doRemap, doShmUnmap } from "./shm.ts";
import type { Vm } from "./vm.ts";

const PAGE = 4096;
const A = 11 as Endpoint;
const B = 12 as Endpoint;
const PM = 0 as Endpoint;

/** Frames 0..3 are the loader's: 1, 2, 3 the page directories of A, B and PM. */
function setup(frames = 256): Vm {
  return vmWorld(frames, 4, [
    [A, 4],
    [B, 4],
    [PM, 4],
  ]).vm;
}

function remap(vm: Vm, dest: Endpoint, src: Endpoint, sa: number, size: number, da = 0) {
  return doRemap(vm, PM, {
    dest,
    src,
    destAddr: virAddr(da),
    srcAddr: virAddr(sa),
    size,
  });
}

describe("reference counts and VM_REMAP", () => {
  test("remap shares frames (count 2, writable on both sides); each side's unmap drops one", () => {
    const vm = setup();
    const free0 = vm.phys.freeFrames;
    const a = mmap(vm, A, 2);
    expect(vm.fault(A, a, true)).toBe(OK);
    const r = remap(vm, B, A, a, 2 * PAGE);
    expect(r.status).toBe(OK);
    vm.check();
    const pa = vm.procs.get(A)!.pt.lookup(a)!;
    const pb = vm.procs.get(B)!.pt.lookup(r.addr)!;
    expect(pb.phys).toBe(pa.phys);
    expect(pb.flags & I386_VM_WRITE).toBe(I386_VM_WRITE);
    expect(vm.refcount(pa.phys)).toBe(2);
    expect(vm.procs.get(A)!.regions.at(a)!.flags & VR_SHARED).toBe(VR_SHARED);
    expect(doGetref(vm, PM, { endpoint: A, addr: virAddr(a) })).toEqual({ status: OK, count: 2 });
    expect(doGetphys(vm, PM, { endpoint: B, addr: r.addr })).toEqual({ status: OK, phys: pa.phys });

    expect(doMunmap(vm, A, { addr: virAddr(a), len: 2 * PAGE }).status).toBe(OK);
    vm.check();
    expect(vm.refcount(pa.phys)).toBe(1);
    expect(vm.phys.isFree(pa.phys / PAGE)).toBe(false);
    expect(doShmUnmap(vm, PM, { endpoint: B, addr: r.addr }).status).toBe(OK);
    vm.check();
    expect(vm.refcount(pa.phys)).toBe(0);
    expect(vm.phys.isFree(pa.phys / PAGE)).toBe(true);
    // Page tables stay until exit; after both exits everything is back.
    expect(doExit(vm, PM, { endpoint: A }).status).toBe(OK);
    expect(doExit(vm, PM, { endpoint: B }).status).toBe(OK);
    vm.check();
    expect(vm.phys.freeFrames).toBe(free0);
    expect(vm.takeTlbFlush()).toBe(true);
  });

  test("exit of one side keeps the shared frames; the directory is left empty", () => {
    const vm = setup();
    const a = mmap(vm, A, 3);
    const r = remap(vm, B, A, a, 3 * PAGE);
    expect(r.status).toBe(OK);
    const frames = [0, 1, 2].map((i) => vm.procs.get(A)!.pt.lookup(a + i * PAGE)!.phys);
    const ptA = vm.procs.get(A)!.pt;
    expect(vm.exit(A)).toBe(OK);
    vm.check();
    expect([...ptA.mappings()]).toEqual([]);
    expect(ptA.tableFrames()).toEqual([PAGE]);
    for (const f of frames) expect(vm.refcount(f)).toBe(1);
    expect(vm.exit(A)).toBe(EINVAL);
  });

  test("bad requests change nothing", () => {
    const vm = setup();
    const a = mmap(vm, A, 2);
    const before = vm.phys.freeFrames;
    expect(remap(vm, B, A, a, PAGE).status).toBe(EFAULT);
    expect(remap(vm, B, A, a + PAGE, PAGE).status).toBe(EINVAL);
    expect(remap(vm, B, A, DATA, 4 * PAGE).status).toBe(EFAULT);
    expect(remap(vm, 99 as Endpoint, A, a, 2 * PAGE).status).toBe(EINVAL);
    expect(remap(vm, B, A, a, 2 * PAGE, 0x1000_0800).status).toBe(EINVAL);
    expect(remap(vm, B, A, a, 2 * PAGE, DATA).status).toBe(EINVAL);
    expect(doShmUnmap(vm, PM, { endpoint: A, addr: virAddr(a) }).status).toBe(EFAULT);
    expect(vm.phys.freeFrames).toBe(before);
    vm.check();
  });

  test("the privileged calls need the privileged flag; RS_SET_PRIV changes it", () => {
    const vm = setup();
    expect(mayCall(vm, PM, "VM_REMAP")).toBe(true);
    expect(mayCall(vm, A, "VM_REMAP")).toBe(false);
    expect(mayCall(vm, A, "VM_MMAP")).toBe(true);
    expect(mayCall(vm, 99 as Endpoint, "VM_INFO")).toBe(true);
    expect(mayCall(vm, 99 as Endpoint, "VM_EXIT")).toBe(false);
    expect(doRsSetPriv(vm, PM, { endpoint: A, privileged: 1 }).status).toBe(OK);
    expect(mayCall(vm, A, "VM_EXIT")).toBe(true);
    expect(doRsSetPriv(vm, PM, { endpoint: 99 as Endpoint, privileged: 1 }).status).toBe(EINVAL);
  });
});

describe("sanity check", () => {
  test("notices a count that does not match the mappings", () => {
    const vm = setup();
    const a = mmap(vm, A, 1);
    expect(vm.fault(A, a, true)).toBe(OK);
    const pa = vm.procs.get(A)!.pt.lookup(a)!.phys;
    vm.ref(pa);
    expect(() => vm.check()).toThrow(VmSanityError);
    vm.unref(pa);
    vm.check();
  });

  test("notices a writable entry on a shared frame outside a VR_SHARED region", () => {
    const vm = setup();
    const a = mmap(vm, A, 1);
    expect(vm.fault(A, a, true)).toBe(OK);
    const pa = vm.procs.get(A)!.pt.lookup(a)!.phys;
    const b = mmap(vm, B, 1);
    expect(vm.mapShared(vm.procs.get(B)!, b, pa, 0x4 | I386_VM_WRITE)).toBe(OK);
    expect(() => vm.check()).toThrow(/shared/);
  });

  test("notices a leaked frame and a frame both mapped and free", () => {
    const vm = setup();
    const f = vm.phys.alloc(1);
    expect(() => vm.check()).toThrow(/leaked/);
    vm.phys.free(f, 1);
    vm.check();
    const a = mmap(vm, A, 1);
    expect(vm.fault(A, a, false)).toBe(OK);
    const pa = vm.procs.get(A)!.pt.lookup(a)!.phys;
    vm.phys.free(pa / PAGE, 1);
    expect(() => vm.check()).toThrow(/free/);
  });

  test("unreferencing below zero is a VM bug", () => {
    const vm = setup();
    expect(() => vm.unref(100 * PAGE)).toThrow(VmSanityError);
  });
});
