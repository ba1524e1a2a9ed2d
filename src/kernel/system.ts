/**
 * Kernel-call dispatch (S/A era): copy the request in, force `m_source`, check the number
 * and the caller's call mask, run the handler, then finish: suspend for VM, stay silent, or
 * write `m_type = result` and the whole message back. MINIX: kernel/system.c `kernel_call`,
 * `kernel_call_finish` (MINIX-SPEC §3.2, §3.4).
 */
import { SYSTEM } from "../include/endpoint.ts";
import { EBADREQUEST, ECALLDENIED, EDONTREPLY, OK, VMSUSPEND } from "../include/errno.ts";
import {
  KCALLS,
  KERNEL_CALL,
  kcallName,
  NR_SYS_CALLS,
  type KcallName,
  type KcallReply,
  type KcallReq,
} from "../include/kcall.ts";
import {
  copy16,
  M_SOURCE,
  M_TYPE,
  MESSAGE_SIZE,
  type FieldKind,
  type Layout,
} from "../include/message.ts";
import type { VirAddr } from "../include/types.ts";
import type { Kernel } from "./kernel.ts";
import { dropPending } from "./mapinfo.ts";
import { copyMsgFromProc, copyMsgToProc } from "./memory.ts";
import { MF_KCALL_RESUME, type Proc } from "./proc.ts";
import { callVec } from "./system/index.ts";

/** What a handler sees: the decoded request and a way to fill in reply fields. */
export interface KcallMsg<K extends KcallName> {
  readonly req: KcallReq<K>;
  reply(values: KcallReply<K>): void;
}

/**
 * The `KcallMsg` the dispatcher hands to a handler, one per call number, made once. For a
 * call with reply fields `req` is an overlay of `snapshot`, a copy of the request taken
 * before the handler runs, so fields read after `reply` (which writes the kernel's message
 * buffer) still read the request; a call without any reads the buffer itself (nothing
 * writes it while the handler runs).
 */
class DecodedCall<K extends KcallName> implements KcallMsg<K> {
  readonly name: K;
  readonly req: KcallReq<K>;
  readonly handler: KcallHandler<K>;
  /** Whether `req` reads `snapshot` (copy the request there first). */
  readonly snapshot: boolean;
  readonly #layout: Layout<Readonly<Record<string, FieldKind>>>;
  readonly #view: DataView;

  constructor(
    name: K,
    handler: KcallHandler<K>,
    req: KcallReq<K>,
    snapshot: boolean,
    layout: Layout<Readonly<Record<string, FieldKind>>>,
    view: DataView,
  ) {
    this.name = name;
    this.handler = handler;
    this.req = req;
    this.snapshot = snapshot;
    this.#layout = layout;
    this.#view = view;
  }

  reply(values: KcallReply<K>): void {
    this.#layout.write(this.#view, values);
  }
}

/** The request being handled, copied out of `k.kmsg` (see DecodedCall). */
const snapshot = new Uint32Array(MESSAGE_SIZE / 4);
const snapshotView = new DataView(snapshot.buffer);

/** Per kernel message buffer: the DecodedCall of each implemented call number, else undefined. */
const tables = new WeakMap<DataView, readonly (DecodedCall<KcallName> | undefined)[]>();

let lastView: DataView | null = null;
let lastTable: readonly (DecodedCall<KcallName> | undefined)[] = [];

function callTable(view: DataView): readonly (DecodedCall<KcallName> | undefined)[] {
  if (view === lastView) return lastTable;
  let t = tables.get(view);
  if (t === undefined) t = makeTable(view);
  lastView = view;
  lastTable = t;
  return t;
}

function makeTable(view: DataView): readonly (DecodedCall<KcallName> | undefined)[] {
  const calls = new Array<DecodedCall<KcallName> | undefined>(NR_SYS_CALLS).fill(undefined);
  for (let nr = 0; nr < NR_SYS_CALLS; nr++) {
    const name = kcallName(nr);
    if (name === undefined || !(name in callVec)) continue;
    const call = name as KcallName;
    const def = KCALLS[call];
    // The one cast: handlers are looked up by a name only known at run time.
    const handler = callVec[call] as KcallHandler<typeof call>;
    const replies = Object.keys(def.reply.fields).length > 0;
    const req = def.req.overlay(replies ? snapshotView : view) as KcallReq<typeof call>;
    calls[nr] = new DecodedCall<typeof call>(call, handler, req, replies, def.reply, view);
  }
  tables.set(view, calls);
  return calls;
}

/** One handler per call: checks first, then effects; returns the status for `m_type`. */
export type KcallHandler<K extends KcallName> = (k: Kernel, caller: Proc, m: KcallMsg<K>) => number;

/** Handles a kernel-call trap whose request message is at `msgVir` in the caller. */
export function kernelCall(k: Kernel, caller: Proc, msgVir: VirAddr): number {
  caller.delivermsgVir = msgVir;
  const m32 = k.kmsg32;
  let result: number;
  if (copyMsgFromProc(k, caller, msgVir, m32) !== OK) {
    result = EBADREQUEST;
  } else {
    m32[M_SOURCE >>> 2] = caller.endpoint >>> 0;
    result = dispatch(k, caller);
  }
  return finish(k, caller, result);
}

/** Re-executes the call saved in `caller.vmreq.savedMsg` (MF_KCALL_RESUME). */
export function resumeKernelCall(k: Kernel, caller: Proc): number {
  caller.miscFlags &= ~MF_KCALL_RESUME;
  k.kmsg.set(caller.vmreq.savedMsg);
  return finish(k, caller, dispatch(k, caller));
}

/** Runs the call in `k.kmsg` for `caller`; returns its status. */
function dispatch(k: Kernel, caller: Proc): number {
  const view = k.kmsgView;
  const nr = view.getInt32(M_TYPE, true) - KERNEL_CALL;
  if (nr < 0 || nr >= NR_SYS_CALLS) return EBADREQUEST;
  if (caller.priv?.kCallMask.has(nr) !== true) return ECALLDENIED;
  const m = callTable(view)[nr];
  if (m === undefined) return EBADREQUEST;
  if (m.snapshot) copy16(snapshot, 0, k.kmsg32, 0);
  const result = m.handler(k, caller, m);
  if (k.tracing) {
    k.emit({ kind: "kcall", t: k.hw.clock.cycles, ep: caller.endpoint, call: m.name, result });
  }
  return result;
}

/** `kernel_call_finish` for the message in `k.kmsg`; returns the caller's return register. */
function finish(k: Kernel, caller: Proc, result: number): number {
  if (result === VMSUSPEND) {
    caller.vmreq.savedMsg.set(k.kmsg);
    return result;
  }
  caller.vmreq.result = OK;
  dropPending(k, caller);
  if (result === EDONTREPLY || caller.isFree) return result;
  k.kmsg32[M_SOURCE >>> 2] = SYSTEM >>> 0;
  k.kmsg32[M_TYPE >>> 2] = result >>> 0;
  copyMsgToProc(k, caller, caller.delivermsgVir, k.kmsg32);
  return result;
}
