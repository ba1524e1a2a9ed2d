/**
 * DS's state across its own restart, on top of the journal (journal.ts): `record` journals
 * one operation (compacting when full), `replay` rebuilds the store from the records at start.
 *
 * Values: U32/LABEL numbers and STR/MEM bytes are in the records. A MAP entry records the
 * publisher's grant; replay maps it again through that grant, and drops the entry when that
 * fails. With this RS it always fails: a restarted DS has a new endpoint and the grant names
 * the old one (it would work with MINIX L's restart, which keeps the endpoint), so MAP entries
 * (and their snapshots) do not survive a restart: their subscribers are woken as after a
 * delete, and the publisher publishes again. After dropping entries the journal is compacted
 * so it describes the store as it now is. Client
 * mappings of a MAP buffer (DSMF_MAP_MAPPED) do not survive DS either: the kernel drops them
 * with DS's death, clients keep private copies (as after a delete).
 */
import { OK } from "../../include/errno.ts";
import { DSF_TYPE_LABEL, DSF_TYPE_MAP, DSF_TYPE_U32, type DsType } from "../../include/ds.ts";
import { virAddr } from "../../include/types.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { sysSafemap } from "../../lib/libsys/sys_safemap.ts";
import { load, store } from "../../lib/mem.ts";
import type { Blob } from "./blobs.ts";
import { encodeOp, type JournalOp } from "./journal.ts";
import type { DsServer } from "./server.ts";

/**
 * Journals `op`: at once when the journal's memory is present and the record fits (the
 * usual case: no trap; see Journal.recordNow), else kept in `ds.unjournaled` for `flushJournal`, which the server
 * runs before it answers the request (so an answered change is always journaled).
 */
export function record(ds: DsServer, op: JournalOp): void {
  const j = ds.journal;
  if (j === null) return;
  if (ds.unjournaled.length === 0 && j.recordNow(op)) return;
  ds.unjournaled.push(encodeOp(op).slice());
}

/** `record` of a U32/LABEL publish: the usual case, a value published again, builds nothing. */
export function recordNum(
  ds: DsServer,
  caller: string,
  key: string,
  type: DsType,
  flags: number,
  num: number,
): void {
  const j = ds.journal;
  if (j === null) return;
  if (ds.unjournaled.length === 0 && j.rewriteNum(caller, key, type, flags, num)) return;
  record(ds, { op: "publish", caller, key, type, flags, num });
}

/** Appends what `record` kept back; compacts when the journal is full. */
export function* flushJournal(ds: DsServer): Syscall<void> {
  const list = ds.unjournaled;
  while (list.length > 0) {
    const j = ds.journal;
    if (j !== null && (yield* j.append(list[0]!))) {
      list.shift();
      continue;
    }
    // Full (or off): the store already contains every kept operation's effect, and the
    // compacted journal describes the store.
    list.length = 0;
    yield* compact(ds);
  }
}

/** Rewrites the journal as the current state; turns it off when that does not fit. */
export function* compact(ds: DsServer): Syscall<void> {
  const j = ds.journal;
  if (j === null) return;
  if (yield* j.rewrite(yield* stateRecords(ds))) return;
  yield* ds.log(`journal full (${j.capacity} bytes): DS will not survive a restart`);
  yield* j.disable();
  ds.journal = null;
}

/** The bytes of a blob in DS's memory. */
export function* blobBytes(ds: DsServer, b: Blob): Syscall<Uint8Array> {
  const out = new Uint8Array(b.length);
  if (b.length > 0) yield* load(ds.ctx, b.addr, out);
  return out;
}

/** Records that rebuild the current state. */
function* stateRecords(ds: DsServer): Syscall<Uint8Array[]> {
  const out = [encodeOp({ op: "limits", limits: ds.limits }).slice()];
  for (const e of ds.store.entries()) {
    const base = { op: "publish", caller: e.owner, key: e.key, type: e.type } as const;
    const flags = e.flags;
    if (e.type === DSF_TYPE_U32 || e.type === DSF_TYPE_LABEL) {
      out.push(encodeOp({ ...base, flags, num: e.num }).slice());
    } else if (e.type === DSF_TYPE_MAP) {
      const m = e.data!.map!;
      out.push(encodeOp({ ...base, flags, num: 0, map: { ...m, len: e.data!.length } }).slice());
      for (let i = Math.max(0, e.sindex - ds.limits.nrSnapshots + 1); i <= e.sindex; i++) {
        const snap = ds.store.snapshotAt(e, i);
        if (snap === undefined) continue;
        const data = yield* blobBytes(ds, snap);
        out.push(encodeOp({ op: "snapshot", key: e.key, index: i, data }).slice());
      }
    } else {
      out.push(encodeOp({ ...base, flags, num: 0, data: yield* blobBytes(ds, e.data!) }).slice());
    }
  }
  for (const s of ds.store.subscriptionList()) {
    out.push(
      encodeOp({ op: "subscribe", caller: s.owner, pattern: s.pattern, flags: s.typeMask }).slice(),
    );
    for (const p of s.pending) out.push(encodeOp({ op: "pending", caller: s.owner, ...p }).slice());
  }
  return out;
}

/** A blob holding `data`, or null when DS is out of memory. */
function* blobOf(ds: DsServer, data: Uint8Array): Syscall<Blob | null> {
  const b = yield* ds.heap.alloc(data.length);
  if (typeof b === "number") return null;
  if (data.length > 0) yield* store(ds.ctx, b.addr, data);
  return b;
}

/**
 * Applies `records` to the (empty) store. Returns how many MAP entries had to be dropped;
 * their subscribers are then in `ds.wake`, as after a delete (every other change replayed
 * was known to its subscribers before the restart).
 */
export function* replay(ds: DsServer, records: readonly JournalOp[]): Syscall<number> {
  const st = ds.store;
  /** MAP entries that could not be mapped again and were not deleted later: key → owner. */
  const dropped = new Map<string, { owner: string; flags: number }>();
  for (const op of records) {
    switch (op.op) {
      case "limits":
        break;
      case "publish": {
        if (op.type === DSF_TYPE_U32 || op.type === DSF_TYPE_LABEL) {
          st.publish(op.caller, op.key, op.type, op.flags, op.num, ds.wake);
          break;
        }
        let value: Blob | null;
        if (op.map !== undefined) {
          value = yield* remap(ds, op.map);
          if (value === null) {
            dropped.set(op.key, { owner: op.caller, flags: op.flags });
            break;
          }
          dropped.delete(op.key);
        } else {
          value = yield* blobOf(ds, op.data ?? new Uint8Array(0));
          if (value === null) break;
        }
        if (st.publish(op.caller, op.key, op.type, op.flags, value, ds.wake) !== OK) {
          if (op.map !== undefined) yield* ds.unmap(value);
          else yield* ds.heap.free(value);
        }
        break;
      }
      case "delete":
        st.delete(op.caller, op.key, op.type, ds.wake);
        if (op.type === DSF_TYPE_MAP) dropped.delete(op.key);
        if (op.type === DSF_TYPE_LABEL) {
          for (const [key, d] of dropped) if (d.owner === op.key) dropped.delete(key);
        }
        break;
      case "subscribe":
        st.subscribe(op.caller, op.pattern, op.flags, ds.wake);
        break;
      case "check":
        st.check(op.caller);
        break;
      case "snapshot": {
        const b = yield* blobOf(ds, op.data);
        if (b !== null && !st.restoreSnapshot(op.key, op.index, b)) yield* ds.heap.free(b);
        break;
      }
      case "pending":
        st.markPending(op.caller, op.key, op.type);
        break;
    }
    if (st.released.length > 0) yield* ds.freeReleased();
  }
  ds.wake.clear();
  for (const [key, d] of dropped) st.announceGone(key, DSF_TYPE_MAP, d.owner, d.flags, ds.wake);
  return dropped.size;
}

/** Maps a MAP entry's publisher pages again into a fresh buffer, or null. */
function* remap(
  ds: DsServer,
  m: { readonly grantor: number; readonly gid: number; readonly len: number },
): Syscall<Blob | null> {
  const b = yield* ds.heap.alloc(m.len, false);
  if (typeof b === "number") return null;
  const grantor = m.grantor as Parameters<typeof sysSafemap>[1];
  const r = yield* sysSafemap(ds.ctx, grantor, m.gid, 0, virAddr(b.addr), m.len, false);
  if (r !== OK) {
    yield* ds.heap.free(b, false);
    return null;
  }
  return { ...b, map: { grantor, gid: m.gid }, clientGrants: new Map() };
}
