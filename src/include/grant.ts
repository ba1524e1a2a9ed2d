/**
 * Memory grants: access flags, the 36-byte grant entry that lives in the granter's own memory,
 * grant ids and the vectored-safecopy element. MINIX: include/minix/safecopies.h
 * (MINIX-SPEC §4.1, §4.8).
 *
 * Grant ids carry a generation like endpoints (the TO-DO of the J commit): the table slot is
 * in the low GRANT_SLOT_BITS bits, the generation above it, and bit 31 stays clear so every
 * valid id is ≥ 0. The entry keeps its slot's current generation in its trailing reserved
 * bytes; the kernel honours an id only when both agree (boot option `grantGenerations`).
 */
import { defineStruct } from "./message.ts";

/** Grantee may read: copy from the granter. */
export const CPF_READ = 0x000001;
/** Grantee may write: copy to the granter. */
export const CPF_WRITE = 0x000002;
/** Grantee may map the pages (safemap). */
export const CPF_MAP = 0x000004;
/** Slot in use (possibly reserved or disabled). */
export const CPF_USED = 0x000100;
/** Direct grant of the granter's own memory. */
export const CPF_DIRECT = 0x000200;
/** Re-grant of a grant received from someone else; carries no access bits. */
export const CPF_INDIRECT = 0x000400;
/** Grant of a third party's memory; only honoured when the granter is VFS. */
export const CPF_MAGIC = 0x000800;
/** Slot contains a valid grant. */
export const CPF_VALID = 0x001000;
/** Every access bit a grant may carry. */
export const CPF_ACCESS = CPF_READ | CPF_WRITE | CPF_MAP;

/** `cp_grant_id_t` value meaning "no grant". */
export const GRANT_INVALID = -1;

/** `GRANT_VALID(g)`. */
export function grantValid(g: number): boolean {
  return g > -1;
}

/** Bits of a grant id that hold the table slot (at most 2^20 entries per table). */
export const GRANT_SLOT_BITS = 20;
export const GRANT_MAX_SLOTS = 1 << GRANT_SLOT_BITS;
const GRANT_SLOT_MASK = GRANT_MAX_SLOTS - 1;
/** Generations run 0 .. GRANT_MAX_GEN-1 and wrap to 0 (bit 31 of an id stays clear). */
export const GRANT_MAX_GEN = 1 << (31 - GRANT_SLOT_BITS);

/** `GRANT_ID(slot, gen)`: the id of generation `gen` of table slot `slot`. */
export function makeGrantId(slot: number, gen: number): number {
  return ((gen % GRANT_MAX_GEN) << GRANT_SLOT_BITS) | (slot & GRANT_SLOT_MASK);
}

/** The table slot named by a (non-negative) grant id. */
export function grantSlot(gid: number): number {
  return gid & GRANT_SLOT_MASK;
}

/** The generation named by a (non-negative) grant id. */
export function grantGeneration(gid: number): number {
  return (gid >>> GRANT_SLOT_BITS) % GRANT_MAX_GEN;
}

/** The generation a slot gets when it is handed out again after `gen`. */
export function nextGrantGeneration(gen: number): number {
  return (gen + 1) % GRANT_MAX_GEN;
}

/** Indirect hops followed before ELOOP: the 6th indirect entry fails. */
export const MAX_INDIRECT_DEPTH = 5;

/** Most elements one SYS_VSAFECOPY may carry (longer vectors are EINVAL). */
export const SCPVEC_NR = 64;

/**
 * `cp_grant_t` (i386: 36 bytes). The three variants share `flags` at 0 and the generation at
 * 28 (the first reserved word after the 24-byte union); the union is read through the layout
 * that matches the flags. Note that the magic layout puts `whoFrom` where the other two
 * have `whoTo`.
 */
export const GRANT_DIRECT = defineStruct({
  flags: "u32",
  whoTo: "endpoint",
  start: "vir",
  len: "u32",
  reserved: { bytes: 12 },
  gen: "u32",
  reserved2: { bytes: 4 },
});
export const GRANT_INDIRECT = defineStruct({
  flags: "u32",
  whoTo: "endpoint",
  whoFrom: "endpoint",
  grant: "i32",
  reserved: { bytes: 12 },
  gen: "u32",
  reserved2: { bytes: 4 },
});
export const GRANT_MAGIC = defineStruct({
  flags: "u32",
  whoFrom: "endpoint",
  whoTo: "endpoint",
  start: "vir",
  len: "u32",
  reserved: { bytes: 8 },
  gen: "u32",
  reserved2: { bytes: 4 },
});
/** Size of one grant entry in bytes (36, every layout). */
export const GRANT_ENTRY_SIZE = GRANT_DIRECT.size;
/** Byte offset of the flags word in an entry (0, every layout). */
export const GRANT_FLAGS_OFF = GRANT_DIRECT.offsets.flags;
/** Byte offset of the generation word in an entry (28, every layout; reserved in MINIX). */
export const GRANT_GEN_OFF = GRANT_DIRECT.offsets.gen;

/**
 * `struct vscp_vec`: one element of a SYS_VSAFECOPY vector. Exactly one of `from`/`to` must
 * be SELF; the other is the granter. `offset` is inside the grant, `addr` in the caller.
 */
export const VSCP_VEC = defineStruct({
  from: "endpoint",
  to: "endpoint",
  gid: "i32",
  offset: "u32",
  addr: "vir",
  bytes: "u32",
});
