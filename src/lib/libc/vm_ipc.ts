/**
 * The privileged VM calls (acl.ts decides who may make them; others get EPERM): shared
 * memory for the IPC server (`vm_remap`, `vm_unmap`, `vm_getphys`, `vm_getrefcount`), a
 * process's fork, exec and exit (`vm_fork`, `vm_exec_newmem`, `vm_exit`, PM's calls),
 * `vm_set_priv` (RS's) and the IPC server's exit watch (`vm_notify_sig`, `vm_watch_exit`,
 * `vm_query_exit`). Each returns the status (OK or a negative error code) and, where there
 * is one, the reply value.
 * MINIX: lib/libsys/vm_remap.c, vm_fork.c, vm_exit.c, vm_set_priv.c, vm_notify_sig.c,
 * vm_query_exit.c (MINIX-SPEC §8.7, §8.10, §8.11).
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import { MAP_FAILED } from "../../include/vm.ts";
import type { Syscall } from "../ipc.ts";
import { vmCall, type MmapResult } from "./mmap.ts";

/**
 * `vm_remap(dest, src, dest_addr, src_addr, size)`: maps the region of `src` starting at
 * `srcAddr` (of `size` bytes, page rounded) into `dest` as shared memory, at `destAddr` or,
 * with 0, where VM finds room. The address is MAP_FAILED on error.
 */
export function* vmRemap(
  ctx: ProcessContext,
  dest: Endpoint,
  src: Endpoint,
  destAddr: number,
  srcAddr: number,
  size: number,
): Syscall<MmapResult> {
  const r = yield* vmCall(ctx, "VM_REMAP", {
    dest,
    src,
    destAddr: virAddr(destAddr),
    srcAddr: virAddr(srcAddr),
    size,
  });
  return { status: r.status, addr: r.status === OK ? r.addr : virAddr(MAP_FAILED) };
}

/** `vm_unmap(endpt, addr)`: removes the shared region of `endpt` starting at `addr`. */
export function* vmShmUnmap(ctx: ProcessContext, endpt: Endpoint, addr: number): Syscall {
  return (yield* vmCall(ctx, "VM_SHM_UNMAP", { endpoint: endpt, addr: virAddr(addr) })).status;
}

/** `vm_getphys(endpt, addr)`: the first frame of the shared region at `addr`. */
export function* vmGetphys(
  ctx: ProcessContext,
  endpt: Endpoint,
  addr: VirAddr | number,
): Syscall<{ readonly status: number; readonly phys: number }> {
  const r = yield* vmCall(ctx, "VM_GETPHYS", { endpoint: endpt, addr: virAddr(addr) });
  return { status: r.status, phys: r.phys };
}

/** `vm_getrefcount(endpt, addr)`: how many mappings share the shared region's first frame. */
export function* vmGetref(
  ctx: ProcessContext,
  endpt: Endpoint,
  addr: VirAddr | number,
): Syscall<{ readonly status: number; readonly count: number }> {
  const r = yield* vmCall(ctx, "VM_GETREF", { endpoint: endpt, addr: virAddr(addr) });
  return { status: r.status, count: r.count };
}

/**
 * `vm_fork(parent, slot, &child)`: VM copies `parent`'s address space copy-on-write and has
 * the kernel create the child in the free slot `slot` (the parent must be waiting for a
 * reply, e.g. from PM). The child's endpoint is NONE on error.
 */
export function* vmFork(
  ctx: ProcessContext,
  parent: Endpoint,
  slot: number,
): Syscall<{ readonly status: number; readonly child: Endpoint }> {
  const r = yield* vmCall(ctx, "VM_FORK", { endpt: parent, slot });
  return { status: r.status, child: r.status === OK ? r.endpt : NONE };
}

/**
 * `vm_exec_newmem(endpt, imagePages)`: VM builds a new address space for `endpt` (an image
 * of `imagePages` pages allocated up front, its data area demand-zero) and drops the old
 * one; on ENOMEM the old image is untouched (PM's call; privileged). The address is where
 * the image starts (MAP_FAILED on error).
 */
export function* vmExecNewmem(
  ctx: ProcessContext,
  endpt: Endpoint,
  imagePages: number,
): Syscall<MmapResult> {
  const r = yield* vmCall(ctx, "VM_EXEC_NEWMEM", { endpt, imagePages });
  return { status: r.status, addr: r.status === OK ? r.addr : virAddr(MAP_FAILED) };
}

/** `vm_exit(endpt)`: VM frees everything `endpt` had (PM's call; privileged). */
export function* vmExit(ctx: ProcessContext, endpt: Endpoint): Syscall {
  return (yield* vmCall(ctx, "VM_EXIT", { endpoint: endpt })).status;
}

/** `vm_set_priv(endpt, …)`: grants (true) or withdraws the privileged VM calls. */
export function* vmSetPriv(ctx: ProcessContext, endpt: Endpoint, privileged: boolean): Syscall {
  return (yield* vmCall(ctx, "VM_RS_SET_PRIV", { endpoint: endpt, privileged: privileged ? 1 : 0 }))
    .status;
}

/**
 * `vm_notify_sig(ep, ipc_ep)`: `ep` was signalled or exited; VM tells the IPC server `ipcEp`
 * if it watches `ep` (PM's call; privileged).
 */
export function* vmNotifySig(ctx: ProcessContext, endpt: Endpoint, ipcEp: Endpoint): Syscall {
  return (yield* vmCall(ctx, "VM_NOTIFY_SIG", { endpoint: endpt, ipcEndpoint: ipcEp })).status;
}

/** `vm_watch_exit(ep)`: the IPC server asks to hear of `ep`'s signals and exit (privileged). */
export function* vmWatchExit(ctx: ProcessContext, endpt: Endpoint): Syscall {
  return (yield* vmCall(ctx, "VM_WATCH_EXIT", { endpoint: endpt })).status;
}

/**
 * `vm_query_exit()`: the next endpoint VM recorded for the IPC server (NONE when none) and
 * whether more remain (privileged).
 */
export function* vmQueryExit(
  ctx: ProcessContext,
): Syscall<{ readonly status: number; readonly endpoint: Endpoint; readonly more: boolean }> {
  const r = yield* vmCall(ctx, "VM_QUERY_EXIT", {});
  return { status: r.status, endpoint: r.status === OK ? r.endpoint : NONE, more: r.more !== 0 };
}
