/**
 * VM_EXEC_NEWMEM (MINIX-SPEC §8.9, exec with out-of-memory recovery since 32fbbd370): PM
 * names a process VM manages and the size of the new program's loaded image; VM replaces
 * the process's address space, or — out of memory — leaves it exactly as it was. A
 * privileged call (acl.ts). PM then makes the kernel start the program (SYS_EXEC).
 *
 * Two parts, so that the memory logic can be tested without a kernel:
 * - {@link buildImage} (pure VM state): the new image is built FIRST, beside the old one —
 *   a new page directory, a RegionSet with the process's demand-zero data area (same start
 *   and size as before) and an "image" region of `imagePages` pages whose frames are all
 *   allocated, zeroed and mapped up front (that is the loaded binary). If any allocation
 *   fails (a frame, a page table, the directory) everything of the new image is freed again
 *   and the result is ENOMEM: the old image was never touched.
 * - {@link doExecNewmem} (the message handler): checks, the build, VMCTL_SETADDRSPACE of the
 *   new directory, and only then the old image released ({@link Vm.releaseSpace}: its frames
 *   lose a reference, VM's page tables are freed, the loader's directory frame stays
 *   reserved); the main loop flushes the TLB before the reply.
 *
 * Decisions:
 * - Instead of MINIX's copy of the old vmproc into a temporary slot (VMP_EXECTMP), the old
 *   VmProc simply stays registered until the new one is complete: the sanity checker never
 *   sees a half-built image (it runs between requests) and nothing needs restoring.
 * - The image region is writable (text and data of the image are one region here) and is
 *   placed in the highest free slot below VM_USER_TOP, so the heap (brk, from the end of the
 *   data area) keeps its room. The reply carries its start address.
 * - The heap region, mmaps and shared memory of the old image all go (an exec'd process
 *   starts with the image and the data area only); the heap start and the privileged-call
 *   flag stay.
 * - Unknown process (not managed by VM, e.g. VM itself): EINVAL; imagePages above
 *   EXEC_IMAGE_PAGES_MAX: EINVAL; VMCTL_SETADDRSPACE refused: the new image is freed, the error
 *   returned, the old image stays.
 * MINIX: servers/vm/exec.c `do_exec_newmem`, `new_mem`.
 */
import { virAddr } from "../../include/types.ts";
import type { Endpoint } from "../../include/endpoint.ts";
import { EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { VMCTL_SETADDRSPACE } from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { EXEC_IMAGE_PAGES_MAX, VM_USER_TOP, type VmReq } from "../../include/vm.ts";
import { I386_PAGE_SIZE, I386_VM_USER, I386_VM_WRITE } from "../../include/vmpt.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { sysVmctl } from "../../lib/libsys/sys_vmctl.ts";
import type { VmResult } from "./mmap.ts";
import { PageTable } from "./pagetable.ts";
import { RegionSet, VR_ANON, VR_WRITABLE } from "./region.ts";
import { addDataRegion, type Vm, type VmProc } from "./vm.ts";

const PAGE = I386_PAGE_SIZE;

/** A new image built beside the old one: not yet registered, not yet installed. */
export interface NewImage {
  readonly pt: PageTable;
  readonly regions: RegionSet;
  /** Start of the image region (its address if imagePages is 0: none is made). */
  readonly imageStart: number;
}

/**
 * Builds the new address space of `vmp` with an image of `imagePages` pages (see the file
 * comment). Each image frame is counted once (its one mapping in the new table).
 * @returns the new image, or ENOMEM with everything of it freed and `vmp` untouched.
 */
export function buildImage(vm: Vm, vmp: VmProc, imagePages: number): NewImage | typeof ENOMEM {
  const regions = new RegionSet();
  if (vmp.dataPages > 0) {
    if (addDataRegion(regions, vmp.dataStart, vmp.dataPages) !== OK) return ENOMEM;
  }
  let imageStart = VM_USER_TOP;
  if (imagePages > 0) {
    const len = imagePages * PAGE;
    const at = regions.findFree(len, { below: VM_USER_TOP, above: vmp.heapStart });
    if (at < 0) return ENOMEM;
    if (
      regions.add({ start: at, length: len, flags: VR_ANON | VR_WRITABLE, tag: "image" }) !== OK
    ) {
      return ENOMEM;
    }
    imageStart = at;
  }
  const pt = PageTable.create(vm.access, vm);
  if (pt === ENOMEM) return ENOMEM;
  const bits = I386_VM_USER | I386_VM_WRITE;
  for (let i = 0; i < imagePages; i++) {
    const frame = vm.allocFrame();
    if (frame >= 0) vm.zeroFrame(frame);
    if (frame < 0 || vm.mapFresh(pt, imageStart + i * PAGE, frame, bits) !== OK) {
      vm.discardTable(pt);
      return ENOMEM;
    }
  }
  return { pt, regions, imageStart };
}

/**
 * Registers `image` as the address space of `old.endpoint` and releases the old one. The
 * directory must already be installed in the kernel; the TLB is marked stale.
 */
export function installImage(vm: Vm, old: VmProc, image: NewImage): VmProc {
  const vmp: VmProc = {
    endpoint: old.endpoint,
    pt: image.pt,
    regions: image.regions,
    heapStart: old.heapStart,
    dataStart: old.dataStart,
    dataPages: old.dataPages,
    privileged: old.privileged,
  };
  vm.procs.set(old.endpoint, vmp);
  vm.releaseSpace(old);
  return vmp;
}

function result(status: number, addr = 0): VmResult<"VM_EXEC_NEWMEM"> {
  return { status, addr: virAddr(addr) };
}

/** VM_EXEC_NEWMEM: the new image for `req.endpt`, or ENOMEM with the old one intact. */
export function* doExecNewmem(
  vm: Vm,
  _caller: Endpoint,
  req: VmReq<"VM_EXEC_NEWMEM">,
  ctx: ProcessContext,
): Syscall<VmResult<"VM_EXEC_NEWMEM">> {
  const old = vm.procs.get(req.endpt);
  if (old === undefined) return result(EINVAL);
  if (!Number.isInteger(req.imagePages) || req.imagePages > EXEC_IMAGE_PAGES_MAX) {
    return result(EINVAL);
  }
  const image = buildImage(vm, old, req.imagePages);
  if (image === ENOMEM) return result(ENOMEM);
  const s = yield* sysVmctl(ctx, old.endpoint, VMCTL_SETADDRSPACE, image.pt.root);
  if (s.status !== OK) {
    vm.discardTable(image.pt);
    return result(s.status);
  }
  installImage(vm, old, image);
  return result(OK, image.imageStart);
}
