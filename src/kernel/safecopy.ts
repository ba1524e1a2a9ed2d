/**
 * Safe copies: verify a grant, then copy between the final granter's memory and the caller's
 * (or fill granted memory). A copy that touches a page that is not present suspends the caller
 * for VM and the call is re-executed from its saved message (MINIX-SPEC §3.4), so these are
 * restartable: nothing but the copied bytes changes before the failing point.
 * MINIX: kernel/system/do_safecopy.c `safecopy` (MINIX-SPEC §4.4).
 *
 * A zero-length copy returns EDOM as in MINIX (the generic copy rejects `bytes <= 0`), but only
 * after the grant verified: EDOM therefore means "the grant is fine, there was nothing to
 * copy", and a bad grant still reports its own error. Callers with possibly empty buffers
 * skip the call.
 */
import { EDOM, EFAULT, EFAULT_SRC, OK } from "../include/errno.ts";
import { CPF_WRITE } from "../include/grant.ts";
import type { Endpoint } from "../include/endpoint.ts";
import type { VirAddr } from "../include/types.ts";
import { cowResumed, cowSafecopy } from "./cow_safecopy.ts";
import { checkGranter, verifyGrant, type GrantTarget } from "./grant.ts";
import type { Kernel } from "./kernel.ts";
import { copyBetween, copyToProc } from "./memory.ts";
import { VMSTYPE_KERNELCALL, type Proc } from "./proc.ts";
import { copyFaulted } from "./vmrequest.ts";

/** `verifyGrant`'s answer for the copy or fill in progress (they never nest: one object serves). */
let grantTarget: GrantTarget | null = null;

/**
 * The checks before a safe copy or fill (§4.4 steps 1–2): the granter exists (EINVAL) and
 * has a grant table (EPERM), then `verify_grant`, then EDOM for zero bytes. The verified
 * target (the module's one object, valid until the next call), or the error.
 */
function verifyCopy(
  k: Kernel,
  caller: Proc,
  granter: Endpoint,
  gid: number,
  bytes: number,
  access: number,
  offset: number,
): GrantTarget | number {
  const known = checkGranter(k, granter);
  if (typeof known === "number") return known;
  const target = (grantTarget ??= { proc: caller, addr: 0 });
  const r = verifyGrant(k, granter, caller.endpoint, gid, bytes, access, offset, target, known);
  if (r !== OK) return r;
  return bytes === 0 ? EDOM : target;
}

/**
 * `safecopy`: copy `bytes` between byte `offset` of grant `gid` of `granter` and `addr` in
 * `caller`. `access` CPF_READ copies granter → caller, CPF_WRITE caller → granter.
 * With `cow` (SYS_SAFECOPYFROM/TO, not vectors) whole pages may be shared copy-on-write
 * instead (cow_safecopy.ts). OK, a verification error, EDOM for zero bytes, EFAULT or
 * VMSUSPEND.
 */
export function safecopy(
  k: Kernel,
  caller: Proc,
  granter: Endpoint,
  gid: number,
  bytes: number,
  offset: number,
  addr: number,
  access: number,
  cow = false,
): number {
  // Re-executed after VM shared the pages: done, or (VM refused) copy plainly.
  const resumed = cow ? cowResumed(k, caller) : undefined;
  if (resumed === OK) return OK;
  const target = verifyCopy(k, caller, granter, gid, bytes, access, offset);
  if (typeof target === "number") return target;
  const toGranter = access === CPF_WRITE;
  if (cow && resumed === undefined) {
    const c = cowSafecopy(k, caller, target.proc, target.addr, addr, bytes, toGranter);
    if (c !== undefined) return c;
  }
  return copyGranted(k, caller, target.proc, target.addr, addr, bytes, toGranter);
}

/**
 * The copy step of `safecopy`: `bytes` between `gaddr` in the final granter `gp` and `addr` in
 * `caller` (`toGranter` chooses the direction) through the kernel's one copy path, which moves
 * runs of physically contiguous frames in one piece. A fault suspends the caller for VM.
 */
export function copyGranted(
  k: Kernel,
  caller: Proc,
  gp: Proc,
  gaddr: number,
  addr: number,
  bytes: number,
  toGranter: boolean,
): number {
  // The caller's range must lie in its 32-bit space (the grant's range was verified).
  if (!Number.isInteger(addr) || addr < 0 || addr + bytes > 0x1_0000_0000) return EFAULT;
  const r = toGranter
    ? copyBetween(k, caller, addr as VirAddr, gp, gaddr as VirAddr, bytes)
    : copyBetween(k, gp, gaddr as VirAddr, caller, addr as VirAddr, bytes);
  if (r === OK) return OK;
  // The side that faulted: the source on EFAULT_SRC, else the destination.
  const granterFaulted = (r === EFAULT_SRC) !== toGranter;
  const [fp, fva] = granterFaulted ? [gp, gaddr] : [caller, addr];
  return copyFaulted(k, caller, fp, fva + bytes - k.faultAddr, VMSTYPE_KERNELCALL);
}

const FILL_CHUNK = 64 * 1024;
const fill = new Uint8Array(FILL_CHUNK);

/**
 * Fills `bytes` at byte `offset` of grant `gid` of `granter` with the low byte of `ch`
 * (requires CPF_WRITE). OK, a verification error, EDOM for zero bytes, EFAULT or VMSUSPEND.
 */
export function safememset(
  k: Kernel,
  caller: Proc,
  granter: Endpoint,
  gid: number,
  offset: number,
  ch: number,
  bytes: number,
): number {
  const target = verifyCopy(k, caller, granter, gid, bytes, CPF_WRITE, offset);
  if (typeof target === "number") return target;
  const gp = target.proc;
  const base = target.addr;
  fill.fill(ch & 0xff);
  for (let done = 0; done < bytes; done += FILL_CHUNK) {
    const n = Math.min(FILL_CHUNK, bytes - done);
    if (copyToProc(k, gp, (base + done) as VirAddr, fill, 0, n) !== OK) {
      return copyFaulted(k, caller, gp, base + bytes - k.faultAddr, VMSTYPE_KERNELCALL);
    }
  }
  return OK;
}
