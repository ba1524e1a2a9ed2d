/**
 * DS's tables: typed entries identified by (key, type), owned by the publisher's label, and
 * one subscription per owner label with a pattern, a type filter and the set of entries
 * changed since its owner last checked. Pure state: the server does the IPC and grants and
 * passes callers in by name (the key of the LABEL entry whose value is their endpoint).
 * Every operation checks everything before it changes anything. MINIX: servers/ds/store.c
 * (MINIX-SPEC §5.2–5.9).
 */
import { RE2JS } from "re2js";
import type { Endpoint } from "../../include/endpoint.ts";
import {
  DSF_IN_USE,
  DSF_INITIAL,
  DSF_MASK_INTERNAL,
  DSF_MASK_TYPE,
  DSF_OVERWRITE,
  DSF_PRIV_OVERWRITE,
  DSF_PRIV_RETRIEVE,
  DSF_PRIV_SNAPSHOT,
  DSF_PRIV_SUBSCRIBE,
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_U32,
  DS_TYPES,
  type DsType,
} from "../../include/ds.ts";
import { E2BIG, EEXIST, EINVAL, ENOENT, ENOSPC, EPERM, ESRCH, OK } from "../../include/errno.ts";

export interface DsLimits {
  /** Longest key in bytes, including the NUL (DS_MAX_KEYLEN). */
  readonly maxKeyLen: number;
  readonly maxEntries: number;
  readonly maxSubs: number;
  /** Largest STR/MEM value in bytes. */
  readonly maxBlob: number;
  /** Snapshots kept per MAP entry (NR_DS_SNAPSHOT). */
  readonly nrSnapshots: number;
}

/** The label that owns boot-service labels and is the only one that may publish labels. */
export const RS_LABEL = "rs";

/**
 * A blob: the bytes of a STR, MEM or MAP value or of a snapshot. The store only needs its
 * length; the server's blobs are buffers in DS's own memory (an address and a length).
 */
export interface DsBlob {
  readonly length: number;
}

/** A value: a number for U32 and LABEL, a blob for STR, MEM and MAP. */
export type DsValue<B extends DsBlob = Uint8Array> = number | B;

/** A blob the store no longer references (replaced, deleted, or a dropped snapshot). */
export interface DsReleased<B extends DsBlob> {
  /** The type of the entry it belonged to (a snapshot counts as MEM). */
  readonly type: DsType;
  readonly blob: B;
}

export interface DsEntry<B extends DsBlob = Uint8Array> {
  readonly index: number;
  readonly key: string;
  readonly type: DsType;
  /** DSF_PRIV_* bits. */
  readonly flags: number;
  readonly owner: string;
  /** U32 and LABEL values. */
  readonly num: number;
  /** STR, MEM and MAP contents (undefined for U32 and LABEL). */
  readonly data: B | undefined;
  /** MAP: the snapshot ring (slot = index mod nrSnapshots) and the last index, -1 at first. */
  readonly snapshots: readonly (B | undefined)[];
  readonly sindex: number;
}

interface Entry<B extends DsBlob> {
  index: number;
  key: string;
  type: DsType;
  flags: number;
  owner: string;
  num: number;
  data: B | undefined;
  snapshots: (B | undefined)[];
  sindex: number;
}

interface Subscription {
  readonly owner: string;
  readonly source: string;
  readonly pattern: RE2JS;
  readonly typeMask: number;
  /** Indices of entries changed since the owner's last DS_CHECK. */
  readonly changed: Set<number>;
}

/** A subscription as DS journals it: owner, pattern, type filter, pending entries in order. */
export interface DsSubscriptionInfo {
  readonly owner: string;
  readonly pattern: string;
  readonly typeMask: number;
  readonly pending: readonly { readonly key: string; readonly type: DsType }[];
}

/** What DS_CHECK reports: the next changed entry. */
export interface DsChange {
  readonly key: string;
  readonly type: DsType;
  readonly owner: string;
}

export class DsStore<B extends DsBlob = Uint8Array> {
  readonly limits: DsLimits;
  /**
   * Blobs the store let go of since the owner last emptied this list: the server frees their
   * memory (and unmaps a MAP entry's pages).
   */
  readonly released: DsReleased<B>[] = [];
  readonly #entries: (Entry<B> | undefined)[] = [];
  readonly #free: number[] = [];
  /** Per type, indexed by the type's bit (`type >>> 4`): key → entry. */
  readonly #byType: Map<string, Entry<B>>[] = [];
  /** Endpoint → LABEL entry. */
  readonly #labelByEp = new Map<number, Entry<B>>();
  /** The last `nameOf` lookup (callers repeat); NaN when `#labelByEp` changed since. */
  #nameEp = NaN;
  #nameEntry: Entry<B> | undefined = undefined;
  readonly #subs = new Map<string, Subscription>();
  #count = 0;

  constructor(limits: DsLimits) {
    this.limits = limits;
    for (const t of DS_TYPES) this.#byType[t >>> 4] = new Map();
  }

  get size(): number {
    return this.#count;
  }

  get subscriptions(): number {
    return this.#subs.size;
  }

  /** A key is 1..maxKeyLen-1 characters (the NUL takes the last byte). */
  validKey(key: string): boolean {
    return key.length >= 1 && key.length < this.limits.maxKeyLen;
  }

  /** The caller's name: the label whose value is `ep`, or undefined. */
  nameOf(ep: Endpoint): string | undefined {
    if (ep !== this.#nameEp) {
      this.#nameEntry = this.#labelByEp.get(ep);
      this.#nameEp = ep;
    }
    return this.#nameEntry?.key;
  }

  /** The endpoint a label names, or undefined. */
  endpointOf(label: string): Endpoint | undefined {
    const e = this.#keys(DSF_TYPE_LABEL).get(label);
    return e === undefined ? undefined : (e.num as Endpoint);
  }

  get(key: string, type: DsType): DsEntry<B> | undefined {
    return this.#keys(type).get(key);
  }

  /** Every entry in index order (for inspection). */
  *entries(): IterableIterator<DsEntry<B>> {
    for (const e of this.#entries) if (e !== undefined) yield e;
  }

  /** Every check of `publish` (below), changing nothing: OK or the error it would return. */
  checkPublish(
    caller: string | undefined,
    key: string,
    type: DsType,
    flags: number,
    value: DsValue<B>,
  ): number {
    if (caller === undefined) return EPERM;
    if (type === DSF_TYPE_LABEL && caller !== RS_LABEL) return EPERM;
    if (!this.validKey(key)) return EINVAL;
    const overwrite = (flags & DSF_OVERWRITE) !== 0;
    if (type === DSF_TYPE_MAP && overwrite) return EINVAL;
    const numeric = typeof value === "number";
    if (numeric !== (type === DSF_TYPE_U32 || type === DSF_TYPE_LABEL)) return EINVAL;
    if (!numeric && type !== DSF_TYPE_MAP && value.length > this.limits.maxBlob) return E2BIG;
    // A label is found by its key, else by its value (labels are unique both ways).
    let old = this.#keys(type).get(key);
    const sameEp = type === DSF_TYPE_LABEL ? this.#labelByEp.get(value as number) : undefined;
    if (old === undefined) old = sameEp;
    else if (sameEp !== undefined && sameEp !== old) return EEXIST;
    if (old !== undefined && !overwrite) return EEXIST;
    if (old !== undefined && !this.#auth(old, caller, DSF_PRIV_OVERWRITE)) return EPERM;
    if (old === undefined && this.#count >= this.limits.maxEntries) return ENOSPC;
    return OK;
  }

  /**
   * DS_PUBLISH (§5.4): store `value` under (key, type) for `caller`. Returns OK or EPERM (no
   * name; a label from anyone but RS; overwrite not allowed), EINVAL (bad key or value; MAP
   * with DSF_OVERWRITE), EEXIST (exists without DSF_OVERWRITE; a label whose endpoint another
   * label has), ENOSPC (table full), E2BIG (value too large). A label overwritten through its
   * endpoint is renamed. `notify` receives the labels of subscribers to wake.
   */
  publish(
    caller: string | undefined,
    key: string,
    type: DsType,
    flags: number,
    value: DsValue<B>,
    notify: Set<string>,
  ): number {
    const r = this.checkPublish(caller, key, type, flags, value);
    if (r !== OK) return r;
    const numeric = typeof value === "number";
    let old = this.#keys(type).get(key);
    if (old === undefined && type === DSF_TYPE_LABEL) old = this.#labelByEp.get(value as number);
    const e = old ?? this.#alloc(key, type);
    if (e.key !== key) this.#rekey(e, key, notify);
    if (type === DSF_TYPE_LABEL) {
      this.#labelByEp.delete(e.num);
      this.#labelByEp.set(value as number, e);
      this.#nameEp = NaN;
    }
    e.flags = flags & DSF_MASK_INTERNAL & ~DSF_MASK_TYPE & ~DSF_IN_USE;
    e.owner = type === DSF_TYPE_LABEL ? RS_LABEL : (caller ?? RS_LABEL);
    if (numeric) e.num = value >>> 0;
    else {
      if (e.data !== undefined) this.released.push({ type: e.type, blob: e.data });
      e.data = value;
    }
    this.#changed(e, true, notify);
    return OK;
  }

  /** DS_RETRIEVE (§5.5): the entry, or ESRCH (missing) / EPERM (private to its owner). */
  retrieve(caller: string | undefined, key: string, type: DsType): DsEntry<B> | number {
    if (!this.validKey(key)) return EINVAL;
    const e = this.#keys(type).get(key);
    if (e === undefined) return ESRCH;
    if (!this.#auth(e, caller, DSF_PRIV_RETRIEVE)) return EPERM;
    return e;
  }

  /**
   * DS_DELETE (§5.6): only the owner deletes (EPERM); missing → ESRCH. Deleting a label also
   * deletes every entry and the subscription its name owns. Subscribers of each deleted
   * entry are woken and lose the entry's pending change.
   */
  delete(caller: string | undefined, key: string, type: DsType, notify: Set<string>): number {
    if (!this.validKey(key)) return EINVAL;
    const e = this.#keys(type).get(key);
    if (e === undefined) return ESRCH;
    if (caller === undefined || caller !== e.owner) return EPERM;
    this.#remove(e, notify);
    if (type === DSF_TYPE_LABEL) this.dropOwner(key, notify);
    return OK;
  }

  /** Deletes every entry and the subscription owned by `owner` (its label went away). */
  dropOwner(owner: string, notify: Set<string>): void {
    this.#subs.delete(owner);
    notify.delete(owner);
    for (const e of this.#entries)
      if (e !== undefined && e.owner === owner) this.#remove(e, notify);
  }

  /**
   * DS_SUBSCRIBE (§5.7): `pattern` must match whole keys (an RE2 regular expression, linear
   * time). Returns ESRCH (no name), EEXIST (already subscribed without DSF_OVERWRITE),
   * ENOSPC (table full), EINVAL (pattern does not compile or is too long).
   */
  subscribe(
    caller: string | undefined,
    pattern: string,
    flags: number,
    notify: Set<string>,
  ): number {
    if (caller === undefined) return ESRCH;
    if (!this.validKey(pattern)) return EINVAL;
    const existing = this.#subs.get(caller);
    if (existing !== undefined && (flags & DSF_OVERWRITE) === 0) return EEXIST;
    if (existing === undefined && this.#subs.size >= this.limits.maxSubs) return ENOSPC;
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern);
    } catch {
      return EINVAL;
    }
    const sub: Subscription = {
      owner: caller,
      source: pattern,
      pattern: re,
      typeMask: flags & DSF_MASK_TYPE,
      changed: new Set(),
    };
    this.#subs.set(caller, sub);
    if ((flags & DSF_INITIAL) !== 0) {
      for (const e of this.#entries) {
        if (e !== undefined && this.#matches(sub, e)) sub.changed.add(e.index);
      }
      if (sub.changed.size > 0) notify.add(caller);
    }
    return OK;
  }

  /**
   * DS_CHECK (§5.9): the lowest-numbered entry changed since the last check, which is then
   * no longer pending (unless `take` is false: a peek). ESRCH without a name or a
   * subscription, ENOENT when nothing changed.
   */
  check(caller: string | undefined, take = true): DsChange | number {
    if (caller === undefined) return ESRCH;
    const sub = this.#subs.get(caller);
    if (sub === undefined) return ESRCH;
    let lowest = -1;
    for (const i of sub.changed) if (lowest < 0 || i < lowest) lowest = i;
    if (lowest < 0) return ENOENT;
    if (take) sub.changed.delete(lowest);
    const e = this.#entries[lowest]!;
    return { key: e.key, type: e.type, owner: e.owner };
  }

  /**
   * DS_SNAPSHOT (§5.9): keeps `contents` as the MAP entry's next snapshot in a ring of
   * `nrSnapshots` slots and returns its index. ESRCH (no such MAP entry), EPERM.
   */
  snapshot(caller: string | undefined, key: string, contents: B): number {
    const next = this.snapshotSlot(caller, key);
    if (typeof next === "number") return next;
    if (next.reuse !== undefined) this.released.push({ type: DSF_TYPE_MEM, blob: next.reuse });
    this.commitSnapshot(next.entry, contents);
    return next.entry.sindex;
  }

  /**
   * The first half of DS_SNAPSHOT, changing nothing: the MAP entry (ESRCH, EPERM) and the blob
   * in the ring slot the next snapshot takes (to be reused), if any.
   */
  snapshotSlot(
    caller: string | undefined,
    key: string,
  ): { entry: DsEntry<B>; reuse: B | undefined } | number {
    if (!this.validKey(key)) return EINVAL;
    const e = this.#keys(DSF_TYPE_MAP).get(key);
    if (e === undefined) return ESRCH;
    if (!this.#auth(e, caller, DSF_PRIV_SNAPSHOT)) return EPERM;
    return { entry: e, reuse: e.snapshots[(e.sindex + 1) % this.limits.nrSnapshots] };
  }

  /** The second half: `contents` becomes snapshot sindex+1 (the slot's old blob is the caller's). */
  commitSnapshot(entry: DsEntry<B>, contents: B): void {
    const e = this.#entries[entry.index];
    if (e !== entry || e === undefined) return;
    e.sindex++;
    e.snapshots[e.sindex % this.limits.nrSnapshots] = contents;
  }

  /** A kept snapshot of a MAP entry: the last `nrSnapshots` indices are valid. */
  snapshotAt(e: DsEntry<B>, index: number): B | undefined {
    if (!Number.isInteger(index) || index < 0 || index > e.sindex) return undefined;
    if (index <= e.sindex - this.limits.nrSnapshots) return undefined;
    return e.snapshots[index % this.limits.nrSnapshots];
  }

  /** Every subscription, pending changes lowest entry first (for DS's journal). */
  *subscriptionList(): IterableIterator<DsSubscriptionInfo> {
    for (const sub of this.#subs.values()) {
      const pending = [...sub.changed]
        .sort((a, b) => a - b)
        .map((i) => this.#entries[i]!)
        .map((e) => ({ key: e.key, type: e.type }));
      yield { owner: sub.owner, pattern: sub.source, typeMask: sub.typeMask, pending };
    }
  }

  /** Restores a pending change of `owner`'s subscription (journal replay); false if none. */
  markPending(owner: string, key: string, type: DsType): boolean {
    const sub = this.#subs.get(owner);
    const e = this.#keys(type).get(key);
    if (sub === undefined || e === undefined) return false;
    sub.changed.add(e.index);
    return true;
  }

  /**
   * Wakes the subscribers that the entry (key, type) of `owner`, published with `flags`,
   * would match, as if it had just been deleted: DS's restart could not bring it back.
   */
  announceGone(key: string, type: DsType, owner: string, flags: number, notify: Set<string>): void {
    const e: Entry<B> = {
      index: -1,
      key,
      type,
      flags: flags & DSF_MASK_INTERNAL & ~DSF_MASK_TYPE & ~DSF_IN_USE,
      owner,
      num: 0,
      data: undefined,
      snapshots: [],
      sindex: -1,
    };
    this.#changed(e, false, notify);
  }

  /** Labels of subscribers with pending changes (to wake after a restart). */
  *pendingOwners(): IterableIterator<string> {
    for (const sub of this.#subs.values()) if (sub.changed.size > 0) yield sub.owner;
  }

  /**
   * Restores snapshot `index` of a MAP entry (journal replay): it becomes the latest if it is
   * newer; the blob it replaces is released.
   */
  restoreSnapshot(key: string, index: number, blob: B): boolean {
    const e = this.#keys(DSF_TYPE_MAP).get(key);
    if (e === undefined || !Number.isInteger(index) || index < 0) return false;
    const at = index % this.limits.nrSnapshots;
    const old = e.snapshots[at];
    if (old !== undefined) this.released.push({ type: DSF_TYPE_MEM, blob: old });
    e.snapshots[at] = blob;
    if (index > e.sindex) e.sindex = index;
    return true;
  }

  #keys(type: DsType): Map<string, Entry<B>> {
    return this.#byType[type >>> 4]!;
  }

  #auth(e: Entry<B>, caller: string | undefined, perm: number): boolean {
    return (e.flags & perm) === 0 || caller === e.owner;
  }

  #matches(sub: Subscription, e: Entry<B>): boolean {
    if (sub.typeMask !== 0 && (sub.typeMask & e.type) === 0) return false;
    if (!this.#auth(e, sub.owner, DSF_PRIV_SUBSCRIBE)) return false;
    return sub.pattern.matches(e.key);
  }

  /** Marks `e` changed (set) or gone (clear) for every matching subscription. */
  #changed(e: Entry<B>, set: boolean, notify: Set<string>): void {
    if (this.#subs.size === 0) return;
    for (const sub of this.#subs.values()) {
      if (!this.#matches(sub, e)) continue;
      if (set) sub.changed.add(e.index);
      else sub.changed.delete(e.index);
      notify.add(sub.owner);
    }
  }

  #alloc(key: string, type: DsType): Entry<B> {
    const index = this.#free.pop() ?? this.#entries.length;
    const e: Entry<B> = {
      index,
      key,
      type,
      flags: 0,
      owner: "",
      num: 0,
      data: undefined,
      snapshots: [],
      sindex: -1,
    };
    this.#entries[index] = e;
    this.#keys(type).set(key, e);
    this.#count++;
    return e;
  }

  /** A label renamed by an overwrite: subscribers of the old name see it go. */
  #rekey(e: Entry<B>, key: string, notify: Set<string>): void {
    this.#changed(e, false, notify);
    this.#keys(e.type).delete(e.key);
    e.key = key;
    this.#keys(e.type).set(key, e);
  }

  #remove(e: Entry<B>, notify: Set<string>): void {
    this.#changed(e, false, notify);
    if (e.data !== undefined) this.released.push({ type: e.type, blob: e.data });
    for (const snap of e.snapshots) {
      if (snap !== undefined) this.released.push({ type: DSF_TYPE_MEM, blob: snap });
    }
    this.#keys(e.type).delete(e.key);
    if (e.type === DSF_TYPE_LABEL && this.#labelByEp.get(e.num) === e) {
      this.#labelByEp.delete(e.num);
      this.#nameEp = NaN;
    }
    this.#entries[e.index] = undefined;
    this.#free.push(e.index);
    this.#count--;
  }
}
