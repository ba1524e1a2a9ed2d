/**
 * SYS_PRIVCTL: give, take away or set the privileges of a process.
 *
 * Caller:  a system process (SYS_PROC), else EPERM.
 * Request: endpt — target (SELF allowed; invalid → EINVAL); request — SYS_PRIV_ALLOW,
 *          SYS_PRIV_DISALLOW, SYS_PRIV_SET_SYS, SYS_PRIV_SET_USER; argPtr — optional
 *          PRIV_ARG for SET_SYS (0 = defaults).
 * Reply:   status. ALLOW needs RTS_NO_PRIV and an owned structure (EPERM); DISALLOW needs the
 *          process to be allowed (EPERM); SET_* need RTS_NO_PRIV (EPERM); SET_SYS can fail
 *          with ENOSPC/EINVAL/EBUSY from the id allocation. The I/O, memory and IRQ requests
 *          are not implemented yet (EINVAL).
 * MINIX:   minix/kernel/system/do_privctl.c (B era)
 */
import { RS_PROC_NR, SELF } from "../../include/endpoint.ts";
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import {
  PRIV_ARG,
  SYS_PRIV_ALLOW,
  SYS_PRIV_DISALLOW,
  SYS_PRIV_SET_SYS,
  SYS_PRIV_SET_USER,
} from "../../include/kcall.ts";
import type { Fields } from "../../include/message.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Kernel } from "../kernel.ts";
import { copyFromProc } from "../memory.ts";
import {
  DYN_PRIV_ID,
  NO_OWNER,
  NULL_PRIV_ID,
  PREEMPTIBLE,
  SYS_PROC,
  USER_PRIV_ID,
  setSendtoBit,
  unsetSendtoBit,
  type Priv,
} from "../priv.ts";
import { RTS_NO_PRIV, VMSTYPE_KERNELCALL, type Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";
import { copyFaulted } from "../vmrequest.ts";

/** `DEF_SYS_F`: flags of a system process set up without an argument. */
export const DEF_SYS_F = SYS_PROC | PREEMPTIBLE | DYN_PRIV_ID;

export function doPrivctl(k: Kernel, caller: Proc, m: KcallMsg<"SYS_PRIVCTL">): number {
  // Check.
  if (caller.priv === null || (caller.priv.flags & SYS_PROC) === 0) return EPERM;
  const { endpt, request, argPtr } = m.req;
  const target = endpt === SELF ? caller : k.isokendpt(endpt);
  if (target === undefined || target.isKernelTask) return EINVAL;
  const noPriv = (target.rtsFlags & RTS_NO_PRIV) !== 0;

  switch (request) {
    case SYS_PRIV_ALLOW:
      if (!noPriv || target.priv === null || target.priv.isFree) return EPERM;
      k.clearRts(target, RTS_NO_PRIV);
      return OK;
    case SYS_PRIV_DISALLOW:
      if (noPriv) return EPERM;
      k.setRts(target, RTS_NO_PRIV);
      return OK;
    case SYS_PRIV_SET_USER: {
      if (!noPriv) return EPERM;
      const user = k.privs.byId(USER_PRIV_ID);
      if (user === undefined) return EINVAL;
      releaseOwnPriv(k, target);
      target.priv = user;
      return OK;
    }
    case SYS_PRIV_SET_SYS:
      return setSys(k, caller, target, argPtr, noPriv);
    default:
      return EINVAL;
  }
}

function setSys(k: Kernel, caller: Proc, target: Proc, argPtr: VirAddr, noPriv: boolean): number {
  // Check.
  if (!noPriv) return EPERM;
  let arg: Fields<typeof PRIV_ARG.fields> | undefined;
  if (argPtr !== 0) {
    const bytes = new Uint8Array(PRIV_ARG.size);
    if (copyFromProc(k, caller, argPtr, bytes, 0, bytes.length) !== OK) {
      return copyFaulted(
        k,
        caller,
        caller,
        argPtr + bytes.length - k.faultAddr,
        VMSTYPE_KERNELCALL,
      );
    }
    arg = PRIV_ARG.read(new DataView(bytes.buffer));
  }
  const old = ownPriv(target);
  const wantId = arg !== undefined && (arg.flags & DYN_PRIV_ID) === 0 ? arg.id : NULL_PRIV_ID;
  // The target's own structure, if any, is given up, so its id may be claimed again. Its
  // alarm leaves the timer queue first (a reset structure must not stay queued).
  const oldAlarm = old?.alarmAt ?? -1;
  if (old !== null) {
    k.timers.cancel(old);
    old.procNr = NO_OWNER;
  }
  const claimed = k.privs.claim(target.nr, wantId);
  if (typeof claimed === "number") {
    if (old !== null) {
      old.procNr = target.nr;
      if (oldAlarm >= 0) k.timers.set(old, oldAlarm);
    }
    return claimed;
  }

  // Act.
  if (old !== null && old !== claimed) old.reset();
  const p: Priv = claimed;
  p.kCallMask.setAll();
  p.flags = DEF_SYS_F;
  p.trapMask = 0xffffffff;
  p.sigMgr = RS_PROC_NR;
  p.ipcTo.setAll();
  p.ipcTo.clear(USER_PRIV_ID);
  if (arg !== undefined) {
    p.flags = arg.flags;
    p.sigMgr = arg.sigMgr;
    p.trapMask = arg.trapMask;
    p.ipcTo.clearAll();
    for (let i = 0; i < 32; i++) if (((arg.ipcTo >>> i) & 1) !== 0) p.ipcTo.set(i);
    p.kCallMask.clearAll();
    for (let i = 0; i < 64; i++) {
      const word = i < 32 ? arg.kCallMask0 : arg.kCallMask1;
      if (((word >>> (i & 31)) & 1) !== 0) p.kCallMask.set(i);
    }
  }
  target.priv = p;
  for (let id = 0; id < k.privs.size; id++) {
    if (p.ipcTo.has(id)) setSendtoBit(k.privs, p, id);
    else unsetSendtoBit(k.privs, p, id);
  }
  return OK;
}

/** The structure `p` owns, or null when it uses a shared one (or none). */
function ownPriv(p: Proc): Priv | null {
  return p.priv !== null && p.priv.procNr === p.nr && (p.priv.flags & SYS_PROC) !== 0
    ? p.priv
    : null;
}

function releaseOwnPriv(k: Kernel, p: Proc): void {
  const own = ownPriv(p);
  if (own === null) return;
  k.timers.cancel(own);
  own.reset();
}
