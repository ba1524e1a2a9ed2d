/**
 * SYS_SAFEREVMAP: a grantor revokes mappings of its memory.
 *
 * Caller:  the grantor (the final granter whose memory is mapped).
 * Request: flag 1 — every mapping made through grant id `arg`; flag 0 — every mapping of the
 *          caller's memory starting at address `arg`.
 * Reply:   status: OK when none is left (also when there was none); the first error: a grant
 *          that no longer verifies with CPF_MAP (that mapping stays), ENOMEM from VM.
 * Each mapping ends with a private copy for the grantee (VMPTYPE_SUNMAP); the caller is
 * suspended once per mapping and the call re-executed until none is left (mapinfo.ts).
 * MINIX:   minix/kernel/system/do_safemap.c `do_saferevmap` (MINIX-SPEC §4.6)
 */
import type { Kernel } from "../kernel.ts";
import { safeunmapPass } from "../mapinfo.ts";
import type { Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";

export function doSaferevmap(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SAFEREVMAP">): number {
  const { flag, arg } = m.req;
  const byGid = flag !== 0;
  return safeunmapPass(
    k,
    caller,
    (r) => r.grantor === caller.endpoint && (byGid ? r.gid === (arg | 0) : r.addressD === arg),
  );
}
