/**
 * TEST-ONLY helpers for VM's unit tests (*.test.ts in this folder): a Vm over fake physical
 * memory with processes adopted as the boot loader would leave them, and the loads, stores and
 * mmaps a process would make. VM itself never imports this file.
 */
import { expect } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import { ENOMEM, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../include/vm.ts";
import { I386_PAGE_SIZE, I386_VM_WRITE } from "../../include/vmpt.ts";
import { FakePhysMemory } from "./fake_memory.ts";
import { copyAddressSpace, type ForkedSpace } from "./fork.ts";
import { doMmap } from "./mmap.ts";
import { Vm, type VmProc } from "./vm.ts";

/** Where the loader puts every boot process's data area. */
export const DATA = 0x40_0000;

export interface World {
  vm: Vm;
  mem: FakePhysMemory;
}

/**
 * A Vm over `frames` frames of which the first `reserved` are the loader's; `procs[i]` (its
 * endpoint and data pages) is adopted with its page directory in frame i + 1.
 */
export function vmWorld(
  frames: number,
  reserved: number,
  procs: readonly (readonly [Endpoint, number])[],
): World {
  const mem = new FakePhysMemory(frames * I386_PAGE_SIZE);
  const vm = new Vm(mem, frames, reserved);
  procs.forEach(([ep, pages], i) => {
    expect(vm.adopt(ep, (i + 1) * I386_PAGE_SIZE, DATA, pages)).toBe(OK);
  });
  vm.check();
  return { vm, mem };
}

export function procOf(vm: Vm, ep: Endpoint): VmProc {
  const p = vm.procs.get(ep);
  if (p === undefined) throw new Error(`no process ${ep}`);
  return p;
}

/**
 * The entry a load (or, `write`, a store) by `ep` at `addr` goes through, as the MMU and VM
 * would find it: present (and writable for a store) at once, or after VM's fault; the fault's
 * status if VM refused.
 */
export function touch(
  w: World,
  ep: Endpoint,
  addr: number,
  write: boolean,
): { phys: number; flags: number } | number {
  const pt = procOf(w.vm, ep).pt;
  const usable = (e: { flags: number } | undefined): boolean =>
    e !== undefined && (!write || (e.flags & I386_VM_WRITE) !== 0);
  const e = pt.lookup(addr);
  if (e !== undefined && usable(e)) return e;
  const r = w.vm.fault(ep, addr, write);
  if (r !== OK) return r;
  const after = pt.lookup(addr);
  if (after === undefined || !usable(after)) throw new Error("fault left the page unusable");
  return after;
}

/** {@link touch}, expecting VM to allow the access. */
function mustTouch(w: World, ep: Endpoint, addr: number, write: boolean): number {
  const e = touch(w, ep, addr, write);
  expect(e, `fault at 0x${addr.toString(16)}`).not.toBeTypeOf("number");
  return typeof e === "number" ? -1 : e.phys;
}

/** A store of one byte by `ep`, as the MMU and VM would do it (fault, then retry). */
export function poke(w: World, ep: Endpoint, addr: number, v: number): void {
  w.mem.bytes[mustTouch(w, ep, addr, true)] = v;
}

/** A load of one byte by `ep`. */
export function peek(w: World, ep: Endpoint, addr: number): number {
  return w.mem.bytes[mustTouch(w, ep, addr, false)] ?? -1;
}

/**
 * An anonymous mmap of `pages` pages (private unless `flags` says otherwise) where VM chooses;
 * expects OK, returns the address.
 */
export function mmapPages(
  vm: Vm,
  ep: Endpoint,
  pages: number,
  prot = PROT_READ | PROT_WRITE,
  flags = MAP_ANON | MAP_PRIVATE,
): number {
  const r = doMmap(vm, ep, {
    addr: virAddr(0),
    len: pages * I386_PAGE_SIZE,
    prot,
    flags,
    fd: -1,
    offset: 0,
  });
  expect(r.status).toBe(OK);
  return r.addr;
}

/**
 * A fork in VM's state alone: {@link copyAddressSpace} of `parent` and the child registered
 * under `child` with the parent's other fields (what doFork does around SYS_FORK); checked.
 */
export function forkSpace(vm: Vm, parent: Endpoint, child: Endpoint): ForkedSpace {
  const p = procOf(vm, parent);
  const space = copyAddressSpace(vm, p);
  if (space === ENOMEM) throw new Error("ENOMEM");
  vm.procs.set(child, { ...p, endpoint: child, pt: space.pt, regions: space.regions });
  vm.check();
  return space;
}
