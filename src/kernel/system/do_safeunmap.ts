/**
 * SYS_SAFEUNMAP: a grantee removes its mappings at an address.
 *
 * Caller:  the grantee.
 * Request: address — where the mapping starts in the caller.
 * Reply:   status: OK when none is left (also when there was none); the first error: a grant
 *          that no longer verifies with CPF_MAP (that mapping stays), ENOMEM from VM.
 * The caller keeps a private copy of the pages (VMPTYPE_SUNMAP); one VM request per mapping,
 * the call re-executed until none is left (mapinfo.ts).
 * MINIX:   minix/kernel/system/do_safemap.c `do_safeunmap` (MINIX-SPEC §4.6)
 */
import type { Kernel } from "../kernel.ts";
import { safeunmapPass } from "../mapinfo.ts";
import type { Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";

export function doSafeunmap(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SAFEUNMAP">): number {
  const address: number = m.req.address;
  return safeunmapPass(k, caller, (r) => r.grantee === caller.endpoint && r.address === address);
}
