/**
 * SYS_ABORT: a system process halts the machine with a message (a server's `panic()`, e.g. RS
 * when a core service cannot be restarted or the boot tables do not match the image).
 *
 * Caller:  a system process (SYS_PROC), else EPERM.
 * Request: buf, len — the message in the caller's memory, 0..ABORT_MAX_LEN bytes (EINVAL).
 * Reply:   none: the machine halts with "panic: <caller>: <message>" (EFAULT when the
 *          message cannot be made present).
 * MINIX:   minix/kernel/system/do_abort.c (`RBT_PANIC`)
 */
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import { copyFromProc } from "../memory.ts";
import { panic } from "../panic.ts";
import { SYS_PROC } from "../priv.ts";
import { VMSTYPE_KERNELCALL, type Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";
import { copyFaulted } from "../vmrequest.ts";

export const ABORT_MAX_LEN = 256;

export function doAbort(k: Kernel, caller: Proc, m: KcallMsg<"SYS_ABORT">): number {
  // Check.
  if (caller.priv === null || (caller.priv.flags & SYS_PROC) === 0) return EPERM;
  const { buf, len } = m.req;
  if (len < 0 || len > ABORT_MAX_LEN) return EINVAL;
  const bytes = new Uint8Array(len);
  if (copyFromProc(k, caller, buf, bytes, 0, len) !== OK) {
    return copyFaulted(k, caller, caller, buf + len - k.faultAddr, VMSTYPE_KERNELCALL);
  }

  // Act: the machine stops here.
  return panic(`${caller.name}: ${new TextDecoder().decode(bytes)}`);
}
