/**
 * The grant library: a process's grant table lives in its own memory and is announced to the
 * kernel with sys_setgrant; the kernel reads it on every use, so setting or revoking a grant is
 * a store in the table. MINIX: lib/libsys/safecopies.c (MINIX-SPEC §4.2).
 *
 * errno: MINIX returns -1 (or GRANT_INVALID) and sets errno. Here calls that return a grant
 * id return GRANT_INVALID on failure and calls that return a status return the negative code
 * itself (EINVAL, ENOSPC, ...); either way the last error is also kept per process and read
 * with `cpfErrno(ctx)`, the stand-in for errno.
 *
 * Ids carry the slot's generation (include/grant.ts): a slot's generation advances when it is
 * revoked, so an id that was revoked names nothing even after its slot is handed out again.
 * An entry is written body first and flags last, so the kernel never sees half a grant.
 */
import { SELF, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, ENOSPC, OK } from "../../include/errno.ts";
import {
  CPF_ACCESS,
  CPF_DIRECT,
  CPF_INDIRECT,
  CPF_MAGIC,
  CPF_MAP,
  CPF_USED,
  CPF_VALID,
  GRANT_DIRECT,
  GRANT_ENTRY_SIZE,
  GRANT_GEN_OFF,
  GRANT_INDIRECT,
  GRANT_INVALID,
  GRANT_MAGIC,
  GRANT_MAX_SLOTS,
  grantGeneration,
  grantSlot,
  makeGrantId,
  nextGrantGeneration,
} from "../../include/grant.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import { I386_PAGE_SIZE } from "../../include/vmpt.ts";
import type { Syscall } from "../ipc.ts";
import { load, store } from "../mem.ts";
import { lib } from "../runtime.ts";
import { sysSetgrant } from "./sys_misc.ts";
import { sysSaferevmapGid } from "./sys_safemap.ts";

/** Entries of the first table, taken before the process needs a bigger one. */
export const NR_STATIC_GRANTS = 2;

interface GrantState {
  /** The table announced to the kernel (0 before the first grant). */
  table: VirAddr;
  ngrants: number;
  /** The last error (errno). */
  errno: number;
}

const states = new WeakMap<ProcessContext, GrantState>();

function state(ctx: ProcessContext): GrantState {
  let s = states.get(ctx);
  if (s === undefined) {
    s = { table: 0 as VirAddr, ngrants: 0, errno: OK };
    states.set(ctx, s);
  }
  return s;
}

/** errno of the last failed grant-library call of this process (OK if none failed yet). */
export function cpfErrno(ctx: ProcessContext): number {
  return state(ctx).errno;
}

function fail(ctx: ProcessContext, err: number): number {
  state(ctx).errno = err;
  return err;
}

function entryAddr(s: GrantState, slot: number): VirAddr {
  return (s.table + slot * GRANT_ENTRY_SIZE) as VirAddr;
}

function* readWord(ctx: ProcessContext, va: number): Syscall<number> {
  const b = new Uint8Array(4);
  yield* load(ctx, va as VirAddr, b);
  return new DataView(b.buffer).getUint32(0, true);
}

function* writeWord(ctx: ProcessContext, va: number, v: number): Syscall<void> {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  yield* store(ctx, va as VirAddr, b);
}

/**
 * The slot of `g` if it names the current generation of a slot of this table, else -1.
 * `used`: the slot must also be in use.
 */
function* checkId(ctx: ProcessContext, g: number, used: boolean): Syscall<number> {
  const s = state(ctx);
  if (!Number.isInteger(g) || g < 0 || g > 0x7fff_ffff) return -1;
  const slot = grantSlot(g);
  if (slot >= s.ngrants) return -1;
  const at = entryAddr(s, slot);
  if ((yield* readWord(ctx, at + GRANT_GEN_OFF)) !== grantGeneration(g)) return -1;
  if (used && ((yield* readWord(ctx, at)) & CPF_USED) === 0) return -1;
  return slot;
}

/**
 * `cpf_grow`: the first table has NR_STATIC_GRANTS entries, later ones (n+1)*2; the old
 * entries are copied, new slots are free, and the kernel is told. When the heap is too small
 * or sys_setgrant fails, the table stays as it was. (The bump heap never frees, so an old
 * table's memory is not reclaimed.)
 */
function* grow(ctx: ProcessContext): Syscall<void> {
  const s = state(ctx);
  const size = Math.min(s.ngrants === 0 ? NR_STATIC_GRANTS : (s.ngrants + 1) * 2, GRANT_MAX_SLOTS);
  if (size <= s.ngrants) return;
  const heap = lib(ctx).heap;
  if (heap.free < size * GRANT_ENTRY_SIZE + 64) return;
  const table = heap.alloc(size * GRANT_ENTRY_SIZE, 64);
  const bytes = new Uint8Array(size * GRANT_ENTRY_SIZE);
  if (s.ngrants > 0) yield* load(ctx, s.table, bytes.subarray(0, s.ngrants * GRANT_ENTRY_SIZE));
  yield* store(ctx, table, bytes);
  if ((yield* sysSetgrant(ctx, table, size)) !== OK) return;
  s.table = table;
  s.ngrants = size;
}

/** The first slot without CPF_USED, growing the table if needed; -1 if there is none. */
function* allocSlot(ctx: ProcessContext): Syscall<number> {
  const s = state(ctx);
  for (let tries = 0; tries < 2; tries++) {
    if (s.ngrants > 0) {
      const all = new Uint8Array(s.ngrants * GRANT_ENTRY_SIZE);
      yield* load(ctx, s.table, all);
      const v = new DataView(all.buffer);
      for (let i = 0; i < s.ngrants; i++) {
        if ((v.getUint32(i * GRANT_ENTRY_SIZE, true) & CPF_USED) === 0) {
          yield* writeWord(ctx, entryAddr(s, i), CPF_USED);
          return makeGrantId(i, v.getUint32(i * GRANT_ENTRY_SIZE + GRANT_GEN_OFF, true));
        }
      }
    }
    if (tries === 0) yield* grow(ctx);
  }
  return -1;
}

/** Reserved bytes of an entry (written as zeros). */
const NONE = new Uint8Array(0);

/**
 * The common part of the `cpf_setgrant_*` calls: `g` must name a slot of ours (EINVAL), then
 * its entry is written, the body `encode` fills (given `g`'s generation; bytes 4..35) first,
 * `flags` last. OK or EINVAL.
 */
function* setEntry(
  ctx: ProcessContext,
  g: number,
  flags: number,
  encode: (v: DataView, gen: number) => void,
): Syscall {
  const slot = yield* checkId(ctx, g, false);
  if (slot < 0) return fail(ctx, EINVAL);
  const body = new Uint8Array(GRANT_ENTRY_SIZE);
  encode(new DataView(body.buffer), grantGeneration(g));
  const at = entryAddr(state(ctx), slot);
  yield* store(ctx, (at + 4) as VirAddr, body.subarray(4));
  yield* writeWord(ctx, at, flags);
  return OK;
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/** Checks an access mask and range of a direct or magic grant; OK or EINVAL. */
function checkAccess(addr: number, bytes: number, access: number): number {
  if (!isU32(access) || (access & ~CPF_ACCESS) !== 0) return EINVAL;
  if (!isU32(addr) || !isU32(bytes)) return EINVAL;
  if ((access & CPF_MAP) !== 0 && (addr % I386_PAGE_SIZE !== 0 || bytes % I386_PAGE_SIZE !== 0)) {
    return EINVAL;
  }
  return OK;
}

/** `cpf_setgrant_direct`: `g` lets `who` access [addr, addr+bytes) of ours. OK or EINVAL. */
export function* cpfSetgrantDirect(
  ctx: ProcessContext,
  g: number,
  who: Endpoint,
  addr: VirAddr,
  bytes: number,
  access: number,
): Syscall {
  const r = checkAccess(addr, bytes, access);
  if (r !== OK) return fail(ctx, r);
  const flags = access | CPF_DIRECT | CPF_USED | CPF_VALID;
  return yield* setEntry(ctx, g, flags, (v, gen) =>
    GRANT_DIRECT.write(v, {
      flags: 0,
      whoTo: who,
      start: addr,
      len: bytes,
      reserved: NONE,
      gen,
      reserved2: NONE,
    }),
  );
}

/**
 * `cpf_setgrant_indirect`: `g` lets `whoTo` use grant `hisG` that `whoFrom` gave us. No access
 * bits are stored: the final grant decides. OK or EINVAL.
 */
export function* cpfSetgrantIndirect(
  ctx: ProcessContext,
  g: number,
  whoTo: Endpoint,
  whoFrom: Endpoint,
  hisG: number,
): Syscall {
  return yield* setEntry(ctx, g, CPF_USED | CPF_INDIRECT | CPF_VALID, (v, gen) =>
    GRANT_INDIRECT.write(v, {
      flags: 0,
      whoTo,
      whoFrom,
      grant: hisG,
      reserved: NONE,
      gen,
      reserved2: NONE,
    }),
  );
}

/**
 * `cpf_setgrant_magic`: `g` lets `whoTo` access [addr, addr+bytes) of `whoFrom` (the kernel
 * honours it only when we are VFS). OK or EINVAL.
 */
export function* cpfSetgrantMagic(
  ctx: ProcessContext,
  g: number,
  whoTo: Endpoint,
  whoFrom: Endpoint,
  addr: VirAddr,
  bytes: number,
  access: number,
): Syscall {
  const r = checkAccess(addr, bytes, access);
  if (r !== OK) return fail(ctx, r);
  const flags = access | CPF_MAGIC | CPF_USED | CPF_VALID;
  return yield* setEntry(ctx, g, flags, (v, gen) =>
    GRANT_MAGIC.write(v, {
      flags: 0,
      whoFrom,
      whoTo,
      start: addr,
      len: bytes,
      reserved: NONE,
      gen,
      reserved2: NONE,
    }),
  );
}

/** `cpf_setgrant_disable`: keep slot `g` reserved but invalid. OK or EINVAL. */
export function* cpfSetgrantDisable(ctx: ProcessContext, g: number): Syscall {
  const slot = yield* checkId(ctx, g, false);
  if (slot < 0) return fail(ctx, EINVAL);
  yield* writeWord(ctx, entryAddr(state(ctx), slot), CPF_USED);
  return OK;
}

/** A new slot filled by `set`, or GRANT_INVALID (errno ENOSPC, or `set`'s error). */
function* grantWith(ctx: ProcessContext, set: (g: number) => Syscall): Syscall<number> {
  const g = yield* allocSlot(ctx);
  if (g < 0) {
    fail(ctx, ENOSPC);
    return GRANT_INVALID;
  }
  const r = yield* set(g);
  if (r !== OK) {
    const err = cpfErrno(ctx);
    yield* cpfRevoke(ctx, g);
    fail(ctx, err);
    return GRANT_INVALID;
  }
  return g;
}

/** `cpf_grant_direct`: a grant for `whoTo` of [addr, addr+bytes) with `access`. */
export function* cpfGrantDirect(
  ctx: ProcessContext,
  whoTo: Endpoint,
  addr: VirAddr,
  bytes: number,
  access: number,
): Syscall<number> {
  return yield* grantWith(ctx, (g) => cpfSetgrantDirect(ctx, g, whoTo, addr, bytes, access));
}

/** `cpf_grant_indirect`: let `whoTo` use grant `gr` that `whoFrom` gave us. */
export function* cpfGrantIndirect(
  ctx: ProcessContext,
  whoTo: Endpoint,
  whoFrom: Endpoint,
  gr: number,
): Syscall<number> {
  return yield* grantWith(ctx, (g) => cpfSetgrantIndirect(ctx, g, whoTo, whoFrom, gr));
}

/** `cpf_grant_magic`: let `whoTo` access [addr, addr+bytes) of `whoFrom` (VFS only). */
export function* cpfGrantMagic(
  ctx: ProcessContext,
  whoTo: Endpoint,
  whoFrom: Endpoint,
  addr: VirAddr,
  bytes: number,
  access: number,
): Syscall<number> {
  return yield* grantWith(ctx, (g) =>
    cpfSetgrantMagic(ctx, g, whoTo, whoFrom, addr, bytes, access),
  );
}

/**
 * `cpf_revoke`: free slot `g` (it must be in use: EINVAL otherwise). A MAP grant's mappings
 * are revoked first; if that fails the grant stays. The slot's generation advances, so `g`
 * names nothing from now on. OK or an error.
 */
export function* cpfRevoke(ctx: ProcessContext, g: number): Syscall {
  const slot = yield* checkId(ctx, g, true);
  if (slot < 0) return fail(ctx, EINVAL);
  const at = entryAddr(state(ctx), slot);
  const flags = yield* readWord(ctx, at);
  if ((flags & CPF_MAP) !== 0 && (flags & CPF_VALID) !== 0) {
    // Every mapping made through it goes before the grant itself (§4.2, §4.6).
    const r = yield* sysSaferevmapGid(ctx, g);
    if (r !== OK) return fail(ctx, r);
  }
  yield* writeWord(ctx, at, 0);
  yield* writeWord(ctx, at + GRANT_GEN_OFF, nextGrantGeneration(grantGeneration(g)));
  return OK;
}

/** What `cpfLookup` reports: who granted (SELF for our own memory) and to whom. */
export interface GrantLookup {
  readonly granter: Endpoint;
  readonly grantee: Endpoint;
}

/**
 * `cpf_lookup`: the parties of valid direct (granter SELF) or magic grant `g`; EINVAL for
 * anything else (indirect, invalid, unused).
 */
export function* cpfLookup(ctx: ProcessContext, g: number): Syscall<GrantLookup | number> {
  const slot = yield* checkId(ctx, g, true);
  if (slot < 0) return fail(ctx, EINVAL);
  const e = new Uint8Array(GRANT_ENTRY_SIZE);
  yield* load(ctx, entryAddr(state(ctx), slot), e);
  const v = new DataView(e.buffer);
  const flags = v.getUint32(0, true);
  if ((flags & CPF_VALID) === 0) return fail(ctx, EINVAL);
  if ((flags & CPF_DIRECT) !== 0) {
    return { granter: SELF, grantee: GRANT_DIRECT.read(v).whoTo };
  }
  if ((flags & CPF_MAGIC) !== 0) {
    const m = GRANT_MAGIC.read(v);
    return { granter: m.whoFrom, grantee: m.whoTo };
  }
  return fail(ctx, EINVAL);
}

/** `cpf_getgrants`: reserve up to `n` slots (in use, not valid); returns their ids. */
export function* cpfGetgrants(ctx: ProcessContext, n: number): Syscall<number[]> {
  const ids: number[] = [];
  while (ids.length < n) {
    const g = yield* allocSlot(ctx);
    if (g < 0) {
      fail(ctx, ENOSPC);
      break;
    }
    ids.push(g);
  }
  return ids;
}

/** `cpf_reload`: announce the table again (a forked child's privileges do not carry it). */
export function* cpfReload(ctx: ProcessContext): Syscall {
  const s = state(ctx);
  if (s.ngrants === 0) return OK;
  const r = yield* sysSetgrant(ctx, s.table, s.ngrants);
  return r === OK ? OK : fail(ctx, r);
}
