/**
 * The data store's protocol (requests from 0x800): typed entries keyed by (key, type),
 * label ↔ endpoint naming, subscriptions by pattern. The key never travels in the message:
 * the client grants DS access to its key buffer. MINIX: include/minix/ds.h, com.h
 * (MINIX-SPEC §5).
 */
import { defineLayout, type FieldKind, type Fields, type Layout } from "./message.ts";

export const DS_RQ_BASE = 0x800;

/** Request numbers (m_type). */
export const DS_CALL_NR = {
  DS_PUBLISH: DS_RQ_BASE + 0,
  DS_RETRIEVE: DS_RQ_BASE + 1,
  DS_SUBSCRIBE: DS_RQ_BASE + 2,
  DS_CHECK: DS_RQ_BASE + 3,
  DS_DELETE: DS_RQ_BASE + 4,
  DS_SNAPSHOT: DS_RQ_BASE + 5,
  DS_RETRIEVE_LABEL: DS_RQ_BASE + 6,
} as const;
export type DsCallName = keyof typeof DS_CALL_NR;

/** Flags stored with an entry or a subscription (DSF_MASK_INTERNAL). */
export const DSF_IN_USE = 0x001;
export const DSF_PRIV_RETRIEVE = 0x002;
export const DSF_PRIV_OVERWRITE = 0x004;
/** Same bit as DSF_PRIV_OVERWRITE, as in MINIX. */
export const DSF_PRIV_SNAPSHOT = 0x004;
export const DSF_PRIV_SUBSCRIBE = 0x008;
export const DSF_TYPE_U32 = 0x010;
export const DSF_TYPE_STR = 0x020;
export const DSF_TYPE_MEM = 0x040;
export const DSF_TYPE_MAP = 0x080;
export const DSF_TYPE_LABEL = 0x100;
export const DSF_MASK_TYPE = 0xff0;
export const DSF_MASK_INTERNAL = 0xfff;
/** Publish: overwrite an existing entry; subscribe: replace the caller's subscription. */
export const DSF_OVERWRITE = 0x01000;
/** Subscribe: flag every existing match at once. */
export const DSF_INITIAL = 0x02000;
/** Retrieve of a MAP entry: map it, copy its current contents, or copy a snapshot. */
export const DSMF_MAP_MAPPED = 0x10000;
export const DSMF_COPY_MAPPED = 0x20000;
export const DSMF_COPY_SNAPSHOT = 0x40000;

/** The entry types, one bit each. */
export const DS_TYPES = [
  DSF_TYPE_U32,
  DSF_TYPE_STR,
  DSF_TYPE_MEM,
  DSF_TYPE_MAP,
  DSF_TYPE_LABEL,
] as const;
export type DsType = (typeof DS_TYPES)[number];

export function isDsType(t: number): t is DsType {
  return (
    t === DSF_TYPE_U32 ||
    t === DSF_TYPE_STR ||
    t === DSF_TYPE_MEM ||
    t === DSF_TYPE_MAP ||
    t === DSF_TYPE_LABEL
  );
}

/** Default limits (MINIX values; each is a boot option of DS). */
export const DS_MAX_KEYLEN = 80;
export const NR_DS_KEYS = 64;
export const NR_DS_SUBS = 128;
export const NR_DS_SNAPSHOT = 5;
/** Largest MEM/STR value in bytes (not limited in MINIX beyond memory). */
export const DS_MAX_BLOB = 64 * 1024;

/** Largest STR/MEM blob and total entries the boot options may ask for. */
export const DS_MAX_BLOB_LIMIT = 16 << 20;
export const DS_MAX_ENTRIES_LIMIT = 1 << 20;
export const DS_MAX_SUBS_LIMIT = 4096;
export const DS_MAX_KEYLEN_LIMIT = 1024;

/**
 * Every request starts with the key grant: DS_KEY_GRANT, a grant of the caller's key buffer
 * to DS, and DS_KEY_LEN, its length in bytes including the NUL (2..maxKeyLen). For DS_CHECK
 * and DS_RETRIEVE_LABEL the buffer is writable and DS writes a key back into it.
 */
const KEY = { keyGrant: "i32", keyLen: "i32" } as const;
const NOTHING = defineLayout({});

/**
 * The requests (SENDREC to DS; DS answers with `m_type` = status and the reply fields). Field
 * names are MINIX's: `flags` DS_FLAGS, `val` DS_VAL (a value or a grant id), `valLen`
 * DS_VAL_LEN, `nrSnapshot` DS_NR_SNAPSHOT, `owner` DS_OWNER.
 */
export const DS_CALLS = {
  /** Store a value: U32/LABEL `val`; STR/MEM a read grant `val` of `valLen` bytes; MAP a
   * read+map grant `val` of `valLen` bytes (page-aligned). DSF_OVERWRITE replaces. */
  DS_PUBLISH: {
    nr: DS_CALL_NR.DS_PUBLISH,
    req: defineLayout({ ...KEY, flags: "u32", val: "u32", valLen: "u32" }),
    reply: NOTHING,
  },
  /** Fetch a value: U32/LABEL in `val`; STR/MEM/MAP copies into the write grant `val` of
   * `valLen` bytes (the copied length comes back); MAP with DSMF_MAP_MAPPED answers a grant. */
  DS_RETRIEVE: {
    nr: DS_CALL_NR.DS_RETRIEVE,
    req: defineLayout({ ...KEY, flags: "u32", val: "u32", valLen: "u32", nrSnapshot: "i32" }),
    reply: defineLayout({ val: "u32", valLen: "u32" }),
  },
  /** Subscribe to keys matching the pattern in the key buffer (type filter in `flags`). */
  DS_SUBSCRIBE: {
    nr: DS_CALL_NR.DS_SUBSCRIBE,
    req: defineLayout({ ...KEY, flags: "u32" }),
    reply: NOTHING,
  },
  /** The next changed entry: its key into the key buffer, its type and owner in the reply. */
  DS_CHECK: {
    nr: DS_CALL_NR.DS_CHECK,
    req: defineLayout({ ...KEY }),
    reply: defineLayout({ flags: "u32", owner: "endpoint" }),
  },
  /** Delete the entry (key, type in `flags`); only its owner may. */
  DS_DELETE: {
    nr: DS_CALL_NR.DS_DELETE,
    req: defineLayout({ ...KEY, flags: "u32" }),
    reply: NOTHING,
  },
  /** Keep a snapshot of a MAP entry's current contents; its index comes back. */
  DS_SNAPSHOT: {
    nr: DS_CALL_NR.DS_SNAPSHOT,
    req: defineLayout({ ...KEY }),
    reply: defineLayout({ nrSnapshot: "i32" }),
  },
  /** The label naming endpoint `val`, written into the key buffer. */
  DS_RETRIEVE_LABEL: {
    nr: DS_CALL_NR.DS_RETRIEVE_LABEL,
    req: defineLayout({ ...KEY, val: "endpoint" }),
    reply: NOTHING,
  },
} as const satisfies {
  [K in DsCallName]: {
    nr: (typeof DS_CALL_NR)[K];
    req: Layout<typeof KEY & Readonly<Record<string, FieldKind>>>;
    reply: Layout<Readonly<Record<string, FieldKind>>>;
  };
};

export type DsReq<K extends DsCallName> = Fields<(typeof DS_CALLS)[K]["req"]["fields"]>;
export type DsReply<K extends DsCallName> = Fields<(typeof DS_CALLS)[K]["reply"]["fields"]>;
