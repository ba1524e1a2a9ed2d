/**
 * The VM server's main loop. At start it reads the boot information the loader left in its
 * memory and takes over all free physical memory and the boot processes' address spaces.
 * Then it starts through SEF (with RS in the image: RS_INIT, first of all services, as
 * SF_SYNCH_BOOT) and serves one message at a time (pings from RS are answered by SEF):
 * - a notification from SYSTEM carrying SIGKMEM: the kernel's memory requests
 *   (VMCTL_MEMREQ_GET … VMCTL_MEMREQ_REPLY), until none is left: making memory present for
 *   a kernel copy, and the safemap / safeunmap / COW-safecopy mappings (map.ts);
 * - VM_PAGEFAULT sent by the kernel on behalf of a faulting process: map a demand-zero page
 *   and let the process go on (VMCTL_CLEAR_PAGEFAULT), or end it with SIGSEGV. One that did
 *   not come from the kernel is refused with EPERM.
 * - a call from a process (`vmCalls`: brk, minix_mmap, minix_munmap, info, and for privileged
 *   callers exit, fork, exec_newmem, remap, shm_unmap, getphys, getref, rs_set_priv, the exit
 *   watch and keep — acl.ts): the handler's status goes back in `m_type` with its reply
 *   fields; an unprivileged caller of a privileged call gets EPERM. A handler that needs the
 *   kernel (fork, exec, notify_sig) is a generator making kernel calls or sending. If
 *   page-table entries were removed or restricted (unmaps, copy-on-write) the TLB is flushed
 *   (VMCTL_FLUSHTLB) before the reply or before a faulting process goes on.
 * Any other message is answered ENOSYS. VM never blocks on a client: replies use SENDNB.
 * MINIX: servers/vm/main.c, pagefaults.c (MINIX-SPEC §8.5, §8.6, §8.11).
 */
import { SELF, SYSTEM, type Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, ENOSYS, EPERM, OK } from "../../include/errno.ts";
import { ipcStatusFromKernel, isIpcNotify, NOTIFY_LAYOUT } from "../../include/ipc.ts";
import {
  VMCTL_FLUSHTLB,
  VMPTYPE_CHECK,
  VMPTYPE_COWMAP,
  VMPTYPE_SMAP,
  VMPTYPE_SUNMAP,
} from "../../include/kcall.ts";
import type { FieldKind, Layout, Message } from "../../include/message.ts";
import { SIGKMEM, SIGSEGV } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import {
  VM_BOOTINFO,
  VM_BOOTINFO_ADDR,
  VM_BOOTINFO_MAGIC,
  VM_BOOTPROC,
  VM_CALLS,
  VM_PAGEFAULT,
  VM_PAGEFAULT_LAYOUT,
  vmCallName,
  VPF_WRITE,
  type VmCallName,
  type VmReq,
} from "../../include/vm.ts";
import { isSyscall, sendnb, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sefReceive, sefStartup } from "../../lib/sef.ts";
import { sysKill } from "../../lib/libsys/sys_signal.ts";
import {
  sysVmctl,
  sysVmctlClearPagefault,
  sysVmctlEnablePaging,
  sysVmctlGetMemreq,
  sysVmctlReplyMemreq,
} from "../../lib/libsys/sys_vmctl.ts";
import { malloc } from "../../lib/runtime.ts";
import { UMessage } from "../../lib/umessage.ts";
import { doExit, doRsSetPriv, mayCall } from "./acl.ts";
import { doExecNewmem } from "./exec.ts";
import { MAP_COW, mapMemory, unmapMemory } from "./map.ts";
import { doFork } from "./fork.ts";
import { doBrk, doInfo, doMmap, doMunmap, type VmResult } from "./mmap.ts";
import { VmSanityError } from "./physmem.ts";
import { doGetphys, doGetref, doRemap, doShmUnmap } from "./shm.ts";
import { doKeep } from "./keep.ts";
import { Vm, WindowAccess } from "./vm.ts";
import { doNotifySig, doQueryExit, doWatchExit } from "./watch.ts";

const REPLY_LAYOUT = VM_PAGEFAULT_LAYOUT;

/** Reads the boot information and builds VM's state. VM's own memory is always present. */
export function initVm(ctx: ProcessContext): { vm: Vm; sanity: boolean } {
  const read = (addr: number, size: number): DataView => {
    const bytes = new Uint8Array(size);
    if (ctx.cpu.read(virAddr(addr), bytes) !== 0) {
      throw new VmSanityError("Cannot read the boot information");
    }
    return new DataView(bytes.buffer);
  };
  const info = VM_BOOTINFO.read(read(VM_BOOTINFO_ADDR, VM_BOOTINFO.size));
  if (info.magic !== VM_BOOTINFO_MAGIC) throw new VmSanityError("Bad boot information");
  const vm = new Vm(new WindowAccess(ctx.cpu), info.totalFrames, info.usedFrames);
  for (let i = 0; i < info.nprocs; i++) {
    const addr = VM_BOOTINFO_ADDR + VM_BOOTINFO.size + i * VM_BOOTPROC.size;
    const p = VM_BOOTPROC.read(read(addr, VM_BOOTPROC.size));
    const r = vm.adopt(p.endpoint, p.cr3, p.dataStart, p.dataPages);
    if (r !== OK) throw new VmSanityError(`Cannot take over boot process ${p.endpoint}`);
  }
  return { vm, sanity: info.sanity !== 0 };
}

/** What the inspector shows of VM: memory use and counters. */
export interface VmInspect {
  readonly framesTotal: number;
  readonly framesFree: number;
  readonly framesUsed: number;
  readonly faults: number;
  readonly memreqs: number;
  readonly cowCopies: number;
  readonly processes: number;
}

/** VM's state by the context of the VM process, for the read-only inspector only. */
const running = new WeakMap<ProcessContext, Vm>();

/** The inspector's view of the VM running with context `ctx`, if it has started. */
export function inspectVm(ctx: ProcessContext): VmInspect | undefined {
  const vm = running.get(ctx);
  if (vm === undefined) return undefined;
  return {
    framesTotal: vm.phys.totalFrames,
    framesFree: vm.phys.freeFrames,
    framesUsed: vm.phys.usedFrames,
    faults: vm.stats.faults,
    memreqs: vm.stats.memreqs,
    cowCopies: vm.stats.copies,
    processes: vm.procs.size,
  };
}

export function* vmMain(ctx: ProcessContext): Syscall {
  const { vm, sanity } = initVm(ctx);
  running.set(ctx, vm);
  const enabled = yield* sysVmctlEnablePaging(ctx);
  if (enabled !== OK) throw new VmSanityError(`VMCTL_ENABLE_PAGING failed: ${enabled}`);
  if (sanity) vm.check();
  yield* sefStartup(ctx);
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const status: IpcStatus = { value: 0 };
  for (;;) {
    if ((yield* sefReceive(ctx, um, status)) !== OK) continue;
    const m = yield* um.get();
    if (isIpcNotify(status.value)) {
      if (m.source === SYSTEM && (m.get(NOTIFY_LAYOUT).arg & (1 << SIGKMEM)) !== 0) {
        yield* serveMemreqs(ctx, vm);
      }
    } else if (m.type === VM_PAGEFAULT) {
      if (ipcStatusFromKernel(status.value)) yield* servePagefault(ctx, vm, m);
      else yield* reply(um, m.source, EPERM);
    } else {
      yield* serveCall(ctx, vm, um, m);
    }
    if (sanity) vm.check();
  }
}

/**
 * One handler per VM call; the compiler checks the table covers every call in VM_CALLS. A
 * handler answers at once, or is a generator when it needs kernel calls (VM_FORK).
 */
type VmHandler<K extends VmCallName> = (
  vm: Vm,
  caller: Endpoint,
  req: VmReq<K>,
  ctx: ProcessContext,
) => VmResult<K> | Syscall<VmResult<K>>;

const vmCalls = {
  VM_EXIT: doExit, // a process is gone: free its memory (privileged)
  VM_FORK: doFork, // copy an address space copy-on-write, create the child (privileged)
  VM_BRK: doBrk, // move the heap's end
  VM_EXEC_NEWMEM: doExecNewmem, // build a new image first, then drop the old (privileged)
  VM_MMAP: doMmap, // minix_mmap: map anonymous memory
  VM_MUNMAP: doMunmap, // minix_munmap: unmap (part of) a mapping
  VM_REMAP: doRemap, // share a region's frames with another process (privileged)
  VM_SHM_UNMAP: doShmUnmap, // drop a shared region (privileged)
  VM_GETPHYS: doGetphys, // first frame of a shared region (privileged)
  VM_GETREF: doGetref, // its reference count (privileged)
  VM_RS_SET_PRIV: doRsSetPriv, // grant or withdraw the privileged calls (privileged)
  VM_INFO: doInfo, // statistics and the caller's usage
  VM_QUERY_EXIT: doQueryExit, // the IPC server drains exits and signals (privileged)
  VM_NOTIFY_SIG: doNotifySig, // PM: a process was signalled or exited (privileged)
  VM_WATCH_EXIT: doWatchExit, // the IPC server watches a client (privileged)
  VM_KEEP: doKeep, // memory that outlives its process (DS's journal; privileged)
} satisfies { [K in VmCallName]: VmHandler<K> };

/** A call from a process: decode, handle, flush the TLB if needed, reply. */
function* serveCall(ctx: ProcessContext, vm: Vm, um: UMessage, m: Message): Syscall<void> {
  const name = vmCallName(m.type);
  if (name === undefined || !mayCall(vm, m.source, name)) {
    yield* reply(um, m.source, name === undefined ? ENOSYS : EPERM);
    return;
  }
  const def = VM_CALLS[name];
  // The one cast: the handler is looked up by a name only known at run time.
  const handler = vmCalls[name] as VmHandler<typeof name>;
  const out = handler(vm, m.source, def.req.read(m.view), ctx);
  const result = isSyscall(out) ? yield* out : out;
  if (vm.takeTlbFlush()) yield* sysVmctl(ctx, SELF, VMCTL_FLUSHTLB);
  const replyLayout: Layout<Readonly<Record<string, FieldKind>>> = def.reply;
  um.m.set(result.status, replyLayout, result);
  yield* um.put();
  yield* sendnb(m.source, um.va);
}

/** A fault the kernel reported on behalf of `m.source`. */
function* servePagefault(ctx: ProcessContext, vm: Vm, m: Message): Syscall<void> {
  const ep = m.source;
  const { addr, flags } = m.get(VM_PAGEFAULT_LAYOUT);
  if (vm.fault(ep, addr, (flags & VPF_WRITE) !== 0) === OK) {
    if (vm.takeTlbFlush()) yield* sysVmctl(ctx, SELF, VMCTL_FLUSHTLB);
    yield* sysVmctlClearPagefault(ctx, ep);
    return;
  }
  vm.exit(ep);
  yield* sysKill(ctx, ep, SIGSEGV);
  if (vm.takeTlbFlush()) yield* sysVmctl(ctx, SELF, VMCTL_FLUSHTLB);
}

/**
 * Serves every pending kernel memory request (newest first, as the kernel hands them out):
 * VMPTYPE_CHECK makes a range present (any failure is EFAULT); the mapping requests
 * (map.ts: SMAP, COWMAP — destination `target`/`addr`, source `ep2`/`addr2` — and SUNMAP)
 * report their own status. An unknown type is answered EINVAL.
 */
function* serveMemreqs(ctx: ProcessContext, vm: Vm): Syscall<void> {
  for (;;) {
    const q = yield* sysVmctlGetMemreq(ctx);
    if (q.status < 0) return;
    const { target, addr, length, flag, requestor, ep2, addr2 } = q.reply;
    let r: number;
    switch (q.status) {
      case VMPTYPE_CHECK:
        r = vm.ensureRange(target, addr, length, flag !== 0) === OK ? OK : EFAULT;
        break;
      case VMPTYPE_SMAP:
        r = mapMemory(vm, ep2, target, addr2, addr, length, flag);
        break;
      case VMPTYPE_COWMAP:
        r = mapMemory(vm, ep2, target, addr2, addr, length, MAP_COW);
        break;
      case VMPTYPE_SUNMAP:
        r = unmapMemory(vm, ep2, target, addr2, addr, length);
        break;
      default:
        r = EINVAL;
    }
    vm.stats.memreqs++;
    if (vm.takeTlbFlush()) yield* sysVmctl(ctx, SELF, VMCTL_FLUSHTLB);
    yield* sysVmctlReplyMemreq(ctx, requestor, r);
  }
}

function* reply(um: UMessage, to: Endpoint, result: number): Syscall<void> {
  um.m.set(result, REPLY_LAYOUT, { addr: virAddr(0), flags: 0 });
  yield* um.put();
  yield* sendnb(to, um.va);
}
