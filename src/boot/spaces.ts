/**
 * Address spaces of the boot processes. Without a VM in the image the loader maps every
 * data area eagerly, as the only memory manager there is. With an entry marked `vm`, VM's own data
 * is mapped eagerly together with a window onto all physical memory, every other process
 * gets only a page directory (its data area is demand-zero, served by VM), and the loader
 * leaves VM the boot information: which frames it used and each process's page directory
 * and data region. Processes without PROC_FULLVM other than VM (RS) run in one shared mapping
 * built first (`buildSharedSpace`: a global 4 MiB page over the first 4 MiB of memory); VM
 * learns about them too, and only forks them. RS's boot tables go right below its heap.
 */
import type { Endpoint } from "../include/endpoint.ts";
import { virAddr } from "../include/types.ts";
import {
  VM_BOOTINFO,
  VM_BOOTINFO_ADDR,
  VM_BOOTINFO_MAGIC,
  VM_BOOTINFO_MAX_PROCS,
  VM_BOOTINFO_SIZE,
  VM_BOOTPROC,
  VM_PHYS_BASE,
  VM_PHYS_MAX,
} from "../include/vm.ts";
import type { Hardware } from "../hw/machine.ts";
import { PAGE_SIZE } from "../hw/memory.ts";
import type { ResolvedEntry } from "./image.ts";
import { encodeRsBootinfo, RS_BOOTINFO_PAGES, rsEntryOf, writeRsBootinfo } from "./rs_bootinfo.ts";
import {
  buildAddressSpace,
  buildSharedSpace,
  DATA_BASE,
  mapPhysWindow,
  writeVirtual,
  type AddressSpace,
  type FrameAllocator,
} from "./loader.ts";

const BOOTINFO_PAGES = Math.ceil(VM_BOOTINFO_SIZE / PAGE_SIZE);

/** Builds every boot process's address space; throws an Error naming a bad option. */
export function loadSpaces(
  hw: Hardware,
  frames: FrameAllocator,
  entries: readonly ResolvedEntry[],
  vmSanity: boolean,
): AddressSpace[] {
  const rs = rsEntryOf(entries);
  const rsInfo = rs === undefined ? undefined : encodeRsBootinfo(entries);
  // Processes without PROC_FULLVM (VM aside, whose window lives in its own directory) share
  // one mapping; it is built first, as it must lie in the first 4 MiB of memory.
  const shared = entries.filter((r) => !r.fullvm && r.entry.vm !== true);
  const sharedSpaces = new Map<ResolvedEntry, AddressSpace>();
  if (shared.length > 0) {
    const { cr3, starts } = buildSharedSpace(
      hw,
      frames,
      shared.map((r) => bootinfoPages(r) + r.dataPages),
    );
    shared.forEach((r, i) => {
      sharedSpaces.set(r, {
        cr3,
        heapBase: virAddr(starts[i]! + bootinfoPages(r) * PAGE_SIZE),
        heapSize: r.dataPages * PAGE_SIZE,
      });
    });
  }
  const spaces = buildSpaces(hw, frames, entries, vmSanity, sharedSpaces);
  if (rs !== undefined && rsInfo !== undefined) {
    const as = spaces[entries.indexOf(rs)]!;
    writeRsBootinfo(hw, as.cr3, as.heapBase, rsInfo);
  }
  return spaces;
}

/** Pages below the heap for boot information (RS's tables). */
function bootinfoPages(r: ResolvedEntry): number {
  return r.entry.rs === true ? RS_BOOTINFO_PAGES : 0;
}

/** An address space of its own whose data is mapped now (images without VM). */
function eagerSpace(hw: Hardware, frames: FrameAllocator, r: ResolvedEntry): AddressSpace {
  const skip = bootinfoPages(r);
  const as = buildAddressSpace(hw, frames, skip + r.dataPages);
  return {
    cr3: as.cr3,
    heapBase: virAddr(as.heapBase + skip * PAGE_SIZE),
    heapSize: r.dataPages * PAGE_SIZE,
  };
}

function buildSpaces(
  hw: Hardware,
  frames: FrameAllocator,
  entries: readonly ResolvedEntry[],
  vmSanity: boolean,
  shared: ReadonlyMap<ResolvedEntry, AddressSpace>,
): AddressSpace[] {
  const vmEntry = entries.find((r) => r.entry.vm === true);
  if (vmEntry === undefined) {
    return entries.map((r) => shared.get(r) ?? eagerSpace(hw, frames, r));
  }

  if (hw.mem.size > VM_PHYS_MAX) {
    throw new Error(`Invalid boot option memoryBytes: at most ${VM_PHYS_MAX >>> 20} MiB with VM`);
  }
  if (entries.length - 1 > VM_BOOTINFO_MAX_PROCS) {
    throw new Error(
      `Invalid boot option image: at most ${VM_BOOTINFO_MAX_PROCS} processes besides VM`,
    );
  }
  if (VM_BOOTINFO_ADDR !== (DATA_BASE as number)) throw new Error("VM boot information misplaced");
  const spaces = entries.map((r) => {
    const inShared = shared.get(r);
    if (inShared !== undefined) return inShared;
    if (r !== vmEntry) {
      const dir = buildAddressSpace(hw, frames, 0);
      return { ...dir, heapSize: r.dataPages * PAGE_SIZE };
    }
    const as = buildAddressSpace(hw, frames, BOOTINFO_PAGES + r.dataPages);
    mapPhysWindow(hw, as.cr3, VM_PHYS_BASE);
    return {
      cr3: as.cr3,
      heapBase: virAddr(as.heapBase + BOOTINFO_PAGES * PAGE_SIZE),
      heapSize: r.dataPages * PAGE_SIZE,
    };
  });

  // The boot information, written into VM's first data page(s) once every frame is taken.
  const vmSpace = spaces[entries.indexOf(vmEntry)]!;
  const info = new Uint8Array(VM_BOOTINFO_SIZE);
  const view = new DataView(info.buffer);
  const others = entries.filter((r) => r !== vmEntry);
  VM_BOOTINFO.write(view, {
    magic: VM_BOOTINFO_MAGIC,
    totalFrames: hw.mem.frames,
    usedFrames: frames.used / PAGE_SIZE,
    nprocs: others.length,
    sanity: vmSanity ? 1 : 0,
  });
  others.forEach((r, i) => {
    const as = spaces[entries.indexOf(r)]!;
    const at = new DataView(info.buffer, VM_BOOTINFO.size + i * VM_BOOTPROC.size);
    // A process mapped at boot: its whole data area (RS's boot information included).
    const start = virAddr(r.fullvm ? as.heapBase : as.heapBase - bootinfoPages(r) * PAGE_SIZE);
    VM_BOOTPROC.write(at, {
      endpoint: r.slot as Endpoint,
      cr3: as.cr3,
      dataStart: start,
      dataPages: (as.heapBase - start) / PAGE_SIZE + r.dataPages,
    });
  });
  writeVirtual(hw, vmSpace.cr3, VM_BOOTINFO_ADDR, info, "VM boot information");
  return spaces;
}
