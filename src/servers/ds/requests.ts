/**
 * DS's requests (MINIX servers/ds/store.c `do_*`, MINIX-SPEC §5.4–5.9), one handler each; the
 * table is checked complete against DS_CALLS. The server reads the key through the caller's
 * key grant before the handler runs (EINVAL for a bad length, the copy's error for a bad
 * grant, and the handler is not called); every handler finds the caller's name (the label
 * naming its endpoint), checks everything in the store before anything changes, and answers
 * with a status and the reply fields. Subscribers to wake and blobs to free are handled by
 * the main loop after the handler.
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, ENOMEM, OK, ESRCH } from "../../include/errno.ts";
import {
  DSF_MASK_TYPE,
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  DSMF_COPY_MAPPED,
  DSMF_COPY_SNAPSHOT,
  DSMF_MAP_MAPPED,
  isDsType,
  DS_CALLS,
  type DsCallName,
  type DsReply,
  type DsReq,
  type DsType,
} from "../../include/ds.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../../include/grant.ts";
import { M_TYPE, type Message } from "../../include/message.ts";
import { virAddr } from "../../include/types.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { cpfGrantDirect, cpfErrno } from "../../lib/libsys/safecopies.ts";
import { sysSafecopyFrom, sysSafecopyTo } from "../../lib/libsys/sys_safecopy.ts";
import { sysSafemap } from "../../lib/libsys/sys_safemap.ts";
import { store } from "../../lib/mem.ts";
import { PAGE, type Blob } from "./blobs.ts";
import { blobBytes, record, recordNum } from "./persist.ts";
import type { DsServer } from "./server.ts";
import type { DsEntry } from "./store.ts";

export interface DsAnswer<K extends DsCallName> {
  readonly status: number;
  readonly reply?: DsReply<K>;
}

/**
 * A handler; `key` is the key read through the caller's key grant ("" when it reads none).
 * A request that needs no trap is answered at once; one that does returns a generator.
 */
type DsHandler<K extends DsCallName> = (
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<K>,
  key: string,
) => DsAnswer<K> | Syscall<DsAnswer<K>>;

const ZERO = new Uint8Array(1);

/** Answers that are only a status, made once per status (OK, the usual one, without a lookup). */
const statusOnly = new Map<number, DsAnswer<never>>();
const ANSWER_OK: DsAnswer<never> = Object.freeze({ status: OK });

/** The answer that is only `status` (answers are read at once, never kept). */
function statusAnswer(status: number): DsAnswer<never> {
  if (status === OK) return ANSWER_OK;
  let a = statusOnly.get(status);
  if (a === undefined) statusOnly.set(status, (a = Object.freeze({ status })));
  return a;
}

/**
 * The answer of a U32/LABEL retrieve, reused: the loop writes it into the reply (with
 * `writeNumAnswer`) before it serves the next request.
 */
export const numAnswer = { status: OK, reply: { val: 0, valLen: 0 } };

const NUM_REPLY = DS_CALLS.DS_RETRIEVE.reply.offsets;

/**
 * Writes `numAnswer` as the reply in `m`, as `m.set` would, word by word: on the most
 * common request the generic layout writer costs more than the rest of DS's work.
 */
export function writeNumAnswer(m: Message): void {
  const w = m.words;
  w[M_TYPE >>> 2] = OK;
  m.clearPayload();
  w[NUM_REPLY.val >>> 2] = numAnswer.reply.val;
  w[NUM_REPLY.valLen >>> 2] = numAnswer.reply.valLen;
}

/** The one type in `flags`, or undefined. */
function typeOf(flags: number): DsType | undefined {
  const t = flags & DSF_MASK_TYPE;
  return isDsType(t) ? t : undefined;
}

function doPublish(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_PUBLISH">,
  key: string,
): DsAnswer<"DS_PUBLISH"> | Syscall<DsAnswer<"DS_PUBLISH">> {
  const type = typeOf(req.flags);
  if (type === undefined) return statusAnswer(EINVAL);
  const name = ds.store.nameOf(caller);
  if (type !== DSF_TYPE_U32 && type !== DSF_TYPE_LABEL) {
    return publishBlob(ds, caller, req, key, type, name);
  }
  const r = ds.store.publish(name, key, type, req.flags, req.val, ds.wake);
  if (r === OK) {
    recordNum(ds, name!, key, type, req.flags, req.val);
  }
  return statusAnswer(r);
}

/** DS_PUBLISH of a STR, MEM or MAP value. */
function* publishBlob(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_PUBLISH">,
  key: string,
  type: DsType,
  name: string | undefined,
): Syscall<DsAnswer<"DS_PUBLISH">> {
  // Check with a stand-in of the right length, then copy or map, then store.
  const len = req.valLen;
  if (type === DSF_TYPE_MAP && (len <= 0 || len % PAGE !== 0 || len > 2 ** 30))
    return statusAnswer(EINVAL);
  if (type === DSF_TYPE_STR && len < 1) return statusAnswer(EINVAL);
  const probe = { addr: virAddr(0), length: len, cap: 0 };
  let r = ds.store.checkPublish(name, key, type, req.flags, probe);
  if (r !== OK) return statusAnswer(r);
  const blob = yield* ds.heap.alloc(len, type !== DSF_TYPE_MAP);
  if (typeof blob === "number") return statusAnswer(ENOMEM);
  let value: Blob = blob;
  if (type === DSF_TYPE_MAP) {
    r = yield* sysSafemap(ds.ctx, caller, req.val, 0, blob.addr, len, false);
    if (r !== OK) {
      yield* ds.heap.free(blob, false);
      return statusAnswer(r);
    }
    value = { ...blob, map: { grantor: caller, gid: req.val }, clientGrants: new Map() };
  } else if (len > 0) {
    r = yield* sysSafecopyFrom(ds.ctx, caller, req.val, 0, blob.addr, len);
    if (r === OK && type === DSF_TYPE_STR) yield* store(ds.ctx, virAddr(blob.addr + len - 1), ZERO);
    if (r !== OK) {
      yield* ds.heap.free(blob);
      return statusAnswer(r);
    }
  }
  r = ds.store.publish(name, key, type, req.flags, value, ds.wake);
  if (r !== OK) {
    if (type === DSF_TYPE_MAP) yield* ds.unmap(value);
    else yield* ds.heap.free(blob);
    return statusAnswer(r);
  }
  const op = { op: "publish", caller: name!, key, type, flags: req.flags, num: 0 } as const;
  if (type === DSF_TYPE_MAP) {
    record(ds, { ...op, map: { grantor: caller, gid: req.val, len } });
  } else {
    record(ds, { ...op, data: yield* blobBytes(ds, value) });
  }
  return statusAnswer(OK);
}

function doRetrieve(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_RETRIEVE">,
  key: string,
): DsAnswer<"DS_RETRIEVE"> | Syscall<DsAnswer<"DS_RETRIEVE">> {
  const type = typeOf(req.flags);
  if (type === undefined) return statusAnswer(EINVAL);
  const e = ds.store.retrieve(ds.store.nameOf(caller), key, type);
  if (typeof e === "number") return statusAnswer(e);
  if (type !== DSF_TYPE_U32 && type !== DSF_TYPE_LABEL) return retrieveBlob(ds, caller, req, e);
  numAnswer.reply.val = e.num;
  return numAnswer;
}

/** DS_RETRIEVE of a STR, MEM or MAP value (copied, or a MAP buffer granted for mapping). */
function* retrieveBlob(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_RETRIEVE">,
  e: DsEntry<Blob>,
): Syscall<DsAnswer<"DS_RETRIEVE">> {
  const blob = e.data!;
  let from = blob;
  if (e.type === DSF_TYPE_MAP) {
    if ((req.flags & DSMF_MAP_MAPPED) !== 0) {
      const grants = blob.clientGrants!;
      let gid = grants.get(caller);
      if (gid === undefined) {
        gid = yield* cpfGrantDirect(
          ds.ctx,
          caller,
          blob.addr,
          blob.length,
          CPF_READ | CPF_WRITE | CPF_MAP,
        );
        if (gid < 0) return statusAnswer(cpfErrno(ds.ctx));
        grants.set(caller, gid);
      }
      return { status: OK, reply: { val: gid, valLen: blob.length } };
    }
    if ((req.flags & DSMF_COPY_SNAPSHOT) !== 0) {
      const snap = ds.store.snapshotAt(e, req.nrSnapshot);
      if (snap === undefined) return statusAnswer(EINVAL);
      from = snap;
    } else if ((req.flags & DSMF_COPY_MAPPED) === 0) {
      return statusAnswer(EINVAL);
    }
  }
  const n = Math.min(req.valLen, from.length);
  if (n > 0) {
    const r = yield* sysSafecopyTo(ds.ctx, caller, req.val, 0, from.addr, n);
    if (r !== OK) return statusAnswer(r);
  }
  return { status: OK, reply: { val: 0, valLen: n } };
}

function* doRetrieveLabel(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_RETRIEVE_LABEL">,
): Syscall<DsAnswer<"DS_RETRIEVE_LABEL">> {
  const label = ds.store.nameOf(req.val);
  if (label === undefined) return statusAnswer(ESRCH);
  return statusAnswer(yield* ds.writeKey(caller, req.keyGrant, req.keyLen, label));
}

function doDelete(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_DELETE">,
  key: string,
): DsAnswer<"DS_DELETE"> {
  const type = typeOf(req.flags);
  if (type === undefined) return statusAnswer(EINVAL);
  const name = ds.store.nameOf(caller);
  const r = ds.store.delete(name, key, type, ds.wake);
  if (r === OK) record(ds, { op: "delete", caller: name!, key, type });
  return statusAnswer(r);
}

function doSubscribe(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_SUBSCRIBE">,
  pattern: string,
): DsAnswer<"DS_SUBSCRIBE"> {
  const name = ds.store.nameOf(caller);
  const r = ds.store.subscribe(name, pattern, req.flags, ds.wake);
  if (r === OK) record(ds, { op: "subscribe", caller: name!, pattern, flags: req.flags });
  return statusAnswer(r);
}

function* doCheck(
  ds: DsServer,
  caller: Endpoint,
  req: DsReq<"DS_CHECK">,
): Syscall<DsAnswer<"DS_CHECK">> {
  const name = ds.store.nameOf(caller);
  const next = ds.store.check(name, false);
  if (typeof next === "number") return statusAnswer(next);
  const r = yield* ds.writeKey(caller, req.keyGrant, req.keyLen, next.key);
  if (r !== OK) return statusAnswer(r);
  ds.store.check(name, true);
  record(ds, { op: "check", caller: name! });
  return {
    status: OK,
    reply: { flags: next.type, owner: ds.store.endpointOf(next.owner) ?? NONE },
  };
}

function* doSnapshot(
  ds: DsServer,
  caller: Endpoint,
  _req: DsReq<"DS_SNAPSHOT">,
  key: string,
): Syscall<DsAnswer<"DS_SNAPSHOT">> {
  const next = ds.store.snapshotSlot(ds.store.nameOf(caller), key);
  if (typeof next === "number") return statusAnswer(next);
  const src = next.entry.data!;
  const snap = next.reuse ?? (yield* ds.heap.alloc(src.length));
  if (typeof snap === "number") return statusAnswer(ENOMEM);
  yield* ds.copyLocal(src.addr, snap.addr, src.length);
  ds.store.commitSnapshot(next.entry, snap);
  const data = yield* blobBytes(ds, snap);
  record(ds, { op: "snapshot", key, index: next.entry.sindex, data });
  return { status: OK, reply: { nrSnapshot: next.entry.sindex } };
}

/**
 * The handlers; `key`: the request carries a key to read (the server reads it first and
 * answers the copy's error, or EINVAL for a bad length, without calling the handler).
 */
export const dsCalls = {
  DS_PUBLISH: { key: true, handle: doPublish }, // store a value
  DS_RETRIEVE: { key: true, handle: doRetrieve }, // fetch a value
  DS_SUBSCRIBE: { key: true, handle: doSubscribe }, // be told about changes to matching keys
  DS_CHECK: { key: false, handle: doCheck }, // the next change
  DS_DELETE: { key: true, handle: doDelete }, // remove an entry (its owner only)
  DS_SNAPSHOT: { key: true, handle: doSnapshot }, // freeze a MAP entry's contents
  DS_RETRIEVE_LABEL: { key: false, handle: doRetrieveLabel }, // endpoint → label
} satisfies { [K in DsCallName]: { readonly key: boolean; readonly handle: DsHandler<K> } };
