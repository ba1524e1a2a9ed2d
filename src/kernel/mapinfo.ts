/**
 * The kernel's records of live safemap mappings (MINIX `map_info`, MINIX-SPEC §4.6): a global
 * table of MAX_MAP_INFO entries, full → EBUSY. Each record says whose memory is mapped (the
 * final granter, `grantor`, at `addressD`) into which process (`grantee`, at `address`), and
 * through which grant (the granter the grantee named and the id it presented).
 *
 * A mapping call suspends its caller while VM works (vmSuspendMap) and is re-executed when VM
 * has answered; between the two passes the caller's `pending` entry says what it was waiting
 * for, and the record concerned is `busy` (other calls leave it alone). A call that completes
 * drops whatever is still pending ({@link dropPending}, from the dispatcher's finish).
 *
 * Safeunmap of one record ({@link safeunmapPass}): the grant is verified again (CPF_MAP
 * only) — on failure the error is returned and the record stays, as in MINIX — then VM gives
 * the grantee a private copy (VMPTYPE_SUNMAP). Saferevmap and safeunmap handle every matching
 * record, one VM request per pass (recommended fix, §11): each pass finishes the previous
 * record, then starts the next, until none is left (OK) or one fails (its error).
 *
 * Deviations: the re-verification uses the granter the grantee named (not the final granter
 * with the grantee's id, which fails for indirect chains in MINIX); a process that dies takes
 * its records with it ({@link clearMappings}), whichever side it was on.
 */
import type { Endpoint } from "../include/endpoint.ts";
import { EBUSY, ENOMEM, OK, VMSUSPEND } from "../include/errno.ts";
import { CPF_MAP } from "../include/grant.ts";
import { VMPTYPE_CHECK, VMPTYPE_SUNMAP } from "../include/kcall.ts";
import { verifyGrant, type GrantTarget } from "./grant.ts";
import type { Kernel } from "./kernel.ts";
import { panic } from "./panic.ts";
import { MF_KCALL_RESUME, RTS_VMREQTARGET, RTS_VMREQUEST, type Proc } from "./proc.ts";
import { releaseVmTarget, vmSuspendMap } from "./vmrequest.ts";

export const MAX_MAP_INFO = 20;

export interface MapRecord {
  /** Whose memory is mapped (the final granter) and where in its space. */
  readonly grantor: Endpoint;
  readonly addressD: number;
  /** The granter the grantee named, the grant id and offset it presented. */
  readonly named: Endpoint;
  readonly gid: number;
  readonly offset: number;
  /** The mapping process and where the pages are in its space. */
  readonly grantee: Endpoint;
  readonly address: number;
  readonly bytes: number;
  /** False until VM has carried out the map request. */
  mapped: boolean;
  /** The process whose VM request for this record is under way, or null. */
  busy: Proc | null;
  /** Revoked (saferevmap) while VM was still mapping it: undone when the map completes. */
  revoked: boolean;
}

/** What a suspended caller waits for: a map, an unmap of `record`, or a COW share. */
export interface Pending {
  /** "undo": a completed map being unmapped again; the call then returns `status`. */
  readonly kind: "smap" | "sunmap" | "undo" | "cow";
  readonly record: MapRecord | null;
  readonly status?: number;
}

export class MapInfo {
  readonly #records: (MapRecord | null)[] = new Array<MapRecord | null>(MAX_MAP_INFO).fill(null);
  readonly pending = new Map<Proc, Pending>();

  /** Stores a record; EBUSY when all MAX_MAP_INFO are in use. */
  add(rec: MapRecord): number {
    const i = this.#records.indexOf(null);
    if (i < 0) return EBUSY;
    this.#records[i] = rec;
    return OK;
  }

  remove(rec: MapRecord): void {
    const i = this.#records.indexOf(rec);
    if (i >= 0) this.#records[i] = null;
  }

  has(rec: MapRecord): boolean {
    return this.#records.includes(rec);
  }

  /** The records in use, in table order. */
  records(): MapRecord[] {
    return this.#records.filter((r): r is MapRecord => r !== null);
  }
}

/** The caller's pending entry of kind `kind`, removed; undefined if it has none. */
export function takePending(k: Kernel, caller: Proc, kind: Pending["kind"]): Pending | undefined {
  // Every safecopy asks (cowResumed): the usual answer is "nothing pending for anyone".
  if (k.mapinfo.pending.size === 0) return undefined;
  const p = k.mapinfo.pending.get(caller);
  if (p === undefined || p.kind !== kind) return undefined;
  k.mapinfo.pending.delete(caller);
  return p;
}

/** Marks `caller` as waiting for VM about `record` (null for a COW share). */
export function setPending(k: Kernel, caller: Proc, p: Pending): void {
  if (k.mapinfo.pending.has(caller)) panic(`mapinfo: ${caller.name} already waits for VM`);
  k.mapinfo.pending.set(caller, p);
  if (p.record !== null) p.record.busy = caller;
}

/** A call of `caller` completed: nothing of it is pending any more. */
export function dropPending(k: Kernel, caller: Proc): void {
  if (k.mapinfo.pending.size === 0) return;
  const p = k.mapinfo.pending.get(caller);
  if (p === undefined) return;
  k.mapinfo.pending.delete(caller);
  const rec = p.record;
  if (rec === null) return;
  if (rec.busy === caller) rec.busy = null;
  if (!rec.mapped) k.mapinfo.remove(rec);
}

/**
 * One pass of saferevmap / safeunmap for `caller` over the records `match` selects: finish
 * the unmap this caller waited for, then start the next one. OK when none is left, VMSUSPEND
 * while VM works, or the first error (re-verification; ENOMEM from VM keeps the record).
 */
export function safeunmapPass(k: Kernel, caller: Proc, match: (r: MapRecord) => boolean): number {
  const info = k.mapinfo;
  const done = takePending(k, caller, "sunmap");
  if (done?.record != null && info.has(done.record)) {
    const rec = done.record;
    rec.busy = null;
    const res = caller.vmreq.result;
    if (res === ENOMEM) return ENOMEM;
    // OK, or VM no longer knows the grantee: either way nothing is shared any more.
    info.remove(rec);
  }
  for (const rec of info.records()) {
    if (!match(rec)) continue;
    // Still being mapped: the map's completion undoes it (saferevmap only asks once).
    if (!rec.mapped && rec.busy !== null && rec.busy !== caller) rec.revoked = true;
    if (!rec.mapped || rec.busy !== null) continue;
    const grantor = k.isokendpt(rec.grantor);
    const grantee = k.isokendpt(rec.grantee);
    if (grantor === undefined || grantee === undefined) {
      info.remove(rec);
      continue;
    }
    const out: GrantTarget = { proc: grantee, addr: 0 };
    const r = verifyGrant(k, rec.named, rec.grantee, rec.gid, rec.bytes, CPF_MAP, rec.offset, out);
    if (r !== OK) return r;
    if (k.vmProc() === undefined) {
      info.remove(rec);
      continue;
    }
    vmSuspendMap(
      k,
      caller,
      VMPTYPE_SUNMAP,
      grantee,
      rec.address,
      grantor,
      rec.addressD,
      rec.bytes,
      0,
    );
    setPending(k, caller, { kind: "sunmap", record: rec });
    return VMSUSPEND;
  }
  return OK;
}

/**
 * `p` is dying: its records go (grantor or grantee side; VM frees or keeps the frames by
 * their counts), and so does what it waited for; a destination held for its mapping
 * request may run again.
 */
export function clearMappings(k: Kernel, p: Proc): void {
  const info = k.mapinfo;
  for (const rec of info.records()) {
    // A record is only ever busy for its grantor or its grantee: it goes with either.
    if (rec.grantor === p.endpoint || rec.grantee === p.endpoint) info.remove(rec);
  }
  info.pending.delete(p);
  if ((p.rtsFlags & RTS_VMREQUEST) !== 0 && p.vmreq.reqType !== VMPTYPE_CHECK) {
    releaseVmTarget(k, p.vmreq.target, p);
  }
}

/**
 * kernel.check(): records name live processes; a busy record is what its process waits for;
 * pending entries belong to suspended calls; RTS_VMREQTARGET only while a mapping request
 * into that process is outstanding.
 */
export function checkMapInfo(k: Kernel): void {
  const info = k.mapinfo;
  for (const rec of info.records()) {
    const what = `mapping ${rec.grantor}@0x${rec.addressD.toString(16)} → ${rec.grantee}`;
    if (k.isokendpt(rec.grantor) === undefined) panic(`check: ${what}: grantor is dead`);
    if (k.isokendpt(rec.grantee) === undefined) panic(`check: ${what}: grantee is dead`);
    if (rec.busy !== null && info.pending.get(rec.busy)?.record !== rec) {
      panic(`check: ${what} is busy for ${rec.busy.name}, which does not wait for it`);
    }
  }
  for (const p of k.procs) {
    if (p.isFree || (p.rtsFlags & RTS_VMREQTARGET) === 0) continue;
    const held = k.procs.some(
      (q) =>
        !q.isFree &&
        (q.rtsFlags & RTS_VMREQUEST) !== 0 &&
        q.vmreq.reqType !== VMPTYPE_CHECK &&
        q.vmreq.target === p.endpoint,
    );
    if (!held) panic(`check: ${p.name} waits in RTS_VMREQTARGET for no mapping request`);
  }
  for (const [p, pend] of info.pending) {
    if (p.isFree) panic(`check: free slot ${p.nr} waits for a mapping request`);
    if ((p.rtsFlags & RTS_VMREQUEST) === 0 && (p.miscFlags & MF_KCALL_RESUME) === 0) {
      panic(`check: ${p.name} has a pending ${pend.kind} request but is not suspended`);
    }
  }
}
