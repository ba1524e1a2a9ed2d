/**
 * The DS client library (MINIX lib/libsys/ds.c, MINIX-SPEC §5.11). Every call puts its key in
 * the library's key buffer, which DS reads (and for DS_CHECK / DS_RETRIEVE_LABEL writes)
 * through one key grant the library keeps for DS (MINIX makes and revokes one per call; a
 * kept grant saves two grant-table updates per call and DS never sees anything but keys
 * there). Data grants (STR/MEM values, MAP copies) are made for the one call and revoked
 * before returning, except a published MAP's grant, which DS keeps using.
 *
 * DS is found at DS_PROC_NR. When a request cannot reach it (EDEADSRCDST, ECALLDENIED — DS
 * died, or was restarted under a new endpoint) the library asks RS for "ds" (RS_LOOKUP) and
 * retries once. RS itself tells the library DS's endpoint (`dsSetEndpoint`, no lookups).
 */
import { DS_PROC_NR, NONE, type Endpoint } from "../../include/endpoint.ts";
import { E2BIG, ECALLDENIED, EDEADSRCDST, EINVAL, OK } from "../../include/errno.ts";
import {
  DS_CALL_NR,
  DS_CALLS,
  DS_MAX_KEYLEN_LIMIT,
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  DSMF_MAP_MAPPED,
  type DsCallName,
  type DsReply,
  type DsReq,
  type DsType,
} from "../../include/ds.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../../include/grant.ts";
import { SENDREC } from "../../include/ipc.ts";
import {
  clearPayload,
  cString,
  M_TYPE,
  type FieldKind,
  type Layout,
} from "../../include/message.ts";
import { type ProcessContext, type Trap, type TrapResult } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import { ipcTrap, sendrec, type Syscall } from "../ipc.ts";
import { load, store } from "../mem.ts";
import { rsLookup } from "../rs.ts";
import { malloc } from "../runtime.ts";
import { UMessage } from "../umessage.ts";
import { cpfErrno, cpfGrantDirect, cpfRevoke } from "./safecopies.ts";
import { sysSafemap } from "./sys_safemap.ts";

const PAGE = 4096;
/** The key buffer: the longest key a client can use, NUL included. */
export const DS_KEYBUF = DS_MAX_KEYLEN_LIMIT;

interface DsLib {
  ep: Endpoint;
  lookup: boolean;
  readonly um: UMessage;
  readonly keyVa: VirAddr;
  readonly keyBytes: Uint8Array;
  /** The kept key grant and the DS endpoint it was made for. */
  keyGrant: number;
  keyGrantEp: Endpoint;
  /** The key now in the buffer (skips rewriting it). */
  lastKey: string | null;
  lastKeyLen: number;
  /** A data buffer for strings, grown on demand. */
  strVa: VirAddr;
  strCap: number;
  /** The requests on the usual path (see QuickRequest), by result: status or U32 value. */
  readonly quickStatus: QuickRequest<number>;
  readonly quickValue: QuickRequest<NumValue>;
}

const libs = new WeakMap<ProcessContext, DsLib>();

/** The last process served and its state (one process usually calls again and again). */
let lastCtx: ProcessContext | null = null;
let lastLib: DsLib | null = null;

function dsLib(ctx: ProcessContext): DsLib {
  if (ctx === lastCtx) return lastLib!;
  let s = libs.get(ctx);
  if (s === undefined) {
    s = {
      ep: DS_PROC_NR,
      lookup: true,
      um: new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64)),
      keyVa: malloc(ctx, DS_KEYBUF, 8),
      keyBytes: new Uint8Array(DS_KEYBUF),
      keyGrant: -1,
      keyGrantEp: NONE,
      lastKey: null,
      lastKeyLen: 0,
      strVa: 0 as VirAddr,
      strCap: 0,
      quickStatus: new QuickRequest(ctx, (status) => status),
      quickValue: new QuickRequest(ctx, numValue),
    };
    libs.set(ctx, s);
  }
  lastCtx = ctx;
  lastLib = s;
  return s;
}

/**
 * Tells the library where DS is; with `lookup` false it never asks RS (RS uses this: it
 * must not send requests to itself).
 */
export function dsSetEndpoint(ctx: ProcessContext, ep: Endpoint, lookup = true): void {
  const s = dsLib(ctx);
  s.ep = ep;
  s.lookup = lookup;
}

type Extra<K extends DsCallName> = Omit<DsReq<K>, "keyGrant" | "keyLen">;

const encoder = new TextEncoder();

/**
 * Puts `key` + NUL in the key buffer (`request` skips this when it is already there); its
 * length with the NUL, or E2BIG/EINVAL.
 */
function* putKey(ctx: ProcessContext, s: DsLib, key: string): Syscall {
  const r = encoder.encodeInto(key, s.keyBytes);
  if (r.read < key.length || r.written + 1 > DS_KEYBUF) return E2BIG;
  if (r.written === 0) return EINVAL;
  s.keyBytes[r.written] = 0;
  yield* store(ctx, s.keyVa, s.keyBytes.subarray(0, r.written + 1));
  s.lastKey = key;
  s.lastKeyLen = r.written + 1;
  return s.lastKeyLen;
}

/**
 * One request: key grant, key, the request fields (`extra`, or `extra(ep)` when it makes data
 * grants), SENDREC, `done()` (revokes them). `key` null: the key buffer is for DS to write
 * into. Retries once after RS_LOOKUP. Returns the status; the reply stays in the library's
 * message (`replyOf`; all zeros when the request failed before reaching DS). The hot path
 * (u32, kept grant, same key) allocates no generator beyond this one.
 */
function* request<K extends DsCallName>(
  ctx: ProcessContext,
  call: K,
  key: string | null,
  extra: Extra<K> | ((ep: Endpoint) => Syscall<Extra<K> | number>),
  done?: (status: number) => Syscall<void>,
): Syscall {
  const s = dsLib(ctx);
  const def = DS_CALLS[call];
  const layout: Layout<Readonly<Record<string, FieldKind>>> = def.req;
  const grantOff = def.req.offsets.keyGrant;
  const lenOff = def.req.offsets.keyLen;
  for (let attempt = 0; ; attempt++) {
    const keyLen =
      key === null ? DS_KEYBUF : key === s.lastKey ? s.lastKeyLen : yield* putKey(ctx, s, key);
    if (keyLen < 0) return failed(s, keyLen);
    if (s.keyGrantEp !== s.ep) {
      if (s.keyGrant >= 0) yield* cpfRevoke(ctx, s.keyGrant);
      s.keyGrant = yield* cpfGrantDirect(ctx, s.ep, s.keyVa, DS_KEYBUF, CPF_READ | CPF_WRITE);
      if (s.keyGrant < 0) return failed(s, cpfErrno(ctx));
      s.keyGrantEp = s.ep;
    }
    const more = typeof extra === "function" ? yield* extra(s.ep) : extra;
    if (typeof more === "number") return failed(s, more);
    const m = s.um.m;
    m.set(def.nr, layout, more);
    m.view.setInt32(grantOff, s.keyGrant, true);
    m.view.setInt32(lenOff, keyLen, true);
    yield* s.um.put();
    const r = yield* sendrec(s.ep, s.um.va);
    yield* s.um.get();
    const status = r !== OK ? r : m.type;
    if (done !== undefined) yield* done(status);
    if ((r === EDEADSRCDST || r === ECALLDENIED) && attempt === 0 && s.lookup) {
      const ep = yield* rsLookup(ctx, "ds");
      if (ep >= 0 && ep !== s.ep) {
        s.ep = ep as Endpoint;
        continue;
      }
    }
    return status;
  }
}

/** A request that did not reach DS: its reply reads as zeros. */
function failed(s: DsLib, status: number): number {
  s.um.m.clear();
  return status;
}

/** The reply fields of the last request (see `request`). */
function replyOf<K extends DsCallName>(ctx: ProcessContext, call: K): DsReply<K> {
  return DS_CALLS[call].reply.read(dsLib(ctx).um.m.view);
}

const RETRIEVE_VAL = DS_CALLS.DS_RETRIEVE.reply.offsets.val;

/** The requests whose fields are numbers: flags and val (valLen and nrSnapshot 0). */
type NumCall = "DS_PUBLISH" | "DS_RETRIEVE";

/** `request` of a NumCall: its status; the usual case without a generator (QuickRequest). */
function numRequest(
  ctx: ProcessContext,
  call: NumCall,
  key: string,
  flags: number,
  val: number,
): Syscall {
  const s = dsLib(ctx);
  if (s.quickStatus.fits(s, key)) return s.quickStatus.start(s, call, key, flags, val);
  return numRequestSlowly(ctx, call, key, flags, val);
}

/** A U32 or LABEL value as retrieved: the status and the value (0 unless OK). */
interface NumValue {
  status: number;
  value: number;
}

/** DS_RETRIEVE of a U32 or LABEL value, like `numRequest`. */
function numRetrieve(ctx: ProcessContext, key: string, type: DsType): Syscall<NumValue> {
  const s = dsLib(ctx);
  if (s.quickValue.fits(s, key)) return s.quickValue.start(s, "DS_RETRIEVE", key, type, 0);
  return numRetrieveSlowly(ctx, key, type);
}

function* numRetrieveSlowly(ctx: ProcessContext, key: string, type: DsType): Syscall<NumValue> {
  const status = yield* numRequestSlowly(ctx, "DS_RETRIEVE", key, type, 0);
  return numValue(status, dsLib(ctx).um.m.view.getUint32(RETRIEVE_VAL, true));
}

/** The result of a retrieve whose reply's `val` is `val` (0 when it failed early). */
function numValue(status: number, val: number): NumValue {
  return { status, value: status === OK ? val : 0 };
}

/** `request` of a NumCall, the general way. */
function numRequestSlowly(
  ctx: ProcessContext,
  call: NumCall,
  key: string,
  flags: number,
  val: number,
): Syscall {
  return call === "DS_PUBLISH"
    ? request(ctx, call, key, { flags, val, valLen: 0 })
    : request(ctx, call, key, { flags, val, valLen: 0, nrSnapshot: 0 });
}

const Q_IDLE = 0;
const Q_PUT = 1;
const Q_SENT = 2;
const Q_GET = 3;
const Q_SLOW = 4;

/** The words of a NumCall's fields (the same in DS_PUBLISH and DS_RETRIEVE). */
const NUM_REQ = DS_CALLS.DS_PUBLISH.req.offsets;
const W_KEY_GRANT = NUM_REQ.keyGrant >>> 2;
const W_KEY_LEN = NUM_REQ.keyLen >>> 2;
const W_FLAGS = NUM_REQ.flags >>> 2;
const W_VAL = NUM_REQ.val >>> 2;
const W_TYPE = M_TYPE >>> 2;
const W_REPLY_VAL = RETRIEVE_VAL >>> 2;

/**
 * `request` of a NumCall when the key is the one in the key buffer and the key grant was
 * made for DS's endpoint: only the message to store, the SENDREC and the reply to load (in
 * place while the message buffer is mapped, so `um.m` — `replyOf` — need not hold it); the
 * call's result is made from the status and the reply's `val` by `result`. A hand-written iterator
 * like the IPC stubs (one per process and result kind, reused; idle between calls) rather
 * than a generator, as it is on every such request's path. A store or load that faults
 * yields page-fault traps and is retried. When DS cannot be reached (EDEADSRCDST,
 * ECALLDENIED) it hands over to `request`, which sends again, asks RS and retries once.
 */
class QuickRequest<R> implements Generator<Trap, R, TrapResult> {
  readonly #ctx: ProcessContext;
  readonly #result: (status: number, val: number) => R;
  #state = Q_IDLE;
  #s: DsLib | null = null;
  #call: NumCall = "DS_PUBLISH";
  #key = "";
  #flags = 0;
  #val = 0;
  #status = 0;
  #slow: Syscall | null = null;
  readonly #trap = ipcTrap(SENDREC, NONE, 0 as VirAddr);
  readonly #sendrec: IteratorYieldResult<Trap> = { done: false, value: this.#trap };
  /** The final result record, reused (`yield*` reads it at once). */
  readonly #return: { done: true; value: R };

  constructor(ctx: ProcessContext, result: (status: number, val: number) => R) {
    this.#ctx = ctx;
    this.#result = result;
    this.#return = { done: true, value: result(EINVAL, 0) };
  }

  /**
   * Whether it can make a request for `key` of `s`: it is idle, the key is the one in the key
   * buffer and the key grant was made for DS's endpoint.
   */
  fits(s: DsLib, key: string): boolean {
    return this.#state === Q_IDLE && key === s.lastKey && s.keyGrantEp === s.ep;
  }

  start(s: DsLib, call: NumCall, key: string, flags: number, val: number): this {
    this.#s = s;
    this.#call = call;
    this.#key = key;
    this.#flags = flags;
    this.#val = val;
    this.#trap.srcDst = s.ep;
    this.#trap.msg = s.um.va;
    this.#state = Q_PUT;
    return this;
  }

  next(r?: TrapResult): IteratorResult<Trap, R> {
    const s = this.#s!;
    if (this.#state === Q_PUT) {
      // Straight into the buffer while it is mapped, else into the local copy and stored.
      const mem = s.um.inMemory();
      if (mem !== null) {
        this.#write(mem);
      } else {
        this.#write(s.um.m.words);
        if (!s.um.putNow()) return this.#fault(true);
      }
      this.#state = Q_SENT;
      return this.#sendrec;
    }
    if (this.#state === Q_SENT) {
      if ((r === EDEADSRCDST || r === ECALLDENIED) && s.lookup) {
        this.#slow = numRequestSlowly(this.#ctx, this.#call, this.#key, this.#flags, this.#val);
        this.#state = Q_SLOW;
        return this.next();
      }
      this.#status = r ?? 0;
      this.#state = Q_GET;
    }
    if (this.#state === Q_GET) {
      let reply = s.um.inMemory();
      if (reply === null) {
        if (!s.um.getNow()) return this.#fault(false);
        reply = s.um.m.words;
      }
      const status = this.#status === OK ? reply[W_TYPE]! | 0 : this.#status;
      return this.#finish(status, reply[W_REPLY_VAL]!);
    }
    if (this.#state === Q_SLOW) {
      const res = this.#slow!.next(r ?? 0);
      if (res.done !== true) return { done: false, value: res.value };
      return this.#finish(res.value, s.um.m.words[W_REPLY_VAL]!);
    }
    return this.#finish(EINVAL, 0);
  }

  return(value: R): IteratorResult<Trap, R> {
    this.#reset();
    return { done: true, value };
  }

  throw(e: unknown): IteratorResult<Trap, R> {
    this.#reset();
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }

  #fault(write: boolean): IteratorResult<Trap, R> {
    return { done: false, value: { kind: "pagefault", addr: this.#ctx.cpu.faultAddr, write } };
  }

  /** The request (type and payload) into the message words `w` (host order = little-endian). */
  #write(w: Uint32Array): void {
    const s = this.#s!;
    w[W_TYPE] = this.#call === "DS_PUBLISH" ? DS_CALL_NR.DS_PUBLISH : DS_CALL_NR.DS_RETRIEVE;
    clearPayload(w);
    w[W_KEY_GRANT] = s.keyGrant;
    w[W_KEY_LEN] = s.lastKeyLen;
    w[W_FLAGS] = this.#flags;
    w[W_VAL] = this.#val;
  }

  #finish(status: number, val: number): IteratorResult<Trap, R> {
    this.#return.value = this.#result(status, val);
    this.#reset();
    return this.#return;
  }

  #reset(): void {
    this.#state = Q_IDLE;
    this.#s = null;
    this.#slow = null;
  }
}

/** A data grant to DS made per call, revoked by `done`. */
function withGrant(ctx: ProcessContext, addr: VirAddr, len: number, access: number) {
  let gid = -1;
  return {
    *make(ep: Endpoint): Syscall {
      if (len === 0) return 0;
      gid = yield* cpfGrantDirect(ctx, ep, addr, len, access);
      return gid < 0 ? cpfErrno(ctx) : gid;
    },
    *done(): Syscall<void> {
      if (gid >= 0) yield* cpfRevoke(ctx, gid);
      gid = -1;
    },
  };
}

/** The library's string buffer, at least `len` bytes. */
function strBuf(ctx: ProcessContext, len: number): VirAddr {
  const s = dsLib(ctx);
  if (s.strCap < len) {
    s.strCap = Math.max(len, 256);
    s.strVa = malloc(ctx, s.strCap, 8);
  }
  return s.strVa;
}

// --- publish ---------------------------------------------------------------------------

function publishNum(
  ctx: ProcessContext,
  key: string,
  type: DsType,
  val: number,
  flags: number,
): Syscall {
  return numRequest(ctx, "DS_PUBLISH", key, flags | type, val >>> 0);
}

/** `ds_publish_u32`. */
export function dsPublishU32(ctx: ProcessContext, key: string, value: number, flags = 0): Syscall {
  return publishNum(ctx, key, DSF_TYPE_U32, value, flags);
}

/** `ds_publish_label` (RS only). */
export function dsPublishLabel(
  ctx: ProcessContext,
  label: string,
  endpoint: Endpoint,
  flags = 0,
): Syscall {
  return publishNum(ctx, label, DSF_TYPE_LABEL, endpoint, flags);
}

function* publishBlob(
  ctx: ProcessContext,
  key: string,
  type: DsType,
  addr: VirAddr,
  len: number,
  flags: number,
): Syscall {
  const g = withGrant(ctx, addr, len, CPF_READ);
  return yield* request(
    ctx,
    "DS_PUBLISH",
    key,
    function* (ep) {
      const gid = yield* g.make(ep);
      return gid < 0 ? gid : { flags: flags | type, val: gid, valLen: len };
    },
    () => g.done(),
  );
}

/** `ds_publish_mem`: `len` bytes at `addr`. */
export function dsPublishMem(
  ctx: ProcessContext,
  key: string,
  addr: VirAddr,
  len: number,
  flags = 0,
): Syscall {
  return publishBlob(ctx, key, DSF_TYPE_MEM, addr, len, flags);
}

/** `ds_publish_str`: the string and its NUL. */
export function* dsPublishStr(ctx: ProcessContext, key: string, value: string, flags = 0): Syscall {
  const bytes = encoder.encode(value + "\0");
  const va = strBuf(ctx, bytes.length);
  yield* store(ctx, va, bytes);
  return yield* publishBlob(ctx, key, DSF_TYPE_STR, va, bytes.length, flags);
}

/**
 * `ds_publish_map`: DS maps the page-aligned range read-only into its buffer, so it sees
 * every later write. The grant is left to DS (not revoked). EINVAL if not page-aligned.
 */
export function* dsPublishMap(
  ctx: ProcessContext,
  key: string,
  addr: VirAddr,
  len: number,
  flags = 0,
): Syscall {
  if (addr % PAGE !== 0 || len % PAGE !== 0 || len === 0) return EINVAL;
  let gid = -1;
  const status = yield* request(ctx, "DS_PUBLISH", key, function* (ep) {
    if (gid >= 0) yield* cpfRevoke(ctx, gid);
    gid = yield* cpfGrantDirect(ctx, ep, addr, len, CPF_READ | CPF_MAP);
    return gid < 0 ? cpfErrno(ctx) : { flags: flags | DSF_TYPE_MAP, val: gid, valLen: len };
  });
  if (status !== OK && gid >= 0) yield* cpfRevoke(ctx, gid);
  return status;
}

// --- retrieve --------------------------------------------------------------------------

/** `ds_retrieve_u32`. */
export function dsRetrieveU32(
  ctx: ProcessContext,
  key: string,
): Syscall<{ status: number; value: number }> {
  return numRetrieve(ctx, key, DSF_TYPE_U32);
}

/** `ds_retrieve_label_endpt`: the endpoint a label names. */
export function* dsRetrieveLabelEndpt(
  ctx: ProcessContext,
  label: string,
): Syscall<{ status: number; endpoint: Endpoint }> {
  const r = yield* numRetrieve(ctx, label, DSF_TYPE_LABEL);
  return { status: r.status, endpoint: (r.status === OK ? r.value | 0 : NONE) as Endpoint };
}

function* retrieveBlob(
  ctx: ProcessContext,
  key: string,
  flags: number,
  addr: VirAddr,
  len: number,
  nrSnapshot = 0,
): Syscall<{ status: number; len: number }> {
  const g = withGrant(ctx, addr, len, CPF_WRITE);
  const status = yield* request(
    ctx,
    "DS_RETRIEVE",
    key,
    function* (ep) {
      const gid = yield* g.make(ep);
      return gid < 0 ? gid : { flags, val: gid, valLen: len, nrSnapshot };
    },
    () => g.done(),
  );
  return { status, len: status === OK ? replyOf(ctx, "DS_RETRIEVE").valLen : 0 };
}

/** `ds_retrieve_mem`: at most `len` bytes into `addr`; the length copied. */
export function dsRetrieveMem(
  ctx: ProcessContext,
  key: string,
  addr: VirAddr,
  len: number,
): Syscall<{ status: number; len: number }> {
  return retrieveBlob(ctx, key, DSF_TYPE_MEM, addr, len);
}

/** `ds_retrieve_str`: at most `maxLen` bytes (NUL included) of the string. */
export function* dsRetrieveStr(
  ctx: ProcessContext,
  key: string,
  maxLen = 4096,
): Syscall<{ status: number; value: string }> {
  const va = strBuf(ctx, maxLen);
  const r = yield* retrieveBlob(ctx, key, DSF_TYPE_STR, va, maxLen);
  if (r.status !== OK) return { status: r.status, value: "" };
  const bytes = new Uint8Array(r.len);
  yield* load(ctx, va, bytes);
  return { status: OK, value: cString(bytes) };
}

/**
 * `ds_retrieve_map`: DSMF_COPY_MAPPED / DSMF_COPY_SNAPSHOT copy at most `len` bytes into
 * `addr`; DSMF_MAP_MAPPED maps DS's buffer read-only at `addr` (page-aligned; the length is
 * clamped to DS's and rounded down to pages). The length copied or mapped.
 */
export function* dsRetrieveMap(
  ctx: ProcessContext,
  key: string,
  addr: VirAddr,
  len: number,
  flags: number,
  nrSnapshot = 0,
): Syscall<{ status: number; len: number }> {
  if ((flags & DSMF_MAP_MAPPED) === 0) {
    return yield* retrieveBlob(ctx, key, flags | DSF_TYPE_MAP, addr, len, nrSnapshot);
  }
  if (addr % PAGE !== 0) return { status: EINVAL, len: 0 };
  const status = yield* request(ctx, "DS_RETRIEVE", key, {
    flags: flags | DSF_TYPE_MAP,
    val: 0,
    valLen: len,
    nrSnapshot,
  });
  if (status !== OK) return { status, len: 0 };
  const reply = replyOf(ctx, "DS_RETRIEVE");
  const n = Math.floor(Math.min(len, reply.valLen) / PAGE) * PAGE;
  if (n === 0) return { status: EINVAL, len: 0 };
  const st = yield* sysSafemap(ctx, dsLib(ctx).ep, reply.val, 0, addr, n, false);
  return { status: st, len: st === OK ? n : 0 };
}

/** `ds_retrieve_label_name`: the label naming `endpoint`. */
export function* dsRetrieveLabelName(
  ctx: ProcessContext,
  endpoint: Endpoint,
): Syscall<{ status: number; name: string }> {
  const status = yield* request(ctx, "DS_RETRIEVE_LABEL", null, { val: endpoint });
  if (status !== OK) return { status, name: "" };
  return { status: OK, name: yield* readKeyBuf(ctx) };
}

function* readKeyBuf(ctx: ProcessContext): Syscall<string> {
  const s = dsLib(ctx);
  s.lastKey = null;
  yield* load(ctx, s.keyVa, s.keyBytes);
  return cString(s.keyBytes);
}

// --- delete, subscribe, check, snapshot -----------------------------------------------

/** `ds_delete_*`: delete (key, type); only the owner may. */
export function* dsDelete(ctx: ProcessContext, key: string, type: DsType): Syscall {
  return yield* request(ctx, "DS_DELETE", key, { flags: type });
}
export const dsDeleteU32 = (ctx: ProcessContext, key: string): Syscall =>
  dsDelete(ctx, key, DSF_TYPE_U32);
export const dsDeleteStr = (ctx: ProcessContext, key: string): Syscall =>
  dsDelete(ctx, key, DSF_TYPE_STR);
export const dsDeleteMem = (ctx: ProcessContext, key: string): Syscall =>
  dsDelete(ctx, key, DSF_TYPE_MEM);
export const dsDeleteMap = (ctx: ProcessContext, key: string): Syscall =>
  dsDelete(ctx, key, DSF_TYPE_MAP);
export const dsDeleteLabel = (ctx: ProcessContext, key: string): Syscall =>
  dsDelete(ctx, key, DSF_TYPE_LABEL);

/** `ds_subscribe`: keys matching `pattern` in full (RE2 syntax); type filter in `flags`. */
export function* dsSubscribe(ctx: ProcessContext, pattern: string, flags = 0): Syscall {
  return yield* request(ctx, "DS_SUBSCRIBE", pattern, { flags });
}

/** `ds_check`: the next changed entry (ENOENT when none). */
export function* dsCheck(
  ctx: ProcessContext,
): Syscall<{ status: number; key: string; type: number; owner: Endpoint }> {
  const status = yield* request(ctx, "DS_CHECK", null, {});
  if (status !== OK) return { status, key: "", type: 0, owner: NONE };
  const reply = replyOf(ctx, "DS_CHECK");
  return { status: OK, key: yield* readKeyBuf(ctx), type: reply.flags, owner: reply.owner };
}

/** `ds_snapshot_map`: freeze the MAP entry's contents; the snapshot's index. */
export function* dsSnapshotMap(
  ctx: ProcessContext,
  key: string,
): Syscall<{ status: number; index: number }> {
  const status = yield* request(ctx, "DS_SNAPSHOT", key, {});
  return { status, index: replyOf(ctx, "DS_SNAPSHOT").nrSnapshot };
}
