/**
 * Safe-copy kernel calls: copy between the caller and memory another process granted it.
 * Each returns the kernel's status (OK or a negative code; see do_safecopy.ts).
 * MINIX: lib/libsys/sys_safecopy.c, sys_vsafecopy.c, sys_safememset.c.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { SCPVEC_NR, VSCP_VEC } from "../../include/grant.ts";
import { KCALL_NR, KCALLS, KERNEL_CALL } from "../../include/kcall.ts";
import { M_PAYLOAD } from "../../include/message.ts";
import {
  type KcallTrap,
  type ProcessContext,
  type Trap,
  type TrapResult,
} from "../../include/trap.ts";
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
  return safecopyCall(ctx, FROM, granter, gid, offset, address, bytes);
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
  return safecopyCall(ctx, TO, granter, gid, offset, address, bytes);
}

const FROM = KERNEL_CALL + KCALL_NR.SYS_SAFECOPYFROM;
const TO = KERNEL_CALL + KCALL_NR.SYS_SAFECOPYTO;

const FRESH = 0;
const TRAPPED = 1;
const DONE = 2;

/** Iterator results are read by `yield*` at once and never kept: two shared objects serve. */
const YIELD: { done: false; value: Trap } = {
  done: false,
  value: { kind: "kcall", msg: 0 as VirAddr },
};
const RETURN: { done: true; value: number } = { done: true, value: 0 };

/**
 * SYS_SAFECOPYFROM/TO (one layout for both): the request is encoded into the scratch message
 * directly and the call is its own trap record and iterator (like the IPC stubs), since these
 * calls are the data path of every driver and server: no generic encoder, no generator per
 * call. Records are pooled: a finished call is reused by a later one. A store of the request
 * that faults goes through `UMessage.put` (a real generator) before the trap.
 */
class SafecopyCall implements KcallTrap, Generator<Trap, number, TrapResult> {
  readonly kind = "kcall";
  msg = 0 as VirAddr;
  /** The call's arguments, set by `safecopyCall`. */
  ctx: ProcessContext | null = null;
  type = 0;
  granter = 0 as Endpoint;
  gid = 0;
  offset = 0;
  address = 0 as VirAddr;
  bytes = 0;
  state = FRESH;
  /** The store that faulted, retried before the trap. */
  slow: Syscall<void> | null = null;
  nextFree: SafecopyCall | null = null;

  [Symbol.iterator](): this {
    return this;
  }

  next(r?: TrapResult): IteratorResult<Trap, number> {
    if (this.state === TRAPPED) return this.#finish(r ?? 0);
    if (this.state === DONE) {
      RETURN.value = r ?? 0;
      return RETURN;
    }
    const slow = this.slow;
    if (slow !== null) {
      const res = slow.next(r ?? 0);
      if (res.done !== true) return res;
      this.slow = null;
      return this.#trap();
    }
    const ctx = this.ctx!;
    const um = scratch(ctx);
    const m = um.m;
    m.bytes.fill(0, M_PAYLOAD);
    m.type = this.type;
    const v = m.view;
    v.setInt32(SCP.granter, this.granter, true);
    v.setInt32(SCP.gid, this.gid, true);
    v.setUint32(SCP.offset, this.offset >>> 0, true);
    v.setUint32(SCP.address, this.address >>> 0, true);
    v.setUint32(SCP.bytes, this.bytes >>> 0, true);
    this.msg = um.va;
    if (!um.putNow()) {
      this.slow = um.put();
      return this.next(r);
    }
    return this.#trap();
  }

  #trap(): IteratorResult<Trap, number> {
    this.state = TRAPPED;
    YIELD.value = this;
    return YIELD;
  }

  #finish(value: number): IteratorResult<Trap, number> {
    this.state = DONE;
    // The call is over: nobody refers to this record any more; keep it for the next call.
    this.ctx = null;
    this.slow = null;
    release(this);
    RETURN.value = value;
    return RETURN;
  }

  return(value: number): IteratorResult<Trap, number> {
    if (this.state !== DONE) return this.#finish(value);
    RETURN.value = value;
    return RETURN;
  }

  throw(e: unknown): IteratorResult<Trap, number> {
    if (this.state !== DONE) this.#finish(0);
    throw e;
  }
}

let pool: SafecopyCall | null = null;

function release(c: SafecopyCall): void {
  c.nextFree = pool;
  pool = c;
}

function safecopyCall(
  ctx: ProcessContext,
  type: number,
  granter: Endpoint,
  gid: number,
  offset: number,
  address: VirAddr,
  bytes: number,
): Syscall {
  let c = pool;
  if (c === null) {
    c = new SafecopyCall();
  } else {
    pool = c.nextFree;
    c.nextFree = null;
  }
  c.ctx = ctx;
  c.type = type;
  c.granter = granter;
  c.gid = gid;
  c.offset = offset;
  c.address = address;
  c.bytes = bytes;
  c.state = FRESH;
  return c;
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
