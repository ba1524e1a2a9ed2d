/**
 * SYS_VMCTL: VM's control over page tables, TLBs and the kernel's memory requests.
 *
 * Caller:  VM only (the live process in the VM slot), else EPERM.
 * Request: who — the process concerned (SELF allowed); param — VMCTL_*; value — argument.
 *   VMCTL_MEMREQ_GET     pop the newest pending request: result is its type (VMPTYPE_*),
 *                        reply target, addr, length, flag (write), requestor; ESRCH if none.
 *                        Mapping requests (SMAP, SUNMAP, COWMAP): target/addr the
 *                        destination, ep2/addr2 the source, flag 1 / 0 / -1.
 *   VMCTL_MEMREQ_REPLY   who = requestor, value = VM's result; the requestor may run again,
 *                        a suspended kernel call is re-executed first (MF_KCALL_RESUME);
 *                        a mapping request's destination may run again (RTS_VMREQTARGET).
 *                        EINVAL for a request VM has not fetched yet.
 *   VMCTL_CLEAR_PAGEFAULT  who may run again after a page fault was resolved.
 *   VMCTL_GET_PDBR       reply value = who's page-directory base.
 *   VMCTL_SETADDRSPACE   who's page-directory base := value (page aligned, in memory);
 *                        a process waiting in RTS_VMINHIBIT may then run.
 *   VMCTL_I386_SETCR3    the same (the older name).
 *   VMCTL_FLUSHTLB       flush every TLB entry.
 *   VMCTL_I386_INVLPG    drop who's TLB entry for address value.
 *   VMCTL_ENABLE_PAGING  VM's start-up is done; a second call gives EBUSY (MINIX panicked).
 *   VMCTL_KERN_PHYSMAP, VMCTL_KERN_MAP_REPLY  device ranges the kernel wants mapped: the
 *                        simulated kernel has none, so every index gives EINVAL.
 * Reply:   status; EINVAL for bad processes or parameters.
 * MINIX:   minix/kernel/system/do_vmctl.c (MINIX-SPEC §3.4, §8.12)
 */
import { NONE, SELF, type Endpoint } from "../../include/endpoint.ts";
import { EBUSY, EINVAL, EPERM, ESRCH, OK } from "../../include/errno.ts";
import {
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_FLUSHTLB,
  VMCTL_GET_PDBR,
  VMCTL_MEMREQ_GET,
  VMCTL_MEMREQ_REPLY,
  VMCTL_ENABLE_PAGING,
  VMCTL_I386_INVLPG,
  VMCTL_I386_SETCR3,
  VMCTL_KERN_MAP_REPLY,
  VMCTL_KERN_PHYSMAP,
  VMCTL_SETADDRSPACE,
  VMPTYPE_CHECK,
  type KcallReply,
} from "../../include/kcall.ts";
import { virAddr, type PhysAddr } from "../../include/types.ts";
import { PAGE_SIZE } from "../../hw/memory.ts";
import type { Kernel } from "../kernel.ts";
import {
  MF_KCALL_RESUME,
  RTS_PAGEFAULT,
  RTS_VMINHIBIT,
  RTS_VMREQUEST,
  VMSTYPE_KERNELCALL,
  type Proc,
} from "../proc.ts";
import type { KcallMsg } from "../system.ts";
import { releaseVmTarget } from "../vmrequest.ts";

export function doVmctl(k: Kernel, caller: Proc, m: KcallMsg<"SYS_VMCTL">): number {
  // Check.
  if (caller !== k.vmProc()) return EPERM;
  const { who, param, value } = m.req;
  const p = who === SELF ? caller : k.isokendpt(who);
  switch (param) {
    case VMCTL_MEMREQ_GET: {
      const rp = k.vmrequest;
      if (rp === null) return ESRCH;
      // Act.
      k.vmrequest = rp.vmreq.next;
      rp.vmreq.next = null;
      const r = rp.vmreq;
      writeReply(m, who, param, value, {
        target: r.target,
        addr: r.start,
        length: r.length,
        flag: r.reqType === VMPTYPE_CHECK ? (r.writeflag ? 1 : 0) : r.mapFlag,
        requestor: rp.endpoint,
        ep2: r.reqType === VMPTYPE_CHECK ? NONE : r.ep2,
        addr2: r.reqType === VMPTYPE_CHECK ? virAddr(0) : r.start2,
      });
      return r.reqType;
    }
    case VMCTL_MEMREQ_REPLY: {
      if (p === undefined || (p.rtsFlags & RTS_VMREQUEST) === 0) return EINVAL;
      // Only a fetched request can be answered: one still queued stays in the list.
      for (let x = k.vmrequest; x !== null; x = x.vmreq.next) if (x === p) return EINVAL;
      // Act.
      p.vmreq.result = value | 0;
      if (p.vmreq.type === VMSTYPE_KERNELCALL) p.miscFlags |= MF_KCALL_RESUME;
      k.clearRts(p, RTS_VMREQUEST);
      if (p.vmreq.reqType !== VMPTYPE_CHECK) releaseVmTarget(k, p.vmreq.target, p);
      return OK;
    }
    case VMCTL_CLEAR_PAGEFAULT:
      if (p === undefined || (p.rtsFlags & RTS_PAGEFAULT) === 0) return EINVAL;
      k.clearRts(p, RTS_PAGEFAULT);
      return OK;
    case VMCTL_GET_PDBR:
      if (p === undefined) return EINVAL;
      writeReply(m, who, param, value, { value: p.cr3 });
      return OK;
    case VMCTL_I386_SETCR3:
    case VMCTL_SETADDRSPACE:
      if (p === undefined || value % PAGE_SIZE !== 0 || value + PAGE_SIZE > k.hw.mem.size) {
        return EINVAL;
      }
      p.cr3 = value as PhysAddr;
      k.hw.mmu.flushTlb(p.cr3);
      k.clearRts(p, RTS_VMINHIBIT);
      return OK;
    case VMCTL_FLUSHTLB:
      k.hw.mmu.flushTlb();
      return OK;
    case VMCTL_I386_INVLPG:
      if (p === undefined) return EINVAL;
      k.hw.mmu.invlpg(p.cr3, value);
      return OK;
    case VMCTL_ENABLE_PAGING:
      // Paging is always on in the simulated machine; the call marks VM's start-up as done.
      if (k.pagingEnabled) return EBUSY;
      k.pagingEnabled = true;
      return OK;
    case VMCTL_KERN_PHYSMAP:
    case VMCTL_KERN_MAP_REPLY:
      // The simulated kernel needs no device memory mapped (MINIX: the local APIC), so every
      // index is past the end of its (empty) list.
      return EINVAL;
    default:
      return EINVAL;
  }
}

/** Fills the reply fields; those not given keep their neutral values. */
function writeReply(
  m: KcallMsg<"SYS_VMCTL">,
  who: Endpoint,
  param: number,
  value: number,
  f: Partial<KcallReply<"SYS_VMCTL">>,
): void {
  m.reply({
    who,
    param,
    value: f.value ?? value,
    target: f.target ?? NONE,
    addr: f.addr ?? virAddr(0),
    length: f.length ?? 0,
    flag: f.flag ?? 0,
    requestor: f.requestor ?? NONE,
    ep2: f.ep2 ?? NONE,
    addr2: f.addr2 ?? virAddr(0),
  });
}
