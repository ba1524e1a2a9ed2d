import { describe, expect, test } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import { doExit } from "./acl.ts";
import { doKeep } from "./keep.ts";
import { VR_SHARED } from "./region.ts";
import { mmapPages as mmap, vmWorld, DATA, type World } from "./test_world.ts";
import type { Vm } from "./vm.ts";

const PAGE = 4096;
const A = 11 as Endpoint;
const B = 12 as Endpoint;
const KEY = 0x4453;

function setup(frames = 256): World {
  return vmWorld(frames, 4, [
    [A, 4],
    [B, 4],
  ]);
}

const keep = (vm: Vm, ep: Endpoint, addr: number, size: number, key = KEY) =>
  doKeep(vm, ep, { addr: virAddr(addr), size, key });

describe("VM_KEEP", () => {
  test("kept frames outlive the process, a later caller maps the same frames, release frees", () => {
    const { vm, mem } = setup();
    const a = mmap(vm, A, 3);
    expect(keep(vm, A, a, 3 * PAGE)).toEqual({ status: OK, addr: a, fresh: 1, size: 3 * PAGE });
    vm.check();
    const frames = [...vm.kept.get(KEY)!];
    expect(frames).toHaveLength(3);
    for (const pa of frames) expect(vm.refcount(pa)).toBe(2);
    expect(vm.procs.get(A)!.regions.at(a)!.flags & VR_SHARED).toBe(VR_SHARED);
    for (let i = 0; i < 3; i++) mem.write32(frames[i]!, 0x1000 + i);
    // The process goes: its mapping goes, the frames stay.
    expect(doExit(vm, A, { endpoint: A }).status).toBe(OK);
    vm.check();
    for (const pa of frames) expect(vm.refcount(pa)).toBe(1);
    // Another process attaches: same frames, same contents, writable, shared.
    const r = keep(vm, B, 0, 1);
    expect(r.status).toBe(OK);
    expect(r.fresh).toBe(0);
    expect(r.size).toBe(3 * PAGE);
    for (let i = 0; i < 3; i++) {
      const e = vm.procs.get(B)!.pt.lookup(r.addr + i * PAGE)!;
      expect(e.phys).toBe(frames[i]);
      expect(mem.read32(e.phys)).toBe(0x1000 + i);
    }
    vm.check();
    // Release: B's mapping keeps the frames until B goes.
    expect(keep(vm, B, 0, 0).status).toBe(OK);
    expect(vm.kept.has(KEY)).toBe(false);
    vm.check();
    expect(doExit(vm, B, { endpoint: B }).status).toBe(OK);
    vm.check();
    for (const pa of frames) expect(vm.refcount(pa)).toBe(0);
  });

  test("errors: not a region start, wrong size, data area, unknown release", () => {
    const { vm } = setup();
    const a = mmap(vm, A, 2);
    expect(keep(vm, A, a + PAGE, PAGE).status).toBe(EINVAL);
    expect(keep(vm, A, a, PAGE).status).toBe(EINVAL);
    expect(keep(vm, A, DATA, 4 * PAGE).status).toBe(EFAULT);
    expect(keep(vm, 99 as Endpoint, a, 2 * PAGE).status).toBe(EINVAL);
    expect(keep(vm, A, 0, 0).status).toBe(EINVAL);
    expect(keep(vm, A, a, 2 * PAGE).status).toBe(OK);
    expect(keep(vm, B, 0x1234, 2 * PAGE).status).toBe(EINVAL);
    // An address that is not free is EINVAL too (as for VM_REMAP), not ENOMEM.
    const b = mmap(vm, B, 1);
    expect(keep(vm, B, b, 2 * PAGE).status).toBe(EINVAL);
    expect(vm.kept.get(KEY)).toHaveLength(2);
    vm.check();
  });
});
