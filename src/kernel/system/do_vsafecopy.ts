/**
 * SYS_VSAFECOPY: several safe copies in one call. Each element names SELF on one side and the
 * granter on the other: `from === SELF` copies caller → granter (CPF_WRITE), `to === SELF`
 * granter → caller (CPF_READ).
 *
 * Caller:  every process with the call in its mask.
 * Request: vecAddr — array of VSCP_VEC elements in the caller; vecSize — 0..SCPVEC_NR.
 * Reply:   status of the first failing element (earlier ones stay done), else OK; EINVAL for
 *          a vector longer than SCPVEC_NR or an element with neither side SELF; EFAULT when
 *          the vector cannot be read. `done`: elements completed (on an error, the index of
 *          the element that failed).
 * MINIX:   minix/kernel/system/do_safecopy.c `do_vsafecopy` (bounded: recommended fix §4.4)
 *
 * A VM suspension re-executes the whole call from the saved message, so elements before the
 * one that faulted are copied again (as in MINIX); the result equals one pass unless an
 * element writes memory that an earlier element reads.
 */
import { SELF, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, OK } from "../../include/errno.ts";
import { CPF_READ, CPF_WRITE, SCPVEC_NR, VSCP_VEC } from "../../include/grant.ts";
import type { Kernel } from "../kernel.ts";
import { copyFromProc } from "../memory.ts";
import { VMSTYPE_KERNELCALL, type Proc } from "../proc.ts";
import { safecopy } from "../safecopy.ts";
import type { KcallMsg } from "../system.ts";
import { copyFaulted } from "../vmrequest.ts";

const vec = new Uint8Array(SCPVEC_NR * VSCP_VEC.size);
const view = new DataView(vec.buffer);
const F = VSCP_VEC.offsets;

export function doVsafecopy(k: Kernel, caller: Proc, m: KcallMsg<"SYS_VSAFECOPY">): number {
  // Check.
  const { vecAddr, vecSize } = m.req;
  if (vecSize < 0 || vecSize > SCPVEC_NR) return EINVAL;
  const len = vecSize * VSCP_VEC.size;
  if (copyFromProc(k, caller, vecAddr, vec, 0, len) !== OK) {
    return copyFaulted(k, caller, caller, vecAddr + len - k.faultAddr, VMSTYPE_KERNELCALL);
  }

  // Act, element by element.
  for (let i = 0; i < vecSize; i++) {
    const base = i * VSCP_VEC.size;
    const from = view.getInt32(base + F.from, true);
    const to = view.getInt32(base + F.to, true);
    const gid = view.getInt32(base + F.gid, true);
    const offset = view.getUint32(base + F.offset, true);
    const addr = view.getUint32(base + F.addr, true);
    const bytes = view.getUint32(base + F.bytes, true);
    let r: number;
    if (from === SELF) r = safecopy(k, caller, to as Endpoint, gid, bytes, offset, addr, CPF_WRITE);
    else if (to === SELF)
      r = safecopy(k, caller, from as Endpoint, gid, bytes, offset, addr, CPF_READ);
    else r = EINVAL;
    if (r !== OK) {
      m.reply({ vecAddr, vecSize, done: i });
      return r;
    }
  }
  m.reply({ vecAddr, vecSize, done: vecSize });
  return OK;
}
