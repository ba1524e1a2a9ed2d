/**
 * VM_KEEP (not MINIX's): memory that outlives the process that made it. DS keeps its journal
 * in such a region, so that a DS restarted by RS finds its store again (servers/ds/journal.ts).
 *
 * - Unknown `key`, `size` > 0: the caller's mmap region starting exactly at `addr` with
 *   exactly `size` bytes (page rounded) is made shared (every page present, zeroed if it was
 *   absent; a copy-on-write page is copied first) and VM takes one reference on each frame,
 *   recorded under `key`. The frames stay allocated whatever happens to the process.
 * - Known `key`: those frames are mapped into the caller at `addr` (0: the highest free slot,
 *   like mmap) as a VR_SHARED writable mmap region, one reference more each, whatever `size`
 *   (> 0) says: the reply gives the kept size. The same process may attach again.
 * - `size` 0: VM drops its references (frames mapped nowhere else become free); EINVAL for
 *   an unknown key.
 * Errors: EINVAL (unknown caller, bad region or size, address not free), EFAULT (a region not
 * made by mmap), ENOMEM. Privileged (acl.ts). The sanity check counts kept references.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import type { VmReq } from "../../include/vm.ts";
import { I386_PAGE_SIZE } from "../../include/vmpt.ts";
import type { VmResult } from "./mmap.ts";
import { VR_DIRECT, VR_WRITABLE } from "./region.ts";
import { framesOf, makePresent, mapSharedRegion, markShared, placeDest } from "./shm.ts";
import type { Vm } from "./vm.ts";

const PAGE = I386_PAGE_SIZE;

function result(status: number, addr = 0, fresh = 0, size = 0): VmResult<"VM_KEEP"> {
  return { status, addr: virAddr(addr), fresh, size };
}

export function doKeep(vm: Vm, caller: Endpoint, req: VmReq<"VM_KEEP">): VmResult<"VM_KEEP"> {
  const vmp = vm.procs.get(caller);
  if (vmp === undefined) return result(EINVAL);
  const frames = vm.kept.get(req.key);
  if (req.size === 0) {
    if (frames === undefined) return result(EINVAL);
    vm.kept.delete(req.key);
    for (const pa of frames) vm.unref(pa);
    return result(OK);
  }
  if (frames !== undefined) {
    const len = frames.length * PAGE;
    const start = placeDest(vmp, req.addr, len);
    if (start < 0) return result(start);
    const r = mapSharedRegion(vm, vmp, start, frames, true);
    return r === OK ? result(OK, start, 0, len) : result(r);
  }
  const len = Math.ceil(req.size / PAGE) * PAGE;
  const region = vmp.regions.at(req.addr);
  if (region === undefined || len !== region.length) return result(EINVAL);
  if (region.tag !== "mmap" || (region.flags & VR_DIRECT) !== 0) return result(EFAULT);
  if ((region.flags & VR_WRITABLE) === 0) return result(EINVAL);
  const p = makePresent(vm, vmp, region);
  if (p !== OK) return result(p);
  const kept = framesOf(vmp, region.start, len);
  if (kept === undefined) return result(EFAULT);
  for (const pa of kept) vm.ref(pa);
  vm.kept.set(req.key, kept);
  markShared(vmp, region);
  return result(OK, region.start, 1, len);
}
