/**
 * DS's journal: how DS survives its own crash (not MINIX: there DS could not be restarted).
 * Every operation that changed the store is appended as a record to a region VM keeps alive
 * across DS's death (VM_KEEP under DS_KEEP_KEY); a DS that RS starts again attaches the same
 * frames, replays the records through the same store operations — so it gets the same
 * entries, subscriptions and pending changes — and wakes every subscriber with something
 * pending. When the region is full the journal is compacted: rewritten as the records that
 * build the current state (limits, entries in index order, snapshots, subscriptions, pending
 * changes). If even that does not fit, the journal is switched off (its header cleared, so a
 * restart starts afresh) and DS goes on without persistence.
 *
 * Layout: header { magic u32, used u32 } then `used` bytes of records { length u32, op u8,
 * fields }. A record is written before `used` is advanced (one word), so a DS killed between
 * two requests never leaves half a record behind.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import { isDsType, type DsType } from "../../include/ds.ts";
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../include/vm.ts";
import { CPU_OK, type ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { minixMmap, minixMunmap, vmCall } from "../../lib/libc/mmap.ts";
import { load, store } from "../../lib/mem.ts";
import type { DsLimits } from "./store.ts";

/** The VM_KEEP key of DS's journal. */
export const DS_KEEP_KEY = 0x4453_4a4c;
const MAGIC = 0x4453_4a31;
const HEADER = 8;

export type JournalOp =
  | { readonly op: "limits"; readonly limits: DsLimits }
  | {
      readonly op: "publish";
      readonly caller: string;
      readonly key: string;
      readonly type: DsType;
      readonly flags: number;
      /** U32/LABEL value. */
      readonly num: number;
      /** STR/MEM contents. */
      readonly data?: Uint8Array;
      /** MAP: the publisher's grant. */
      readonly map?: { readonly grantor: Endpoint; readonly gid: number; readonly len: number };
    }
  | { readonly op: "delete"; readonly caller: string; readonly key: string; readonly type: DsType }
  | {
      readonly op: "subscribe";
      readonly caller: string;
      readonly pattern: string;
      readonly flags: number;
    }
  | { readonly op: "check"; readonly caller: string }
  | {
      readonly op: "snapshot";
      readonly key: string;
      readonly index: number;
      readonly data: Uint8Array;
    }
  | {
      readonly op: "pending";
      readonly caller: string;
      readonly key: string;
      readonly type: DsType;
    };

const OPS = ["limits", "publish", "delete", "subscribe", "check", "snapshot", "pending"] as const;

const enc = new TextEncoder();
const dec = new TextDecoder();

class Writer {
  #buf = new Uint8Array(64);
  #view = new DataView(this.#buf.buffer);
  n = 4;

  #room(k: number): void {
    if (this.n + k <= this.#buf.length) return;
    const b = new Uint8Array(Math.max(this.#buf.length * 2, this.n + k));
    b.set(this.#buf);
    this.#buf = b;
    this.#view = new DataView(b.buffer);
  }

  u8(v: number): void {
    this.#room(1);
    this.#buf[this.n++] = v;
  }

  u32(v: number): void {
    this.#room(4);
    this.#view.setUint32(this.n, v >>> 0, true);
    this.n += 4;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.#room(b.length);
    this.#buf.set(b, this.n);
    this.n += b.length;
  }

  /** UTF-8 with its length; ASCII without an intermediate array. */
  str(s: string): void {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        this.bytes(enc.encode(s));
        return;
      }
    }
    this.u32(s.length);
    this.#room(s.length);
    for (let i = 0; i < s.length; i++) this.#buf[this.n++] = s.charCodeAt(i);
  }

  reset(): void {
    this.n = 4;
  }

  finish(): Uint8Array {
    this.#view.setUint32(0, this.n, true);
    return this.#buf.subarray(0, this.n);
  }
}

class Reader {
  readonly #b: Uint8Array;
  readonly #v: DataView;
  at: number;
  readonly end: number;

  constructor(b: Uint8Array, at: number, end: number) {
    this.#b = b;
    this.#v = new DataView(b.buffer, b.byteOffset, b.length);
    this.at = at;
    this.end = end;
  }

  u8(): number {
    if (this.at + 1 > this.end) throw new RangeError("short record");
    return this.#b[this.at++]!;
  }

  u32(): number {
    if (this.at + 4 > this.end) throw new RangeError("short record");
    const v = this.#v.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    if (this.at + n > this.end) throw new RangeError("short record");
    const out = this.#b.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  str(): string {
    return dec.decode(this.bytes());
  }

  type(): DsType {
    const t = this.u32();
    if (!isDsType(t)) throw new RangeError("bad type");
    return t;
  }
}

const writer = new Writer();

/** The record for `op`: a view of a buffer the next call reuses (copy it to keep it). */
export function encodeOp(op: JournalOp): Uint8Array {
  const w = writer;
  w.reset();
  w.u8(OPS.indexOf(op.op));
  switch (op.op) {
    case "limits": {
      const l = op.limits;
      for (const v of [l.maxKeyLen, l.maxEntries, l.maxSubs, l.maxBlob, l.nrSnapshots]) w.u32(v);
      break;
    }
    case "publish":
      w.str(op.caller);
      w.str(op.key);
      w.u32(op.type);
      w.u32(op.flags);
      w.u32(op.num);
      w.u8(op.data !== undefined ? 1 : op.map !== undefined ? 2 : 0);
      if (op.data !== undefined) w.bytes(op.data);
      if (op.map !== undefined) {
        w.u32(op.map.grantor);
        w.u32(op.map.gid);
        w.u32(op.map.len);
      }
      break;
    case "delete":
    case "pending":
      w.str(op.caller);
      w.str(op.key);
      w.u32(op.type);
      break;
    case "subscribe":
      w.str(op.caller);
      w.str(op.pattern);
      w.u32(op.flags);
      break;
    case "check":
      w.str(op.caller);
      break;
    case "snapshot":
      w.str(op.key);
      w.u32(op.index);
      w.bytes(op.data);
      break;
  }
  return w.finish();
}

/** A U32/LABEL publish record ends with its flags and value (u32 each) and a 0 byte. */
const NUM_TAIL = 9;

/** True for a publish of a U32 or LABEL value. */
function isNumericPublish(op: JournalOp): op is Extract<JournalOp, { op: "publish" }> {
  return op.op === "publish" && op.data === undefined && op.map === undefined;
}

/** The records in `b` (a journal's record area); stops at the first malformed one. */
export function decodeOps(b: Uint8Array): JournalOp[] {
  const out: JournalOp[] = [];
  let at = 0;
  while (at + 5 <= b.length) {
    const len = new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0, true);
    if (len < 5 || at + len > b.length) break;
    const r = new Reader(b, at + 4, at + len);
    try {
      out.push(decodeOne(r));
    } catch {
      break;
    }
    at += len;
  }
  return out;
}

function decodeOne(r: Reader): JournalOp {
  const op = OPS[r.u8()];
  if (op === undefined) throw new RangeError("bad op");
  switch (op) {
    case "limits": {
      const [maxKeyLen, maxEntries, maxSubs, maxBlob, nrSnapshots] = [
        r.u32(),
        r.u32(),
        r.u32(),
        r.u32(),
        r.u32(),
      ];
      return { op, limits: { maxKeyLen, maxEntries, maxSubs, maxBlob, nrSnapshots } };
    }
    case "publish": {
      const caller = r.str();
      const key = r.str();
      const type = r.type();
      const flags = r.u32();
      const num = r.u32();
      const kind = r.u8();
      if (kind === 1) return { op, caller, key, type, flags, num, data: r.bytes() };
      if (kind === 2) {
        const map = { grantor: (r.u32() | 0) as Endpoint, gid: r.u32() | 0, len: r.u32() };
        return { op, caller, key, type, flags, num, map };
      }
      return { op, caller, key, type, flags, num };
    }
    case "delete":
    case "pending":
      return { op, caller: r.str(), key: r.str(), type: r.type() };
    case "subscribe":
      return { op, caller: r.str(), pattern: r.str(), flags: r.u32() };
    case "check":
      return { op, caller: r.str() };
    case "snapshot":
      return { op, key: r.str(), index: r.u32(), data: r.bytes() };
  }
}

export class Journal {
  readonly #ctx: ProcessContext;
  readonly va: VirAddr;
  readonly capacity: number;
  used = 0;
  readonly #word = new Uint8Array(4);
  /**
   * The last record, when `recordNow` appended it and it is a U32/LABEL publish: whose, and
   * where its flags and value are (from the start of the records).
   */
  #lastNum: { caller: string; key: string; type: DsType; at: number } | null = null;
  readonly #num = new Uint8Array(8);
  readonly #numView = new DataView(this.#num.buffer);

  private constructor(ctx: ProcessContext, va: VirAddr, size: number) {
    this.#ctx = ctx;
    this.va = va;
    this.capacity = size - HEADER;
  }

  /**
   * Attaches the kept journal (its records) or makes a new one of `size` bytes (no records).
   * Null when VM cannot keep memory for DS (no VM, not privileged, no memory).
   */
  static *attach(
    ctx: ProcessContext,
    size: number,
  ): Syscall<{ journal: Journal; records: JournalOp[] } | null> {
    const again = yield* vmCall(ctx, "VM_KEEP", { addr: virAddr(0), size: 1, key: DS_KEEP_KEY });
    if (again.status === OK) {
      const j = new Journal(ctx, again.addr, again.size);
      const head = new Uint8Array(HEADER);
      yield* load(ctx, again.addr, head);
      const v = new DataView(head.buffer);
      if (v.getUint32(0, true) !== MAGIC || v.getUint32(4, true) > j.capacity) {
        yield* j.reset();
        return { journal: j, records: [] };
      }
      j.used = v.getUint32(4, true);
      const body = new Uint8Array(j.used);
      yield* load(ctx, virAddr(again.addr + HEADER), body);
      return { journal: j, records: decodeOps(body) };
    }
    const m = yield* minixMmap(ctx, {
      len: size,
      prot: PROT_READ | PROT_WRITE,
      flags: MAP_PRIVATE | MAP_ANON,
    });
    if (m.status !== OK) return null;
    const k = yield* vmCall(ctx, "VM_KEEP", { addr: m.addr, size, key: DS_KEEP_KEY });
    if (k.status !== OK) {
      yield* minixMunmap(ctx, m.addr, size);
      return null;
    }
    const j = new Journal(ctx, m.addr, k.size);
    yield* j.reset();
    return { journal: j, records: [] };
  }

  /** An empty journal. */
  *reset(): Syscall<void> {
    this.#lastNum = null;
    const head = new Uint8Array(HEADER);
    new DataView(head.buffer).setUint32(0, MAGIC, true);
    yield* store(this.#ctx, this.va, head);
    this.used = 0;
  }

  /** Switches the journal off for good: a restart finds no journal. */
  *disable(): Syscall<void> {
    this.#lastNum = null;
    yield* store(this.#ctx, this.va, new Uint8Array(HEADER));
    this.used = 0;
  }

  /**
   * Journals `op` without a trap: true when done. A U32/LABEL publish of the same caller, key
   * and type as the last record overwrites that record's flags and value in place (the usual
   * case, one value updated again and again: replay reaches the same state and the journal
   * does not grow); anything else is appended when it fits. False when that needs a trap or
   * does not fit, changing nothing `append` would not write again in the same place.
   */
  recordNow(op: JournalOp): boolean {
    const cpu = this.#ctx.cpu;
    if (isNumericPublish(op) && this.rewriteNum(op.caller, op.key, op.type, op.flags, op.num)) {
      return true;
    }
    const record = encodeOp(op);
    const at = this.used;
    if (at + record.length > this.capacity) return false;
    if (cpu.write(virAddr(this.va + HEADER + at), record) !== CPU_OK) return false;
    if (cpu.write32(virAddr(this.va + 4), at + record.length) !== CPU_OK) return false;
    this.used += record.length;
    this.#lastNum = isNumericPublish(op)
      ? { caller: op.caller, key: op.key, type: op.type, at: this.used - NUM_TAIL }
      : null;
    return true;
  }

  /**
   * `recordNow`'s in-place case without building the operation: true when the last record
   * is a U32/LABEL publish of `caller`, `key` and `type` and now holds `flags` and `num`.
   */
  rewriteNum(caller: string, key: string, type: DsType, flags: number, num: number): boolean {
    const last = this.#lastNum;
    if (last === null || key !== last.key || caller !== last.caller || type !== last.type) {
      return false;
    }
    this.#numView.setUint32(0, flags >>> 0, true);
    this.#numView.setUint32(4, num >>> 0, true);
    return this.#ctx.cpu.write(virAddr(this.va + HEADER + last.at), this.#num) === CPU_OK;
  }

  /** Appends `record`; false when it does not fit. */
  *append(record: Uint8Array): Syscall<boolean> {
    this.#lastNum = null;
    if (this.used + record.length > this.capacity) return false;
    yield* store(this.#ctx, virAddr(this.va + HEADER + this.used), record);
    this.used += record.length;
    new DataView(this.#word.buffer).setUint32(0, this.used, true);
    yield* store(this.#ctx, virAddr(this.va + 4), this.#word);
    return true;
  }

  /** Replaces every record with `records`; false (journal unchanged) when they do not fit. */
  *rewrite(records: readonly Uint8Array[]): Syscall<boolean> {
    let total = 0;
    for (const r of records) total += r.length;
    if (total > this.capacity) return false;
    this.#lastNum = null;
    new DataView(this.#word.buffer).setUint32(0, 0, true);
    yield* store(this.#ctx, virAddr(this.va + 4), this.#word);
    this.used = 0;
    for (const r of records) yield* this.append(r);
    return true;
  }
}
