/**
 * `_syscall(PM_PROC_NR, …)`: one request to PM through the process's scratch message.
 * MINIX: lib/libc/other/syscall.c.
 */
import { PM_PROC_NR } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import type { FieldKind, Layout } from "../../include/message.ts";
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

/** Status (`m_type` of PM's reply, or the IPC error) and the reply fields. */
export type PmCallResult<K extends PmCallName> = { readonly status: number } & PmReply<K>;

export function* pmCall<K extends PmCallName>(
  ctx: ProcessContext,
  call: K,
  req: PmReq<K>,
): Syscall<PmCallResult<K>> {
  const um = lib(ctx).scratch;
  const def = PM_CALLS[call];
  const layout: Layout<Readonly<Record<string, FieldKind>>> = def.req;
  um.m.set(PM_CALL_NR[call], layout, req);
  yield* um.put();
  const r = yield* sendrec(PM_PROC_NR, um.va);
  const m = yield* um.get();
  const reply = def.reply.read(m.view) as PmReply<K>;
  return { ...reply, status: r !== OK ? r : m.type };
}
