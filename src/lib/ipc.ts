/**
 * The IPC trap stubs, used with `yield*`: each yields one trap record and returns the
 * kernel's result. The message address is in the caller's own memory (see `UMessage`). A
 * RECEIVE or SENDREC also leaves the IPC status word in `status.value`.
 * MINIX: lib/libc/arch/i386/rts/_ipc.S.
 *
 * A stub is its own trap record and its own two-step iterator rather than a generator: it
 * is on every message's path, and a generator per call costs more than the kernel's work.
 */
import type { Endpoint } from "../include/endpoint.ts";
import { NOTIFY, RECEIVE, SEND, SENDNB, SENDREC } from "../include/ipc.ts";
import type { IpcTrap, Trap, TrapResult } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";

/** What library calls return: iterate it with `yield*` inside a program. */
export type Syscall<T = number> = Generator<Trap, T, TrapResult>;

/**
 * A single trap, iterated once with `yield*`; the result of `yield*` is the kernel's result.
 */
export type TrapCall = Iterable<Trap, number, TrapResult>;

/** Where RECEIVE-type stubs put the status word of the message they got. */
export interface IpcStatus {
  value: number;
}

/**
 * Iterator results are read by `yield*` at once and never kept, so two shared objects serve
 * every call (no allocation per trap).
 */
const YIELD: { done: false; value: Trap } = {
  done: false,
  value: { kind: "kcall", msg: 0 as VirAddr },
};
const RETURN: { done: true; value: number } = { done: true, value: 0 };

const FRESH = 0;
const TRAPPED = 1;
const DONE = 2;

/**
 * One IPC trap: the record the kernel reads (and writes `status` into) and a two-step
 * iterator for `yield*`. Single use: once it has returned it goes back to a pool and is
 * reused by a later call, which is why the exported type (`TrapCall`) shows no fields.
 */
class IpcCall implements IpcTrap, Iterator<Trap, number, TrapResult> {
  readonly kind = "ipc";
  call: number;
  srcDst: Endpoint;
  msg: VirAddr;
  status = 0;
  out: IpcStatus | undefined;
  state = FRESH;
  nextFree: IpcCall | null = null;

  constructor(call: number, srcDst: Endpoint, msg: VirAddr, out: IpcStatus | undefined) {
    this.call = call;
    this.srcDst = srcDst;
    this.msg = msg;
    this.out = out;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(r?: TrapResult): IteratorResult<Trap, number> {
    if (this.state === FRESH) {
      this.state = TRAPPED;
      YIELD.value = this;
      return YIELD;
    }
    RETURN.value = r ?? 0;
    if (this.state !== TRAPPED) return RETURN;
    this.state = DONE;
    if (this.out !== undefined) this.out.value = this.status;
    // The call is over: nobody refers to this record any more; keep it for the next call.
    this.out = undefined;
    release(this);
    return RETURN;
  }
}

/** Finished trap records, reused by the next calls (one allocation per call avoided). */
let pool: IpcCall | null = null;

function release(c: IpcCall): void {
  c.nextFree = pool;
  pool = c;
}

function ipcCall(
  call: number,
  srcDst: Endpoint,
  msg: VirAddr,
  out: IpcStatus | undefined,
): IpcCall {
  const c = pool;
  if (c === null) return new IpcCall(call, srcDst, msg, out);
  pool = c.nextFree;
  c.nextFree = null;
  c.call = call;
  c.srcDst = srcDst;
  c.msg = msg;
  c.out = out;
  c.status = 0;
  c.state = FRESH;
  return c;
}

export function send(dst: Endpoint, msg: VirAddr): TrapCall {
  return ipcCall(SEND, dst, msg, undefined);
}

export function sendnb(dst: Endpoint, msg: VirAddr): TrapCall {
  return ipcCall(SENDNB, dst, msg, undefined);
}

export function receive(src: Endpoint, msg: VirAddr, status?: IpcStatus): TrapCall {
  return ipcCall(RECEIVE, src, msg, status);
}

export function sendrec(peer: Endpoint, msg: VirAddr, status?: IpcStatus): TrapCall {
  return ipcCall(SENDREC, peer, msg, status);
}

export function notify(dst: Endpoint): TrapCall {
  return ipcCall(NOTIFY, dst, 0 as VirAddr, undefined);
}

/** An IPC trap record whose fields can change between uses (see `ipcTrap`). */
export type OwnIpcTrap = { -readonly [F in keyof IpcTrap]: IpcTrap[F] };

/**
 * A trap record a loop keeps and yields itself — `const r = yield t` is `yield* stub(…)`
 * without the stub's iterator — for a server's request loop, where that iterator costs more
 * than the kernel's work. The kernel leaves the status word in `t.status`.
 */
export function ipcTrap(call: number, srcDst: Endpoint, msg: VirAddr): OwnIpcTrap {
  return { kind: "ipc", call, srcDst, msg, status: 0 };
}

/** SENDA: `count` asynmsg_t entries at `table` (see include/ipc.ts for the layout). */
export function* senda(table: VirAddr, count: number): Syscall {
  return yield { kind: "senda", table, count };
}

/**
 * A library call that finished without trapping, as a `Syscall`: `yield*` gets `value` at
 * once. Lets a call whose usual path makes no trap (a memory access that does not fault, a
 * cached answer) skip creating a generator; the rare path returns a real one.
 */
export class Returned<T> implements Generator<Trap, T, TrapResult> {
  readonly #result: IteratorReturnResult<T>;

  constructor(value: T) {
    this.#result = { done: true, value };
  }

  next(): IteratorResult<Trap, T> {
    return this.#result;
  }

  return(): IteratorResult<Trap, T> {
    return this.#result;
  }

  throw(e: unknown): IteratorResult<Trap, T> {
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** The finished call with no result (shared: it has no state). */
export const FINISHED: Syscall<void> = new Returned<void>(undefined);

/**
 * Whether a request handler's result is a call still to run (`yield*` it) rather than an
 * answer given at once: a server's handlers answer at once unless they need to trap.
 */
export function isSyscall<T>(x: T | Syscall<T>): x is Syscall<T> {
  return (
    typeof x === "object" && x !== null && typeof (x as { next?: unknown }).next === "function"
  );
}
