/**
 * `asynsend`: a message sent without blocking and without being lost when the destination is
 * not receiving yet. Each process has a table of `asynmsg_t` entries in its memory; a send
 * takes a free entry (empty, or done by the kernel), fills it and hands the table to the
 * kernel with SENDA, which delivers the entry when the destination next receives.
 * MINIX: lib/libsys/asynsend.c (MINIX-SPEC §2.8).
 */
import type { Endpoint } from "../include/endpoint.ts";
import { EAGAIN } from "../include/errno.ts";
import {
  AMF_DONE,
  AMF_NOREPLY,
  AMF_VALID,
  ASYN_DST,
  ASYN_FLAGS,
  ASYN_MSG,
  ASYNMSG_SIZE,
} from "../include/ipc.ts";
import type { Message } from "../include/message.ts";
import type { ProcessContext } from "../include/trap.ts";
import { virAddr, type VirAddr } from "../include/types.ts";
import { senda, type Syscall } from "./ipc.ts";
import { load, store } from "./mem.ts";
import { malloc } from "./runtime.ts";

/** Entries per process table. */
export const ASYN_ENTRIES = 32;

const tables = new WeakMap<ProcessContext, VirAddr>();

/** Sends `m` to `dst` asynchronously; the SENDA status, or EAGAIN when the table is full. */
export function* asynsend(ctx: ProcessContext, dst: Endpoint, m: Message): Syscall {
  let table = tables.get(ctx);
  if (table === undefined) {
    table = malloc(ctx, ASYN_ENTRIES * ASYNMSG_SIZE, 8);
    yield* store(ctx, table, new Uint8Array(ASYN_ENTRIES * ASYNMSG_SIZE));
    tables.set(ctx, table);
  }
  const word = new Uint8Array(4);
  const view = new DataView(word.buffer);
  for (let i = 0; i < ASYN_ENTRIES; i++) {
    const at = table + i * ASYNMSG_SIZE;
    yield* load(ctx, virAddr(at + ASYN_FLAGS), word);
    const flags = view.getUint32(0, true);
    if (flags !== 0 && (flags & AMF_DONE) === 0) continue;
    const entry = new Uint8Array(ASYNMSG_SIZE);
    const e = new DataView(entry.buffer);
    e.setUint32(ASYN_FLAGS, AMF_VALID | AMF_NOREPLY, true);
    e.setInt32(ASYN_DST, dst, true);
    entry.set(m.bytes, ASYN_MSG);
    yield* store(ctx, virAddr(at), entry);
    return yield* senda(table, ASYN_ENTRIES);
  }
  return EAGAIN;
}
