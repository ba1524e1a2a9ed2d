/**
 * SYS_SAFECOPYFROM / SYS_SAFECOPYTO: copy between the caller and memory another process
 * granted it, after verifying the grant (indirect grants followed to the final granter).
 *
 * Caller:  every process with the call in its mask.
 * Request: granter — the process that made the grant; gid — grant id; offset — in the grant;
 *          address — in the caller; bytes — how many.
 * Reply:   status: OK; EINVAL (bad granter, negative id); EPERM (no table, bad or revoked
 *          id, wrong grantee, missing CPF_READ/CPF_WRITE, range outside the grant); ELOOP
 *          (indirect chain too long); EDOM (zero bytes); EFAULT (memory VM cannot provide).
 * MINIX:   minix/kernel/system/do_safecopy.c `do_safecopy_from`, `do_safecopy_to`
 */
import { CPF_READ, CPF_WRITE } from "../../include/grant.ts";
import type { Kernel } from "../kernel.ts";
import type { Proc } from "../proc.ts";
import { safecopy } from "../safecopy.ts";
import type { KcallMsg } from "../system.ts";

/** Data flows granter → caller; needs CPF_READ. */
export function doSafecopyFrom(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SAFECOPYFROM">): number {
  const { granter, gid, offset, address, bytes } = m.req;
  return safecopy(k, caller, granter, gid, bytes, offset, address, CPF_READ, true);
}

/** Data flows caller → granter; needs CPF_WRITE. */
export function doSafecopyTo(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SAFECOPYTO">): number {
  const { granter, gid, offset, address, bytes } = m.req;
  return safecopy(k, caller, granter, gid, bytes, offset, address, CPF_WRITE, true);
}
