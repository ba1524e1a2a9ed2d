/**
 * The data store's protocol (requests from 0x800): typed entries keyed by (key, type),
 * label ↔ endpoint naming, subscriptions by pattern. The key never travels in the message:
 * the client grants DS access to its key buffer. MINIX: include/minix/ds.h, com.h
 * (MINIX-SPEC §5).
 */
import { defineLayout } from "./message.ts";

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
  return (DS_TYPES as readonly number[]).includes(t);
}

/** Default limits (MINIX values; each is a boot option of DS). */
export const DS_MAX_KEYLEN = 80;
export const NR_DS_KEYS = 64;
export const NR_DS_SUBS = 128;
export const NR_DS_SNAPSHOT = 5;
/** Largest MEM/STR value in bytes (not limited in MINIX beyond memory). */
export const DS_MAX_BLOB = 64 * 1024;

/**
 * The message of every request and reply (`mess_2`): DS_KEY_GRANT, DS_KEY_LEN (including
 * the NUL), DS_FLAGS, DS_VAL (a value or a grant id), DS_VAL_LEN, DS_NR_SNAPSHOT, DS_OWNER.
 */
export const DS_MSG = defineLayout({
  keyGrant: "i32",
  keyLen: "i32",
  flags: "i32",
  val: "u32",
  valLen: "u32",
  nrSnapshot: "i32",
  owner: "endpoint",
});
