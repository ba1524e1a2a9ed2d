/**
 * The C library's memory calls, each a SENDREC of one request to VM through the process's
 * scratch message: `minix_mmap`, `minix_munmap` (MINIX renamed mmap/munmap in 2011 because
 * they lacked POSIX semantics, seed 002), `brk` and `sbrk`, and `vm_info`. Results are
 * returned, not left in `errno`: a status (OK or a negative error code) and an address.
 * MINIX: lib/libc/sys-minix/mmap.c, brk.c, sbrk.c; lib/libsys/vm_info.c.
 */
import { VM_PROC_NR } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { Layout } from "../../include/message.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import {
  MAP_FAILED,
  VM_CALL_NR,
  VM_CALLS,
  type VmCallName,
  type VmReply,
  type VmReq,
} from "../../include/vm.ts";
import type { Syscall } from "../ipc.ts";
import { serverCall, type AnyFields } from "./pm_call.ts";

/** Status (`m_type` of VM's reply, or the IPC error) and the reply fields. */
export type VmCallResult<K extends VmCallName> = { readonly status: number } & VmReply<K>;

/** `_syscall(VM_PROC_NR, …)`: sends one request to VM and decodes its reply. */
export function* vmCall<K extends VmCallName>(
  ctx: ProcessContext,
  call: K,
  req: VmReq<K>,
): Syscall<VmCallResult<K>> {
  const def = VM_CALLS[call];
  const reqLayout: Layout<AnyFields> = def.req;
  const replyLayout: Layout<AnyFields> = def.reply;
  const r = yield* serverCall(ctx, VM_PROC_NR, VM_CALL_NR[call], reqLayout, req, replyLayout);
  return { ...(r.reply as VmReply<K>), status: r.status };
}

export interface MmapRequest {
  /** With MAP_FIXED the address; otherwise a hint (0: none). */
  readonly addr?: number;
  readonly len: number;
  /** PROT_* bits. */
  readonly prot: number;
  /** MAP_* bits. */
  readonly flags: number;
  /** -1 (default): anonymous memory, the only kind VM maps. */
  readonly fd?: number;
  readonly offset?: number;
}

export interface MmapResult {
  /** OK or a negative error code. */
  readonly status: number;
  /** The mapping's address; MAP_FAILED on error. */
  readonly addr: VirAddr;
}

/** `minix_mmap(addr, len, prot, flags, fd, offset)`. */
export function* minixMmap(ctx: ProcessContext, req: MmapRequest): Syscall<MmapResult> {
  const r = yield* vmCall(ctx, "VM_MMAP", {
    addr: virAddr(req.addr ?? 0),
    len: req.len,
    prot: req.prot,
    flags: req.flags,
    fd: req.fd ?? -1,
    offset: req.offset ?? 0,
  });
  return { status: r.status, addr: r.status === OK ? r.addr : virAddr(MAP_FAILED) };
}

/** `minix_munmap(addr, len)`: OK or a negative error code. */
export function* minixMunmap(ctx: ProcessContext, addr: number, len: number): Syscall {
  return (yield* vmCall(ctx, "VM_MUNMAP", { addr: virAddr(addr), len })).status;
}

/** The break as this library knows it (MINIX `_brksize`); starts at the end of the data area. */
const breaks = new WeakMap<ProcessContext, number>();

function currentBreak(ctx: ProcessContext): number {
  return breaks.get(ctx) ?? ctx.heapBase + ctx.heapSize;
}

/** `brk(addr)`: sets the end of the heap; OK or a negative error code (ENOMEM, EINVAL). */
export function* brk(ctx: ProcessContext, addr: number): Syscall {
  const r = yield* vmCall(ctx, "VM_BRK", { addr: virAddr(addr) });
  if (r.status === OK) breaks.set(ctx, r.addr);
  return r.status;
}

/** `sbrk(incr)`: moves the break by `incr` bytes; the old break, or MAP_FAILED-like -1. */
export function* sbrk(ctx: ProcessContext, incr: number): Syscall<MmapResult> {
  const old = currentBreak(ctx);
  const status = yield* brk(ctx, old + incr);
  return { status, addr: virAddr(status === OK ? old : MAP_FAILED) };
}

/** `vm_info`: VM's frame and fault counts and the caller's regions, pages and page tables. */
export function vmInfo(ctx: ProcessContext): Syscall<VmCallResult<"VM_INFO">> {
  return vmCall(ctx, "VM_INFO", {});
}
