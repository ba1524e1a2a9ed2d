/**
 * The IPC trap stubs: each yields one trap record and returns the kernel's result. The
 * message address is in the caller's own memory (see `UMessage`). A RECEIVE or SENDREC
 * also leaves the IPC status word in `status.value`. MINIX: lib/libc/arch/i386/rts/_ipc.S.
 */
import type { Endpoint } from "../include/endpoint.ts";
import { NOTIFY, RECEIVE, SEND, SENDNB, SENDREC } from "../include/ipc.ts";
import type { IpcTrap, Trap, TrapResult } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";

export type Syscall<T = number> = Generator<Trap, T, TrapResult>;

/** Where RECEIVE-type stubs put the status word of the message they got. */
export interface IpcStatus {
  value: number;
}

function* ipc(call: number, srcDst: Endpoint, msg: VirAddr, status?: IpcStatus): Syscall {
  const trap: IpcTrap = { kind: "ipc", call, srcDst, msg, status: 0 };
  const r = yield trap;
  if (status !== undefined) status.value = trap.status;
  return r;
}

export function send(dst: Endpoint, msg: VirAddr): Syscall {
  return ipc(SEND, dst, msg);
}

export function sendnb(dst: Endpoint, msg: VirAddr): Syscall {
  return ipc(SENDNB, dst, msg);
}

export function receive(src: Endpoint, msg: VirAddr, status?: IpcStatus): Syscall {
  return ipc(RECEIVE, src, msg, status);
}

export function sendrec(peer: Endpoint, msg: VirAddr, status?: IpcStatus): Syscall {
  return ipc(SENDREC, peer, msg, status);
}

export function notify(dst: Endpoint): Syscall {
  return ipc(NOTIFY, dst, 0 as VirAddr);
}

/** SENDA: `count` asynmsg_t entries at `table` (see include/ipc.ts for the layout). */
export function* senda(table: VirAddr, count: number): Syscall {
  return yield { kind: "senda", table, count };
}
