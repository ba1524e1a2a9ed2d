/**
 * The RS client library: requests to the reincarnation server by SENDREC, as `service` and
 * clients use them (`rs_lookup`, `minix_rs_lookup` in MINIX lib/libsys/rs.c). Each returns
 * RS's status (negative error) or its reply fields.
 */
import { RS_PROC_NR, type Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import type { FieldKind, Layout } from "../include/message.ts";
import { RS_CALLS, type RsCallName, type RsReply, type RsReq } from "../include/rs.ts";
import type { ProcessContext } from "../include/trap.ts";
import type { Syscall } from "./ipc.ts";
import { serverCall } from "./libc/pm_call.ts";

export interface RsResult<K extends RsCallName> {
  readonly status: number;
  readonly reply: RsReply<K>;
}

/** One request to RS; the status is RS's `m_type` (or the SENDREC error). */
export function* rsCall<K extends RsCallName>(
  ctx: ProcessContext,
  call: K,
  req: RsReq<K>,
): Syscall<RsResult<K>> {
  const def = RS_CALLS[call];
  const reqLayout: Layout<Readonly<Record<string, FieldKind>>> = def.req;
  return yield* serverCall(ctx, RS_PROC_NR, def.nr, reqLayout, req, def.reply);
}

/** A label (at most 15 bytes of UTF-8) as RS's fixed-size field. */
export function encodeLabel(label: string): Uint8Array {
  return new TextEncoder().encode(label);
}

/** `rs_lookup`: the endpoint of the service with `label`, or a negative error (ESRCH). */
export function* rsLookup(ctx: ProcessContext, label: string): Syscall<Endpoint | number> {
  const r = yield* rsCall(ctx, "RS_LOOKUP", { label: encodeLabel(label) });
  return r.status === OK ? r.reply.endpoint : r.status;
}
