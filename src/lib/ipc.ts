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

/** A single trap, iterated with `yield*`; the result of `yield*` is the kernel's result. */
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

class IpcCall implements IpcTrap, Iterator<Trap, number, TrapResult> {
  readonly kind = "ipc";
  readonly call: number;
  readonly srcDst: Endpoint;
  readonly msg: VirAddr;
  status = 0;
  readonly out: IpcStatus | undefined;
  yielded = false;

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
    if (!this.yielded) {
      this.yielded = true;
      YIELD.value = this;
      return YIELD;
    }
    if (this.out !== undefined) this.out.value = this.status;
    RETURN.value = r ?? 0;
    return RETURN;
  }
}

export function send(dst: Endpoint, msg: VirAddr): TrapCall {
  return new IpcCall(SEND, dst, msg, undefined);
}

export function sendnb(dst: Endpoint, msg: VirAddr): TrapCall {
  return new IpcCall(SENDNB, dst, msg, undefined);
}

export function receive(src: Endpoint, msg: VirAddr, status?: IpcStatus): TrapCall {
  return new IpcCall(RECEIVE, src, msg, status);
}

export function sendrec(peer: Endpoint, msg: VirAddr, status?: IpcStatus): TrapCall {
  return new IpcCall(SENDREC, peer, msg, status);
}

export function notify(dst: Endpoint): TrapCall {
  return new IpcCall(NOTIFY, dst, 0 as VirAddr, undefined);
}

/** SENDA: `count` asynmsg_t entries at `table` (see include/ipc.ts for the layout). */
export function* senda(table: VirAddr, count: number): Syscall {
  return yield { kind: "senda", table, count };
}
