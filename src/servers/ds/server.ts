/**
 * DS's state and the helpers every request uses: the store (whose blobs are buffers in DS's
 * memory), the key buffer keys are copied into through the caller's key grant, the set of
 * subscribers to wake, and freeing what the store let go of (a MAP entry's buffer is unmapped
 * from the publisher, and every client mapping of it revoked, before it goes).
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { E2BIG, EINVAL, OK } from "../../include/errno.ts";
import { DSF_TYPE_MAP } from "../../include/ds.ts";
import type { KcallTrap, ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import { notify, type Syscall } from "../../lib/ipc.ts";
import { cpfRevoke } from "../../lib/libsys/safecopies.ts";
import { KCALL_NR, KCALLS, KERNEL_CALL } from "../../include/kcall.ts";
import { sysSafecopyTo } from "../../lib/libsys/sys_safecopy.ts";
import { sysSaferevmapAddr, sysSafeunmap } from "../../lib/libsys/sys_safemap.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { load, store } from "../../lib/mem.ts";
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
  /** The SYS_SAFECOPYFROM message for keys, built once (only the varying fields change). */
  readonly #keyCopy: UMessage;
  readonly #keyTrap: KcallTrap;
  readonly #keyViews: (Uint8Array | undefined)[] = [];
  readonly #keys = new KeyCache();

  constructor(ctx: ProcessContext, limits: DsLimits) {
    this.ctx = ctx;
    this.limits = limits;
    this.store = new DsStore<Blob>(limits);
    this.heap = new BlobHeap(ctx);
    this.um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    this.keyVa = malloc(ctx, limits.maxKeyLen, 8);
    this.keyBytes = new Uint8Array(limits.maxKeyLen);
    this.#keyCopy = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    this.#keyCopy.m.set(KERNEL_CALL + KCALL_NR.SYS_SAFECOPYFROM, KCALLS.SYS_SAFECOPYFROM.req, {
      granter: NONE,
      gid: 0,
      offset: 0,
      address: this.keyVa,
      bytes: 0,
    });
    this.#keyTrap = { kind: "kcall", msg: this.#keyCopy.va };
  }

  /**
   * The key behind `caller`'s grant `gid` of `len` bytes (2..maxKeyLen including the NUL,
   * else EINVAL; the last byte is taken as NUL whatever it holds), or the copy's error. The
   * bytes are always copied; a key equal to the last one read is not decoded again.
   */
  *readKey(caller: Endpoint, gid: number, len: number): Syscall<string | number> {
    if (!Number.isInteger(len) || len < 2 || len > this.limits.maxKeyLen) return EINVAL;
    // sys_safecopyfrom(caller, gid, 0, keyVa, len), with the message built in the constructor.
    const m = this.#keyCopy.m;
    m.view.setInt32(KEY_COPY.granter, caller, true);
    m.view.setInt32(KEY_COPY.gid, gid, true);
    m.view.setInt32(KEY_COPY.bytes, len, true);
    yield* this.#keyCopy.put();
    const r = yield this.#keyTrap;
    if (r !== OK) return r;
    const bytes = this.#keyView(len);
    yield* load(this.ctx, this.keyVa, bytes);
    bytes[len - 1] = 0;
    return this.#keys.decode(bytes);
  }

  /** `keyBytes[0..len)` (views made once per length). */
  #keyView(len: number): Uint8Array {
    let v = this.#keyViews[len];
    if (v === undefined) this.#keyViews[len] = v = this.keyBytes.subarray(0, len);
    return v;
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

  decode(bytes: Uint8Array): string {
    const last = this.#bytes;
    let i = 0;
    while (i < last.length && bytes[i] === last[i]) i++;
    if (i === last.length && (i === bytes.length || bytes[i] === 0)) return this.#key;
    const key = decodeKey(bytes);
    let end = 0;
    while (end < bytes.length && bytes[end] !== 0) end++;
    this.#bytes = bytes.slice(0, end);
    this.#key = key;
    return key;
  }
}

const encoder = new TextEncoder();

/** Encodes `key` into `out` (no NUL); the byte count, or out.length+1 if it does not fit. */
export function encodeKey(key: string, out: Uint8Array): number {
  const r = encoder.encodeInto(key, out);
  return r.read < key.length ? out.length + 1 : r.written;
}
