/**
 * VM_FORK (MINIX-SPEC §7.2, §8.7): PM names a process VM manages and a free slot; VM copies
 * the parent's address space copy-on-write, has the kernel create the child (SYS_FORK with
 * PFF_VMINHIBIT), installs the child's page directory (VMCTL_SETADDRSPACE, which lets it run)
 * and replies with the child's endpoint. A privileged call (acl.ts).
 *
 * Two parts, so that the memory logic can be tested without a kernel:
 * - {@link copyAddressSpace} (pure VM state): a new page directory for the child, a copy of
 *   every region, and every present page of the parent mapped at the same address in the
 *   child with one more reference on its frame (MINIX `map_proc_copy`). In VR_SHARED
 *   regions both keep the entry's permissions (shared memory stays shared and writable);
 *   everywhere else the child's entry is read-only and so, afterwards, is the parent's: the
 *   first write on either side copies that page (`Vm.fault` → `Vm.cowPage`). A frame shared
 *   by safemap (SMAP, map.ts) is the exception: the child gets a private copy at once and
 *   the parent's entry is left alone (MINIX-SPEC §4.7). Pages absent
 *   in the parent stay absent in both: each side gets its own demand-zero page later.
 *   The child's mappings are all made before the parent's entries are touched, so running
 *   out of memory for page tables (ENOMEM) undoes the child alone and changes nothing.
 * - {@link doFork} (the message handler): checks, the copy, SYS_FORK (on error the copy is
 *   undone by {@link discardAddressSpace}, the parent's entries becoming writable again), the
 *   child registered under its new endpoint, the TLB flushed (the parent's entries lost
 *   their write permission), VMCTL_SETADDRSPACE, reply.
 *
 * A boot process without PROC_FULLVM (RS, PM: they run in the loader's shared mapping) is
 * forked too: its child gets {@link copyBootMapped}, a full address space of its own with a
 * copy of the parent's data.
 *
 * Decisions:
 * - The parent must be known to VM (EINVAL), i.e. a process whose memory VM manages (not VM
 *   itself, not a slot VM never heard of). A slot VM already uses is refused (EINVAL, as
 *   MINIX's check of `vmproc[slot]`); the kernel refuses other bad slots and a parent that
 *   is not waiting for a reply (EINVAL). An unprivileged caller gets EPERM (acl.ts).
 * - The child inherits the heap start and the privileged-call flag (MINIX copies the whole
 *   vmproc, VM call mask included).
 * - VM does not pre-fault the reply-message pages (MINIX did, because its kernel could not
 *   fault during delivery): here a delivery into a COW page goes through the kernel's
 *   memory-request flow, whose write makes VM copy the page.
 * MINIX: servers/vm/fork.c `do_fork`, region.c `map_proc_copy`.
 */
import { NONE, SELF, slotOf, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { PFF_VMINHIBIT, VMCTL_FLUSHTLB, VMCTL_SETADDRSPACE } from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { VmReq } from "../../include/vm.ts";
import { I386_PAGE_SIZE, I386_VM_USER, I386_VM_WRITE } from "../../include/vmpt.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { kernelCall } from "../../lib/libsys/kernel_call.ts";
import { sysVmctl } from "../../lib/libsys/sys_vmctl.ts";
import type { VmResult } from "./mmap.ts";
import { PageTable, PT_COPY_BITS, PT_FLAGS_MASK } from "./pagetable.ts";
import { VmSanityError } from "./physmem.ts";
import { RegionSet, VR_DIRECT, VR_SHARED } from "./region.ts";
import { addDataRegion, isSystemSlot, type BootMapped, type Vm, type VmProc } from "./vm.ts";

/** The child's address space before it has an endpoint, and what the parent lost. */
export interface ForkedSpace {
  readonly pt: PageTable;
  readonly regions: RegionSet;
  /** The parent's entries made read-only: page address and the entry bits it had. */
  readonly protected: readonly { readonly vaddr: number; readonly flags: number }[];
}

/**
 * Copies the address space of `parent` copy-on-write into a new page table (see the file
 * comment). Marks the TLB stale when parent entries were write-protected.
 * @returns the child's space, or ENOMEM with nothing changed.
 */
export function copyAddressSpace(vm: Vm, parent: VmProc): ForkedSpace | typeof ENOMEM {
  const pt = PageTable.create(vm.access, vm);
  if (pt === ENOMEM) return ENOMEM;
  const regions = new RegionSet();
  for (const region of parent.regions) {
    if (regions.add(region) !== OK) throw new VmSanityError("fork: cannot copy a region");
  }
  const cow: { vaddr: number; flags: number }[] = [];
  for (const m of parent.pt.mappings()) {
    const region = parent.regions.find(m.vaddr);
    if (region === undefined) {
      throw new VmSanityError(`fork: page 0x${m.vaddr.toString(16)} lies in no region`);
    }
    if (vm.isSmap(m.phys)) {
      // A safemap share is never made copy-on-write: the child gets its own copy now and the
      // parent's entry stays as it is (shared, writable if it was).
      const frame = vm.copyFrame(region, m.phys);
      if (frame < 0 || vm.mapFresh(pt, m.vaddr, frame, m.flags & PT_COPY_BITS) !== OK) {
        vm.discardTable(pt);
        return ENOMEM;
      }
      continue;
    }
    const shared = (region.flags & (VR_SHARED | VR_DIRECT)) !== 0;
    const bits = shared ? m.flags & PT_COPY_BITS : m.flags & PT_COPY_BITS & ~I386_VM_WRITE;
    const r = pt.writeMap(m.vaddr, m.phys, I386_PAGE_SIZE, bits);
    if (r !== OK) {
      // Out of memory for a page table: drop what the child has, the parent is untouched.
      vm.discardTable(pt);
      return ENOMEM;
    }
    vm.ref(m.phys);
    if (!shared && (m.flags & I386_VM_WRITE) !== 0) cow.push({ vaddr: m.vaddr, flags: m.flags });
  }
  for (const { vaddr, flags } of cow) {
    if (parent.pt.setFlags(vaddr, flags & PT_FLAGS_MASK & ~I386_VM_WRITE) !== OK) {
      throw new VmSanityError(`fork: cannot write-protect 0x${vaddr.toString(16)}`);
    }
  }
  if (cow.length > 0) vm.staleTlb();
  return { pt, regions, protected: cow };
}

/**
 * Undoes {@link copyAddressSpace} (SYS_FORK failed): the child's references and page tables
 * go, and the parent's write-protected entries are writable again (their frames are
 * unshared once more). Restoring a permission needs no TLB flush.
 */
export function discardAddressSpace(vm: Vm, parent: VmProc, space: ForkedSpace): void {
  vm.discardTable(space.pt);
  for (const { vaddr, flags } of space.protected) {
    if (parent.pt.setFlags(vaddr, flags & PT_FLAGS_MASK) !== OK) {
      throw new VmSanityError(`fork: cannot restore 0x${vaddr.toString(16)}`);
    }
  }
}

/**
 * The child's space when the parent is a boot process in the shared mapping (no PROC_FULLVM):
 * a page table of its own, one writable data region where the parent's data is, and every
 * page a fresh frame holding a copy of the parent's page (nothing to share copy-on-write: the
 * parent's memory is the loader's). ENOMEM with nothing changed.
 */
export function copyBootMapped(vm: Vm, parent: BootMapped): ForkedSpace | typeof ENOMEM {
  const pt = PageTable.create(vm.access, vm);
  if (pt === ENOMEM) return ENOMEM;
  const regions = new RegionSet();
  const data =
    addDataRegion(regions, parent.dataStart, parent.dataPages) === OK
      ? regions.at(parent.dataStart)
      : undefined;
  if (data === undefined) throw new VmSanityError("fork: cannot make the child's data region");
  const src = PageTable.adopt(vm.access, vm, parent.cr3);
  for (let va = data.start; va < data.start + data.length; va += I386_PAGE_SIZE) {
    const from = src.lookup(va);
    const frame = from === undefined ? -1 : vm.copyFrame(data, from.phys);
    if (frame < 0 || vm.mapFresh(pt, va, frame, I386_VM_USER | I386_VM_WRITE) !== OK) {
      vm.discardTable(pt);
      return ENOMEM;
    }
  }
  return { pt, regions, protected: [] };
}

function forkResult(status: number, endpt: Endpoint = NONE): VmResult<"VM_FORK"> {
  return { status, endpt };
}

/** VM_FORK: creates the child of `req.endpt` in slot `req.slot`. Reply: its endpoint. */
export function* doFork(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_FORK">,
  ctx: ProcessContext,
): Syscall<VmResult<"VM_FORK">> {
  const parent = vm.procs.get(req.endpt);
  const boot = parent === undefined ? vm.bootMapped.get(req.endpt) : undefined;
  if (parent === undefined && boot === undefined) return forkResult(EINVAL);
  for (const ep of vm.procs.keys()) if (slotOf(ep) === req.slot) return forkResult(EINVAL);

  const space = parent !== undefined ? copyAddressSpace(vm, parent) : copyBootMapped(vm, boot!);
  if (space === ENOMEM) return forkResult(ENOMEM);
  const f = yield* kernelCall(ctx, "SYS_FORK", {
    endpt: req.endpt,
    slot: req.slot,
    flags: PFF_VMINHIBIT,
  });
  if (f.status !== OK) {
    if (parent !== undefined) discardAddressSpace(vm, parent, space);
    else vm.discardTable(space.pt);
    return forkResult(f.status);
  }
  const child = f.reply.endpt;
  const dataStart = parent?.dataStart ?? boot!.dataStart;
  const dataPages = parent?.dataPages ?? boot!.dataPages;
  vm.procs.set(child, {
    endpoint: child,
    pt: space.pt,
    regions: space.regions,
    heapStart: parent?.heapStart ?? dataStart + dataPages * I386_PAGE_SIZE,
    dataStart,
    dataPages,
    privileged: parent?.privileged ?? isSystemSlot(req.endpt),
  });
  // The parent's entries lost their write permission: no stale writable translation may stay.
  if (vm.takeTlbFlush()) yield* sysVmctl(ctx, SELF, VMCTL_FLUSHTLB);
  const s = yield* sysVmctl(ctx, child, VMCTL_SETADDRSPACE, space.pt.root);
  if (s.status !== OK) throw new VmSanityError(`fork: cannot install the page table of ${child}`);
  return forkResult(OK, child);
}
