/**
 * Safe-copy kernel calls: copy between the caller and memory another process granted it.
 * Each returns the kernel's status (OK or a negative code; see do_safecopy.ts).
 * MINIX: lib/libsys/sys_safecopy.c, sys_vsafecopy.c, sys_safememset.c.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { SCPVEC_NR, VSCP_VEC } from "../../include/grant.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Syscall } from "../ipc.ts";
import { store } from "../mem.ts";
import { malloc } from "../runtime.ts";
import { kernelCall, kernelCallStatus } from "./kernel_call.ts";

/** `sys_safecopyfrom`: `bytes` at `offset` of grant `gid` of `granter` → `address` here. */
export function* sysSafecopyFrom(
  ctx: ProcessContext,
  granter: Endpoint,
  gid: number,
  offset: number,
  address: VirAddr,
  bytes: number,
): Syscall {
  return yield* kernelCallStatus(ctx, "SYS_SAFECOPYFROM", { granter, gid, offset, address, bytes });
}

/** `sys_safecopyto`: `bytes` at `address` here → `offset` of grant `gid` of `granter`. */
export function* sysSafecopyTo(
  ctx: ProcessContext,
  granter: Endpoint,
  gid: number,
  offset: number,
  address: VirAddr,
  bytes: number,
): Syscall {
  return yield* kernelCallStatus(ctx, "SYS_SAFECOPYTO", { granter, gid, offset, address, bytes });
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
