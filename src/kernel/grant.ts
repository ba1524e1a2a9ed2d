/**
 * Grant verification: may `grantee` access `bytes` at `offset` of grant `gid` made by
 * `granter`, with `access`? Follows indirect grants to the final direct or magic grant and
 * names the process whose memory it is. Grant tables are read from the granter's memory
 * through its page tables on every use, so a revocation takes effect at once.
 * MINIX: kernel/system/do_safecopy.c `verify_grant` (MINIX-SPEC §4.3, §4.8, §4.9).
 *
 * Deviations (recommended fixes, §4.3 and §11): a direct grant may start at address 0 (only
 * grants that run past 2^32 are rejected); the magic grantee check reads the magic `whoTo`;
 * offset + bytes is checked without 32-bit wrap-around; grant-id generations are compared
 * unless the kernel option `grantGenerations` is false.
 */
import { ANY, VFS_PROC_NR, type Endpoint } from "../include/endpoint.ts";
import { EINVAL, ELOOP, EPERM, OK } from "../include/errno.ts";
import {
  CPF_DIRECT,
  CPF_INDIRECT,
  CPF_MAGIC,
  CPF_USED,
  CPF_VALID,
  GRANT_DIRECT,
  GRANT_ENTRY_SIZE,
  GRANT_FLAGS_OFF,
  GRANT_GEN_OFF,
  GRANT_INDIRECT,
  GRANT_MAGIC,
  grantGeneration,
  grantSlot,
  MAX_INDIRECT_DEPTH,
} from "../include/grant.ts";
import type { VirAddr } from "../include/types.ts";
import type { Kernel } from "./kernel.ts";
import { copyFromProc } from "./memory.ts";
import { RTS_NO_PRIV, type Proc } from "./proc.ts";

/** Where verified grant memory is: the final granter and the absolute address in its space. */
export interface GrantTarget {
  proc: Proc;
  addr: number;
}

const ADDRESS_SPACE = 0x1_0000_0000;
const PAGE_MASK = 0xfff;
/** An entry that is not word aligned inside one page is copied here first. */
const entry = new Uint8Array(GRANT_ENTRY_SIZE);
const entry32 = new Uint32Array(entry.buffer);
/** The entry being checked: words `src32[base..]` (physical memory, or `entry32`). */
let src32: Uint32Array<ArrayBufferLike> = entry32;
let base = 0;

/** The entry's unsigned word at byte offset `off` (a multiple of 4). */
function u32(off: number): number {
  return src32[base + (off >>> 2)]!;
}

/** The entry's signed word at byte offset `off`. */
function i32(off: number): number {
  return u32(off) | 0;
}
const D = GRANT_DIRECT.offsets;
const I = GRANT_INDIRECT.offsets;
const M = GRANT_MAGIC.offsets;

/**
 * `verify_grant`. On OK fills `out` with the final granter and the address of byte `offset`
 * of the grant in its space. Errors: EINVAL (bad granter endpoint, negative id), ELOOP (more
 * than MAX_INDIRECT_DEPTH indirect hops), EPERM (everything else). Changes nothing.
 * `known` is `granter`'s process when the caller already looked it up (checkGranter).
 */
export function verifyGrant(
  k: Kernel,
  granter: Endpoint,
  grantee: Endpoint,
  gid: number,
  bytes: number,
  access: number,
  offset: number,
  out: GrantTarget,
  known?: Proc,
): number {
  if (!isU32(bytes) || !isU32(offset)) return EPERM;
  const generations = k.opts.grantGenerations ?? true;
  let depth = 0;
  for (;;) {
    // 1. A live granter and a non-negative id.
    const gp = depth === 0 && known !== undefined ? known : k.isokendpt(granter);
    if (gp === undefined) return EINVAL;
    if (!Number.isInteger(gid) || gid < 0 || gid > 0x7fff_ffff) return EINVAL;

    // 2.-5. The granter's table holds a used, valid entry of this id's generation.
    const r = readEntry(k, gp, gid, generations);
    if (r !== OK) return r;
    const flags = u32(GRANT_FLAGS_OFF);

    if ((flags & CPF_INDIRECT) === 0) {
      // 7. Only the final grant's access bits count.
      if ((flags & access) !== access) return EPERM;
      if ((flags & CPF_DIRECT) !== 0) {
        return finalGrant(gp, grantee, offset, bytes, D.whoTo, D.start, D.len, out);
      }
      if ((flags & CPF_MAGIC) !== 0) {
        if (gp.nr !== VFS_PROC_NR) return EPERM;
        const r = finalGrant(gp, grantee, offset, bytes, M.whoTo, M.start, M.len, out);
        if (r !== OK) return r;
        const from = k.isokendpt(i32(M.whoFrom));
        if (from === undefined) return EINVAL;
        out.proc = from;
        return OK;
      }
      return EPERM;
    }

    // 6. Indirect: one more hop, if allowed.
    if (depth === MAX_INDIRECT_DEPTH) return ELOOP;
    depth++;
    const whoTo = i32(I.whoTo);
    if (whoTo !== grantee && grantee !== ANY && whoTo !== ANY) return EPERM;
    grantee = granter;
    granter = i32(I.whoFrom) as Endpoint;
    gid = i32(I.grant);
  }
}

/**
 * `safecopy`'s own first step (§4.4): the granter must be a live process (EINVAL) with a grant
 * table (EPERM), checked before the id, so a negative id at a granter without a table is
 * EPERM there (verifyGrant alone would say EINVAL). The granter's process, or the error.
 */
export function checkGranter(k: Kernel, granter: Endpoint): Proc | number {
  const gp = k.isokendpt(granter);
  if (gp === undefined) return EINVAL;
  return hasTable(gp) ? gp : EPERM;
}

function hasTable(gp: Proc): boolean {
  const priv = gp.priv;
  return priv !== null && (gp.rtsFlags & RTS_NO_PRIV) === 0 && priv.grantTable !== 0;
}

/** Reads entry `gid` of `gp`'s table into `entry` and checks it is in use; OK or EPERM. */
function readEntry(k: Kernel, gp: Proc, gid: number, generations: boolean): number {
  const priv = gp.priv;
  if (priv === null || !hasTable(gp)) return EPERM;
  const slot = grantSlot(gid);
  if (slot >= priv.grantEntries) return EPERM;
  const va = priv.grantTable + slot * GRANT_ENTRY_SIZE;
  // An unreadable table is indistinguishable from an invalid id (no VM request).
  if (!fetchEntry(k, gp, va)) return EPERM;
  const flags = u32(GRANT_FLAGS_OFF);
  if ((flags & (CPF_USED | CPF_VALID)) !== (CPF_USED | CPF_VALID)) return EPERM;
  if (generations && u32(GRANT_GEN_OFF) !== grantGeneration(gid)) return EPERM;
  return OK;
}

/**
 * Makes the 36 bytes at `va` in `gp` the entry `u32`/`i32` read: in place after one
 * translation when the entry is word aligned inside one page (the usual case), else copied
 * into `entry` through the general copy. False if any byte cannot be read.
 */
function fetchEntry(k: Kernel, gp: Proc, va: number): boolean {
  if ((va & 3) !== 0 || (va & PAGE_MASK) > PAGE_MASK + 1 - GRANT_ENTRY_SIZE || gp.cr3 === 0) {
    src32 = entry32;
    base = 0;
    return copyFromProc(k, gp, va as VirAddr, entry, 0, GRANT_ENTRY_SIZE) === OK;
  }
  if (va + GRANT_ENTRY_SIZE > ADDRESS_SPACE) return false;
  const pa = k.hw.mmu.translate(gp.cr3, va, false, true);
  if (pa < 0) return false;
  src32 = k.hw.mem.u32;
  base = pa >>> 2;
  return true;
}

/** Steps 8/9 for the direct or magic entry in `entry`: grantee and range; fills `out`. */
function finalGrant(
  gp: Proc,
  grantee: Endpoint,
  offset: number,
  bytes: number,
  whoToOff: number,
  startOff: number,
  lenOff: number,
  out: GrantTarget,
): number {
  const start = u32(startOff);
  const len = u32(lenOff);
  if (start + len > ADDRESS_SPACE) return EPERM;
  const whoTo = i32(whoToOff);
  if (whoTo !== grantee && grantee !== ANY && whoTo !== ANY) return EPERM;
  if (offset + bytes > len) return EPERM;
  out.proc = gp;
  out.addr = start + offset;
  return OK;
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < ADDRESS_SPACE;
}
