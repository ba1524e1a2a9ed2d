/**
 * SENDA: asynchronous sends from a table of `asynmsg_t` entries in the sender's memory.
 * Entries that can be delivered now are; the rest wait until the destination receives
 * (`try_one`/`try_async`). Each finished entry gets `result`, then `flags |= AMF_DONE`,
 * written back. MINIX: kernel/proc.c `mini_senda` (MINIX-SPEC §2.8).
 */
import {
  ECALLDENIED,
  EDEADSRCDST,
  EDOM,
  EFAULT,
  EINVAL,
  EPERM,
  ESRCH,
  OK,
} from "../../include/errno.ts";
import {
  AMF_DONE,
  AMF_NOREPLY,
  AMF_NOTIFY,
  AMF_VALID,
  ASYN_DST,
  ASYN_FLAGS,
  ASYN_MSG,
  ASYN_RESULT,
  ASYNMSG_SIZE,
  SENDA,
} from "../../include/ipc.ts";
import { M_SOURCE } from "../../include/message.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Kernel } from "../kernel.ts";
import { copyFromProc, copyMsgFromProc, copyToProc } from "../memory.ts";
import { SYS_PROC, USER_PRIV_ID } from "../priv.ts";
import { MF_ASYNMSG, MF_REPLY_PEND, RTS_NO_ENDPOINT, type Proc } from "../proc.ts";
import { deliver, willReceive } from "./common.ts";

const hdr = new Uint8Array(12);
const hdrView = new DataView(hdr.buffer);
const word = new Uint8Array(4);
const wordView = new DataView(word.buffer);

/** Reads entry `i`'s flags and dst into `hdr`; false if the table is unreadable. */
function readEntry(k: Kernel, p: Proc, table: number, i: number): boolean {
  return copyFromProc(k, p, (table + i * ASYNMSG_SIZE) as VirAddr, hdr, 0, 12) === OK;
}

function writeWord(k: Kernel, p: Proc, va: number, v: number): boolean {
  wordView.setUint32(0, v >>> 0, true);
  return copyToProc(k, p, va as VirAddr, word, 0, 4) === OK;
}

/** Writes `result` then `flags | AMF_DONE` of entry `i`. False if the write faulted. */
function finishEntry(
  k: Kernel,
  p: Proc,
  table: number,
  i: number,
  flags: number,
  result: number,
): boolean {
  const base = table + i * ASYNMSG_SIZE;
  return (
    writeWord(k, p, base + ASYN_RESULT, result) &&
    writeWord(k, p, base + ASYN_FLAGS, flags | AMF_DONE)
  );
}

/** Copies entry `i`'s message into `dst.delivermsg` and completes the delivery. */
function deliverEntry(k: Kernel, src: Proc, table: number, i: number, dst: Proc): number {
  const va = (table + i * ASYNMSG_SIZE + ASYN_MSG) as VirAddr;
  if (copyMsgFromProc(k, src, va, dst.delivermsg32) !== OK) return EFAULT;
  dst.delivermsg32[M_SOURCE >>> 2] = src.endpoint >>> 0;
  deliver(k, dst, SENDA);
  return OK;
}

/** `mini_senda`: process `size` entries of the table at `table`. */
export function miniSenda(k: Kernel, caller: Proc, table: VirAddr, size: number): number {
  const priv = caller.priv;
  if (priv === null || (priv.flags & SYS_PROC) === 0) return EPERM;
  priv.asynsize = 0;
  priv.asyntab = 0 as VirAddr;
  if (size === 0) return OK;
  if (size < 0 || size > 16 * k.procs.length) return EDOM;

  let pending = false;
  for (let i = 0; i < size; i++) {
    if (!readEntry(k, caller, table, i)) return EFAULT;
    const flags = hdrView.getUint32(ASYN_FLAGS, true);
    if (flags === 0) continue;
    if (
      (flags & ~(AMF_VALID | AMF_DONE | AMF_NOTIFY | AMF_NOREPLY)) !== 0 ||
      (flags & AMF_VALID) === 0
    ) {
      return EINVAL;
    }
    if ((flags & AMF_DONE) !== 0) continue;
    const dstEp = hdrView.getInt32(ASYN_DST, true);
    const dst = k.isokendpt(dstEp);
    let result: number;
    if (dst === undefined) result = EDEADSRCDST;
    else if (dst.isKernelTask) result = ECALLDENIED;
    else if (dst.priv === null || !priv.ipcTo.has(dst.priv.id)) result = ECALLDENIED;
    else if ((dst.rtsFlags & RTS_NO_ENDPOINT) !== 0) result = EDEADSRCDST;
    else if (
      willReceive(dst, caller.endpoint) &&
      ((flags & AMF_NOREPLY) === 0 || (dst.miscFlags & MF_REPLY_PEND) === 0)
    ) {
      result = deliverEntry(k, caller, table, i, dst);
    } else {
      dst.miscFlags |= MF_ASYNMSG;
      pending = true;
      continue;
    }
    if (!finishEntry(k, caller, table, i, flags, result)) return EFAULT;
  }
  if (pending) {
    priv.asyntab = table;
    priv.asynsize = size;
  }
  return OK;
}

/** Outcome of `tryOne` when an entry exists but must wait (NOREPLY vs SENDREC). */
export const POSTPONED = ESRCH - 1000;

/**
 * `try_one`: deliver the first pending entry of `src`'s table addressed to `dst`. OK when
 * delivered, POSTPONED when one waits for dst to leave SENDREC, ESRCH when none.
 */
export function tryOne(k: Kernel, src: Proc, dst: Proc): number {
  const priv = src.priv;
  if (priv === null || priv.id === USER_PRIV_ID || priv.asynsize === 0) return ESRCH;
  if (dst.priv === null || !priv.ipcTo.has(dst.priv.id)) return ESRCH;
  const table = priv.asyntab;
  let allDone = true;
  let postponed = false;
  for (let i = 0; i < priv.asynsize; i++) {
    if (!readEntry(k, src, table, i)) return ESRCH;
    const flags = hdrView.getUint32(ASYN_FLAGS, true);
    if (flags === 0) continue;
    if ((flags & AMF_DONE) !== 0) continue;
    allDone = false;
    if ((flags & AMF_VALID) === 0 || hdrView.getInt32(ASYN_DST, true) !== dst.endpoint) continue;
    if ((flags & AMF_NOREPLY) !== 0 && (dst.miscFlags & MF_REPLY_PEND) !== 0) {
      postponed = true;
      continue;
    }
    const r = deliverEntry(k, src, table, i, dst);
    finishEntry(k, src, table, i, flags, r);
    if (r === OK) return OK;
  }
  if (allDone) priv.asynsize = 0;
  return postponed ? POSTPONED : ESRCH;
}

/** `try_async`: try every sender in privilege-id order; clear MF_ASYNMSG if nothing waits. */
export function tryAsync(k: Kernel, dst: Proc): number {
  let postponed = false;
  for (const priv of k.privs.privs) {
    if (priv.isFree || priv.asynsize === 0) continue;
    const src = k.procAddr(priv.procNr);
    if (src === undefined || src.isFree) continue;
    const r = tryOne(k, src, dst);
    if (r === OK) return OK;
    if (r === POSTPONED) postponed = true;
  }
  if (!postponed) dst.miscFlags &= ~MF_ASYNMSG;
  return ESRCH;
}
