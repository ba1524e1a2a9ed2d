/**
 * `_syscall(who, type, …)`: one request to a server through the process's scratch message,
 * and `_syscall(PM_PROC_NR, …)` for PM's calls. MINIX: lib/libc/other/syscall.c.
 */
import { PM_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { FieldKind, Fields, Layout } from "../../include/message.ts";
import {
  PM_CALL_NR,
  PM_CALLS,
  type PmCallName,
  type PmReply,
  type PmReq,
} from "../../include/pm.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { sendrec, type Syscall } from "../ipc.ts";
import { lib } from "../runtime.ts";

/** A layout's fields, whatever they are (for calls typed by a table looked up by name). */
export type AnyFields = Readonly<Record<string, FieldKind>>;

/**
 * SENDREC of request `type` (fields `req` in layout `reqLayout`) to `who`. The status is the
 * server's `m_type` or the SENDREC error; the reply fields are read with `replyLayout`.
 */
export function* serverCall<Q extends AnyFields, P extends AnyFields>(
  ctx: ProcessContext,
  who: Endpoint,
  type: number,
  reqLayout: Layout<Q>,
  req: Fields<Q>,
  replyLayout: Layout<P>,
): Syscall<{ readonly status: number; readonly reply: Fields<P> }> {
  const um = lib(ctx).scratch;
  um.m.set(type, reqLayout, req);
  yield* um.put();
  const r = yield* sendrec(who, um.va);
  const m = yield* um.get();
  return { status: r !== OK ? r : m.type, reply: replyLayout.read(m.view) };
}

/** Status (`m_type` of PM's reply, or the IPC error) and the reply fields. */
export type PmCallResult<K extends PmCallName> = { readonly status: number } & PmReply<K>;

export function* pmCall<K extends PmCallName>(
  ctx: ProcessContext,
  call: K,
  req: PmReq<K>,
): Syscall<PmCallResult<K>> {
  const def = PM_CALLS[call];
  const reqLayout: Layout<AnyFields> = def.req;
  const replyLayout: Layout<AnyFields> = def.reply;
  const r = yield* serverCall(ctx, PM_PROC_NR, PM_CALL_NR[call], reqLayout, req, replyLayout);
  return { ...(r.reply as PmReply<K>), status: r.status };
}
