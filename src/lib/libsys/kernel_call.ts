/**
 * `_kernel_call`: encode a request into the scratch message, trap, and decode the reply the
 * kernel wrote over it. Unlike IPC, a kernel call always reaches the kernel; errors come
 * back in `m_type`. MINIX: lib/libsys/kernel_call.c.
 */
import {
  KCALL_NR,
  KCALLS,
  KERNEL_CALL,
  type KcallName,
  type KcallReply,
  type KcallReq,
} from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Syscall } from "../ipc.ts";
import { lib } from "../runtime.ts";

export interface KcallResult<K extends KcallName> {
  /** OK or a negative error code (`m_type` of the reply). */
  readonly status: number;
  readonly reply: KcallReply<K>;
}

/** Traps with the request message at `msg`; returns the kernel's result. */
export function* kernelCallAt(msg: VirAddr): Syscall {
  return yield { kind: "kcall", msg };
}

export function* kernelCall<K extends KcallName>(
  ctx: ProcessContext,
  call: K,
  req: KcallReq<K>,
): Syscall<KcallResult<K>> {
  const um = lib(ctx).scratch;
  const def = KCALLS[call];
  um.m.set(KERNEL_CALL + KCALL_NR[call], def.req, req);
  yield* um.put();
  yield* kernelCallAt(um.va);
  const m = yield* um.get();
  return { status: m.type, reply: def.reply.read(m.view) as KcallReply<K> };
}

/**
 * A kernel call whose reply fields the caller does not need: the status comes back in the
 * return register, so the reply is not read back from memory.
 */
export function* kernelCallStatus<K extends KcallName>(
  ctx: ProcessContext,
  call: K,
  req: KcallReq<K>,
): Syscall {
  const um = lib(ctx).scratch;
  um.m.set(KERNEL_CALL + KCALL_NR[call], KCALLS[call].req, req);
  // The store and the trap without nested generators (the fast path of every such call);
  // a store that faults goes the usual way.
  if (!um.putNow()) yield* um.put();
  return yield { kind: "kcall", msg: um.va };
}
