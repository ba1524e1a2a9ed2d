/**
 * SYS_SAFEMAP: map pages another process granted (CPF_MAP) at an address of the caller's.
 *
 * Caller:  every process allowed the call.
 * Request: grantor — the granter; gid, offset — grant and byte offset in it; address — where
 *          in the caller (page aligned); bytes — length (a positive page multiple); flag —
 *          non-zero for a writable mapping.
 * Reply:   status. EINVAL for an unaligned address or length, or granted memory that does not
 *          start on a page; the grant's errors (needs CPF_MAP|CPF_READ, plus CPF_WRITE when
 *          writable); EBUSY when MAX_MAP_INFO mappings exist; else VM's result (EFAULT for
 *          memory outside a region, ENOMEM). The caller's old pages in the range are dropped.
 * The caller is suspended while VM maps (VMPTYPE_SMAP) and the call is re-executed to report
 * VM's status (MINIX completed it with OK at once and never reported VM's result). If the
 * mapping was revoked, or the grant no longer verifies, by the time VM is done, it is
 * unmapped again at once (VMPTYPE_SUNMAP; the caller keeps a private copy) and the call
 * returns OK or the grant's error: no mapping outlives a revocation. If the record itself is
 * gone by then (the grantor died and its records were dropped), the call returns EINVAL even
 * when VM mapped: the kernel keeps no record of that mapping.
 * MINIX:   minix/kernel/system/do_safemap.c `do_safemap` (MINIX-SPEC §4.6)
 */
import { EINVAL, ENOMEM, OK, VMSUSPEND } from "../../include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../../include/grant.ts";
import { VMPTYPE_SMAP, VMPTYPE_SUNMAP } from "../../include/kcall.ts";
import { PAGE_SIZE } from "../../hw/memory.ts";
import { verifyGrant, type GrantTarget } from "../grant.ts";
import type { Kernel } from "../kernel.ts";
import { setPending, takePending, type MapRecord } from "../mapinfo.ts";
import type { Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";
import { vmSuspendMap } from "../vmrequest.ts";

export function doSafemap(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SAFEMAP">): number {
  const { grantor, gid, offset, address, bytes, flag } = m.req;
  const writable = flag !== 0;
  const access = CPF_MAP | CPF_READ | (writable ? CPF_WRITE : 0);
  // Third pass: a map undone again (see below) is over.
  const undone = takePending(k, caller, "undo");
  if (undone?.record != null) {
    // Out of memory for the private copy: the pages stay shared, so the record stays too.
    undone.record.busy = null;
    if (caller.vmreq.result === ENOMEM) return ENOMEM;
    k.mapinfo.remove(undone.record);
    return undone.status ?? OK;
  }
  // Second pass: VM has answered the map request.
  const done = takePending(k, caller, "smap");
  if (done?.record != null) {
    const rec = done.record;
    const res = caller.vmreq.result;
    if (!k.mapinfo.has(rec)) return res === OK ? EINVAL : res;
    rec.busy = null;
    if (res !== OK) {
      k.mapinfo.remove(rec);
      return res;
    }
    rec.mapped = true;
    // Revoked meanwhile (saferevmap, cpfRevoke): no mapping may outlive that. Unmap it
    // again (the caller keeps a private copy); OK if only the mapping was revoked, the
    // grant's error if the grant went too.
    const again: GrantTarget = { proc: caller, addr: 0 };
    const v = verifyGrant(k, grantor, caller.endpoint, gid, bytes, access, offset, again);
    const grantorProc = k.isokendpt(rec.grantor);
    if ((rec.revoked || v !== OK) && grantorProc !== undefined) {
      vmSuspendMap(k, caller, VMPTYPE_SUNMAP, caller, address, grantorProc, rec.addressD, bytes, 0);
      setPending(k, caller, { kind: "undo", record: rec, status: v });
      return VMSUSPEND;
    }
    return OK;
  }

  // Check.
  if (address % PAGE_SIZE !== 0 || bytes === 0 || bytes % PAGE_SIZE !== 0) return EINVAL;
  if (address + bytes > 0x1_0000_0000) return EINVAL;
  const target: GrantTarget = { proc: caller, addr: 0 };
  const r = verifyGrant(k, grantor, caller.endpoint, gid, bytes, access, offset, target);
  if (r !== OK) return r;
  if (target.addr % PAGE_SIZE !== 0) return EINVAL;
  const vm = k.vmProc();
  if (vm === undefined || vm === caller || vm === target.proc) return EINVAL;
  const rec: MapRecord = {
    grantor: target.proc.endpoint,
    addressD: target.addr,
    named: grantor,
    gid,
    offset,
    grantee: caller.endpoint,
    address,
    bytes,
    mapped: false,
    busy: null,
    revoked: false,
  };
  const added = k.mapinfo.add(rec);
  if (added !== OK) return added;

  // Act: VM maps; the call is re-executed with its result.
  const flagValue = writable ? 1 : 0;
  vmSuspendMap(
    k,
    caller,
    VMPTYPE_SMAP,
    caller,
    address,
    target.proc,
    target.addr,
    bytes,
    flagValue,
  );
  setPending(k, caller, { kind: "smap", record: rec });
  return VMSUSPEND;
}
