/**
 * The IPC trap ABI: primitive numbers, the IPC status word, notifications and the SENDA
 * table format. MINIX: include/minix/ipcconst.h, include/minix/ipc.h (MINIX-SPEC §2).
 */
import { defineLayout, MESSAGE_SIZE } from "./message.ts";
import { NR_TASKS } from "./endpoint.ts";

export const SEND = 1;
export const RECEIVE = 2;
export const SENDREC = 3;
export const NOTIFY = 4;
export const SENDNB = 5;
export const SENDA = 16;

/** Every IPC primitive number a process may name in a trap. */
export const IPC_CALLS = { SEND, RECEIVE, SENDREC, NOTIFY, SENDNB, SENDA } as const;
export type IpcCallName = keyof typeof IPC_CALLS;

const IPC_CALL_NAMES = new Map<number, string>(Object.entries(IPC_CALLS).map(([k, v]) => [v, k]));

export function ipcCallName(call: number): string {
  return IPC_CALL_NAMES.get(call) ?? `IPC?${call}`;
}

/** IPC status word: the delivering primitive in bits 0–5, flags from bit 16. */
export const IPC_STATUS_CALL_MASK = 0x3f;
export const IPC_STATUS_FLAGS_SHIFT = 16;
export const IPC_FLG_MSG_FROM_KERNEL = 1;

export function ipcStatusCall(status: number): number {
  return status & IPC_STATUS_CALL_MASK;
}

export function ipcStatusFromKernel(status: number): boolean {
  return ((status >>> IPC_STATUS_FLAGS_SHIFT) & IPC_FLG_MSG_FROM_KERNEL) !== 0;
}

export function isIpcNotify(status: number): boolean {
  return ipcStatusCall(status) === NOTIFY;
}

export function isIpcAsynch(status: number): boolean {
  const c = ipcStatusCall(status);
  return c === NOTIFY || c === SENDA;
}

/** Notifications: `m_type = NOTIFY_FROM(slot)`, payload = NOTIFY_ARG, NOTIFY_TIMESTAMP. */
export const NOTIFY_MESSAGE = 0x1000;
export function notifyFrom(slot: number): number {
  return NOTIFY_MESSAGE | (slot + NR_TASKS);
}
export const NOTIFY_LAYOUT = defineLayout({ arg: "u32", timestamp: "u32" });

/** SENDA table entry flags. */
export const AMF_EMPTY = 0;
export const AMF_VALID = 1;
export const AMF_DONE = 2;
export const AMF_NOTIFY = 4;
export const AMF_NOREPLY = 8;

/** `asynmsg_t` in memory: flags (u32), dst (i32), result (i32), then a whole message. */
export const ASYN_FLAGS = 0;
export const ASYN_DST = 4;
export const ASYN_RESULT = 8;
export const ASYN_MSG = 12;
export const ASYNMSG_SIZE = ASYN_MSG + MESSAGE_SIZE;
