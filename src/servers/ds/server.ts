/**
 * DS's state and the helpers every request uses: the store (whose blobs are buffers in DS's
 * memory), the key buffer keys are copied into through the caller's key grant, the set of
 * subscribers to wake, and freeing what the store let go of (a MAP entry's buffer is unmapped
 * from the publisher, and every client mapping of it revoked, before it goes).
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { E2BIG, EINVAL, OK } from "../../include/errno.ts";
import { DSF_TYPE_MAP } from "../../include/ds.ts";
import { CPU_OK, type ProcessContext, type Trap, type TrapResult } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import { notify, type Syscall } from "../../lib/ipc.ts";
import { cpfRevoke } from "../../lib/libsys/safecopies.ts";
import { KCALL_NR, KCALLS, KERNEL_CALL } from "../../include/kcall.ts";
import { sysSafecopyTo } from "../../lib/libsys/sys_safecopy.ts";
import { sysSaferevmapAddr, sysSafeunmap } from "../../lib/libsys/sys_safemap.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { load, store } from "../../lib/mem.ts";
import { MappedBuffer } from "../../lib/mapped.ts";
import { malloc } from "../../lib/runtime.ts";
import { UMessage } from "../../lib/umessage.ts";
import { BlobHeap, type Blob } from "./blobs.ts";
import type { Journal } from "./journal.ts";
import { DsStore, type DsLimits } from "./store.ts";

export class DsServer {
  readonly ctx: ProcessContext;
  readonly limits: DsLimits;
  readonly store: DsStore<Blob>;
  readonly heap: BlobHeap;
  /** The request/reply message. */
  readonly um: UMessage;
  /** Keys are copied here (maxKeyLen bytes) and decoded from `keyBytes`. */
  readonly keyVa: VirAddr;
  readonly keyBytes: Uint8Array;
  /** Labels of subscribers to wake after the current request. */
  readonly wake = new Set<string>();
  /** DS's own endpoint (never notified). */
  self: Endpoint = NONE;
  /** Where DS journals its changes to survive a restart; null: no persistence. */
  journal: Journal | null = null;
  /** Journal records not yet appended (persist.ts `record`, `flushJournal`). */
  readonly unjournaled: Uint8Array[] = [];
  /** The SYS_SAFECOPYFROM message for keys, built once (only the varying fields change). */
  readonly #keyRead: KeyRead;

  constructor(ctx: ProcessContext, limits: DsLimits) {
    this.ctx = ctx;
    this.limits = limits;
    this.store = new DsStore<Blob>(limits);
    this.heap = new BlobHeap(ctx);
    this.um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    this.keyVa = malloc(ctx, limits.maxKeyLen, 8);
    this.keyBytes = new Uint8Array(limits.maxKeyLen);
    this.#keyRead = new KeyRead(ctx, this.keyVa, this.keyBytes, limits.maxKeyLen);
  }

  /**
   * The key behind `caller`'s grant `gid` of `len` bytes (2..maxKeyLen including the NUL,
   * else EINVAL; the last byte is taken as NUL whatever it holds), or the copy's error. The
   * bytes are always copied; a key equal to the last one read is not decoded again. One
   * reader serves every request (DS serves one at a time): iterate it at once with `yield*`.
   */
  readKey(caller: Endpoint, gid: number, len: number): KeyRead {
    return this.#keyRead.start(caller, gid, len);
  }

  /**
   * Writes `key` and its NUL through `caller`'s grant `gid` of a `len`-byte buffer (any size
   * from 2 up: the client need not know DS's key limit; E2BIG if the key does not fit).
   */
  *writeKey(caller: Endpoint, gid: number, len: number, key: string): Syscall {
    if (!Number.isInteger(len) || len < 2) return EINVAL;
    const n = encodeKey(key, this.keyBytes);
    if (n + 1 > len) return E2BIG;
    this.keyBytes[n] = 0;
    yield* store(this.ctx, this.keyVa, this.keyBytes.subarray(0, n + 1));
    return yield* sysSafecopyTo(this.ctx, caller, gid, 0, this.keyVa, n + 1);
  }

  /** What follows an answer: wake the subscribers the request touched, free what it released. */
  *afterReply(): Syscall<void> {
    if (this.wake.size > 0) yield* this.wakeSubscribers();
    if (this.store.released.length > 0) yield* this.freeReleased();
  }

  /** Notifies every subscriber collected in `wake` (except DS itself) and empties it. */
  *wakeSubscribers(): Syscall<void> {
    for (const label of this.wake) {
      const ep = this.store.endpointOf(label);
      if (ep !== undefined && ep !== this.self) yield* notify(ep);
    }
    this.wake.clear();
  }

  /** Frees every blob the store released. */
  *freeReleased(): Syscall<void> {
    const list = this.store.released;
    while (list.length > 0) {
      const { type, blob } = list.shift()!;
      if (type === DSF_TYPE_MAP) yield* this.unmap(blob);
      else yield* this.heap.free(blob);
    }
  }

  /**
   * A MAP buffer goes: every client mapping of the buffer is revoked (saferevmap by address:
   * the clients keep private copies), DS's own mapping of the publisher becomes a private copy
   * (safeunmap), the grants DS gave clients are revoked, and the memory goes back to VM.
   * Failures are logged, not fatal. (MINIX unmaps first, then revokes; in that order a
   * client's mapping here stayed shared with the publisher, so the revocation goes first.)
   */
  *unmap(b: Blob): Syscall<void> {
    let r = yield* sysSaferevmapAddr(this.ctx, b.addr);
    if (r !== OK) yield* this.log(`saferevmap of ${b.addr} failed (${r})`);
    r = yield* sysSafeunmap(this.ctx, b.addr);
    if (r !== OK) yield* this.log(`safeunmap of ${b.addr} failed (${r})`);
    for (const gid of b.clientGrants?.values() ?? []) yield* cpfRevoke(this.ctx, gid);
    yield* this.heap.free(b, false);
  }

  /** Copies `len` bytes of DS's own memory from `from` to `to`. */
  *copyLocal(from: VirAddr, to: VirAddr, len: number): Syscall<void> {
    const chunk = new Uint8Array(Math.min(len, 64 * 1024));
    for (let off = 0; off < len; off += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, len - off));
      yield* load(this.ctx, virAddr(from + off), part);
      yield* store(this.ctx, virAddr(to + off), part);
    }
  }

  *log(text: string): Syscall<void> {
    yield* sysDiagctl(this.ctx, `ds: ${text}\n`);
  }
}

const KEY_COPY = KCALLS.SYS_SAFECOPYFROM.req.offsets;

const START = 0;
const PUT = 1;
const CALL = 2;
const LOAD = 3;
const OVER = 4;

/**
 * Reading a key (DsServer.readKey): SYS_SAFECOPYFROM of the key into DS's key buffer (the
 * kernel-call message is built once; only granter, grant and length change), then a load of
 * the bytes, decoded through a KeyCache. Like the IPC stubs it is a hand-written iterator,
 * not a generator: it is on every request's path. States: START checks the length, PUT
 * stores the message (page-fault traps until it is stored), CALL takes the kernel call's
 * result, LOAD reads the bytes (in place while the key buffer is mapped, else through a
 * load: page-fault traps likewise).
 */
export class KeyRead implements Iterator<Trap, string | number, TrapResult> {
  readonly #ctx: ProcessContext;
  readonly #keyVa: VirAddr;
  readonly #maxLen: number;
  /** The SYS_SAFECOPYFROM request, made once; `start` changes its granter, id and length. */
  readonly #um: UMessage;
  /** Where the key is loaded when its buffer is not mapped. */
  readonly #keyBytes: Uint8Array;
  readonly #keys = new KeyCache();
  /** The key buffer itself, read in place while it is mapped. */
  readonly #keyMem: MappedBuffer;
  readonly #yield: IteratorYieldResult<Trap>;
  readonly #return: { done: true; value: string | number } = { done: true, value: 0 };
  #state = OVER;
  #len = 0;

  constructor(ctx: ProcessContext, keyVa: VirAddr, keyBytes: Uint8Array, maxLen: number) {
    this.#ctx = ctx;
    this.#keyVa = keyVa;
    this.#maxLen = maxLen;
    this.#keyMem = new MappedBuffer(ctx.cpu, keyVa, maxLen);
    this.#keyBytes = keyBytes;
    this.#um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    this.#um.m.set(KERNEL_CALL + KCALL_NR.SYS_SAFECOPYFROM, KCALLS.SYS_SAFECOPYFROM.req, {
      granter: NONE,
      gid: 0,
      offset: 0,
      address: keyVa,
      bytes: 0,
    });
    this.#yield = { done: false, value: { kind: "kcall", msg: this.#um.va } };
  }

  start(caller: Endpoint, gid: number, len: number): this {
    const v = this.#um.m.view;
    v.setInt32(KEY_COPY.granter, caller, true);
    v.setInt32(KEY_COPY.gid, gid, true);
    v.setInt32(KEY_COPY.bytes, len, true);
    this.#len = len;
    this.#state = START;
    return this;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(r?: TrapResult): IteratorResult<Trap, string | number> {
    const cpu = this.#ctx.cpu;
    const len = this.#len;
    if (this.#state === START) {
      if (!Number.isInteger(len) || len < 2 || len > this.#maxLen) return this.#done(EINVAL);
      this.#state = PUT;
    }
    if (this.#state === PUT) {
      if (!this.#um.putNow()) return this.#fault(true);
      this.#state = CALL;
      return this.#yield;
    }
    if (this.#state === CALL) {
      if (r !== OK) return this.#done(r ?? EINVAL);
      this.#state = LOAD;
    }
    if (this.#state === LOAD) {
      // DS forces the NUL at the last byte: the key is in the first len - 1.
      const mapped = this.#keyMem.bytes();
      if (mapped !== null) return this.#done(this.#keys.decode(mapped, len - 1));
      const bytes = this.#keyBytes.subarray(0, len);
      if (cpu.read(this.#keyVa, bytes) !== CPU_OK) return this.#fault(false);
      return this.#done(this.#keys.decode(bytes, len - 1));
    }
    return this.#return;
  }

  #fault(write: boolean): IteratorResult<Trap, string | number> {
    return { done: false, value: { kind: "pagefault", addr: this.#ctx.cpu.faultAddr, write } };
  }

  #done(value: string | number): IteratorResult<Trap, string | number> {
    this.#state = OVER;
    this.#return.value = value;
    return this.#return;
  }
}

const decoder = new TextDecoder();

/** The string up to the first NUL (ASCII fast path). */
export function decodeKey(bytes: Uint8Array): string {
  let end = 0;
  let ascii = true;
  while (end < bytes.length && bytes[end] !== 0) {
    if (bytes[end]! >= 0x80) ascii = false;
    end++;
  }
  if (!ascii) return decoder.decode(bytes.subarray(0, end));
  let s = "";
  for (let i = 0; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * `decodeKey` that remembers the last key: the same bytes (up to the NUL) give the same
 * string without decoding (clients mostly repeat keys, and a string already used as a map
 * key is found faster).
 */
export class KeyCache {
  #bytes = new Uint8Array(0);
  #key = "";

  /** The key in `bytes[0..n)` (up to its first NUL). */
  decode(bytes: Uint8Array, n = bytes.length): string {
    const last = this.#bytes;
    let i = 0;
    while (i < last.length && i < n && bytes[i] === last[i]) i++;
    if (i === last.length && (i === n || bytes[i] === 0)) return this.#key;
    let end = 0;
    while (end < n && bytes[end] !== 0) end++;
    const key = bytes.slice(0, end);
    this.#bytes = key;
    this.#key = decodeKey(key);
    return this.#key;
  }
}

const encoder = new TextEncoder();

/** Encodes `key` into `out` (no NUL); the byte count, or out.length+1 if it does not fit. */
export function encodeKey(key: string, out: Uint8Array): number {
  const r = encoder.encodeInto(key, out);
  return r.read < key.length ? out.length + 1 : r.written;
}
