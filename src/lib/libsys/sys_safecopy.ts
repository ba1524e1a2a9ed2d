/**
 * Safe-copy kernel calls: copy between the caller and memory another process granted it.
 * Each returns the kernel's status (OK or a negative code; see do_safecopy.ts).
 * MINIX: lib/libsys/sys_safecopy.c, sys_vsafecopy.c, sys_safememset.c.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { SCPVEC_NR, VSCP_VEC } from "../../include/grant.ts";
import { KCALL_NR, KCALLS, KERNEL_CALL } from "../../include/kcall.ts";
import { M_PAYLOAD } from "../../include/message.ts";
import { CPU_OK, type ProcessContext } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Syscall } from "../ipc.ts";
import { store } from "../mem.ts";
import { lib, malloc } from "../runtime.ts";
import type { UMessage } from "../umessage.ts";
import { kernelCall, kernelCallStatus } from "./kernel_call.ts";

const SCP = KCALLS.SYS_SAFECOPYFROM.req.offsets;

let lastCtx: ProcessContext | null = null;
let lastScratch: UMessage | null = null;

/** The scratch message of `ctx`, remembered for the process that copied last. */
function scratch(ctx: ProcessContext): UMessage {
  if (ctx !== lastCtx || lastScratch === null) {
    lastCtx = ctx;
    lastScratch = lib(ctx).scratch;
  }
  return lastScratch;
}

/** `sys_safecopyfrom`: `bytes` at `offset` of grant `gid` of `granter` → `address` here. */
export function sysSafecopyFrom(
  ctx: ProcessContext,
  granter: Endpoint,
  gid: number,
  offset: number,
  address: VirAddr,
  bytes: number,
): Syscall {
  return safecopyCall(ctx, "SYS_SAFECOPYFROM", granter, gid, offset, address, bytes);
}

/** `sys_safecopyto`: `bytes` at `address` here → `offset` of grant `gid` of `granter`. */
export function sysSafecopyTo(
  ctx: ProcessContext,
  granter: Endpoint,
  gid: number,
  offset: number,
  address: VirAddr,
  bytes: number,
): Syscall {
  return safecopyCall(ctx, "SYS_SAFECOPYTO", granter, gid, offset, address, bytes);
}

/**
 * SYS_SAFECOPYFROM/TO (one layout for both), encoded into the scratch message directly: these
 * calls are the data path of every driver and server, so they skip the generic encoder and
 * the nested generators of `kernelCallStatus`.
 */
function* safecopyCall(
  ctx: ProcessContext,
  call: "SYS_SAFECOPYFROM" | "SYS_SAFECOPYTO",
  granter: Endpoint,
  gid: number,
  offset: number,
  address: VirAddr,
  bytes: number,
): Syscall {
  const um = scratch(ctx);
  const m = um.m;
  m.bytes.fill(0, M_PAYLOAD);
  m.type = KERNEL_CALL + KCALL_NR[call];
  const v = m.view;
  v.setInt32(SCP.granter, granter, true);
  v.setInt32(SCP.gid, gid, true);
  v.setUint32(SCP.offset, offset >>> 0, true);
  v.setUint32(SCP.address, address >>> 0, true);
  v.setUint32(SCP.bytes, bytes >>> 0, true);
  if (ctx.cpu.write(um.va, m.bytes) !== CPU_OK) yield* um.put();
  return yield { kind: "kcall", msg: um.va };
}

/** `sys_safememset`: fill `bytes` at `offset` of grant `gid` of `granter` with byte `ch`. */
export function* sysSafememset(
  ctx: ProcessContext,
  granter: Endpoint,
  gid: number,
  offset: number,
  ch: number,
  bytes: number,
): Syscall {
  return yield* kernelCallStatus(ctx, "SYS_SAFEMEMSET", { granter, gid, offset, char: ch, bytes });
}

/** One vectored-copy element: exactly one of `from`/`to` is SELF, the other the granter. */
export interface VscpElement {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly gid: number;
  readonly offset: number;
  readonly addr: VirAddr;
  readonly bytes: number;
}

/** What SYS_VSAFECOPY reports: the status and how many elements were completed. */
export interface VsafecopyResult {
  readonly status: number;
  /** Elements done; on an error, the index of the element that failed. */
  readonly done: number;
}

/** `sys_vsafecopy` with a vector already in memory at `vecAddr` (`count` elements). */
export function* sysVsafecopyAt(
  ctx: ProcessContext,
  vecAddr: VirAddr,
  count: number,
): Syscall<VsafecopyResult> {
  const { status, reply } = yield* kernelCall(ctx, "SYS_VSAFECOPY", { vecAddr, vecSize: count });
  return { status, done: reply.done };
}

const vecBuffers = new WeakMap<ProcessContext, VirAddr>();

/**
 * `sys_vsafecopy`: the elements are written to a per-process buffer of SCPVEC_NR elements
 * first. A longer vector is not written and the kernel answers EINVAL.
 */
export function* sysVsafecopy(
  ctx: ProcessContext,
  vec: readonly VscpElement[],
): Syscall<VsafecopyResult> {
  let buf = vecBuffers.get(ctx);
  if (buf === undefined) {
    buf = malloc(ctx, SCPVEC_NR * VSCP_VEC.size, 8);
    vecBuffers.set(ctx, buf);
  }
  if (vec.length <= SCPVEC_NR && vec.length > 0) {
    const bytes = new Uint8Array(vec.length * VSCP_VEC.size);
    for (let i = 0; i < vec.length; i++) {
      const view = new DataView(bytes.buffer, i * VSCP_VEC.size, VSCP_VEC.size);
      VSCP_VEC.write(view, vec[i]!);
    }
    yield* store(ctx, buf, bytes);
  }
  return yield* sysVsafecopyAt(ctx, buf, vec.length);
}
