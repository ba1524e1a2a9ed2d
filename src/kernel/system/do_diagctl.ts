/**
 * SYS_DIAGCTL: print bytes from the caller's memory on the console (kernel messages of
 * MINIX's `kputc`/later `sys_diagctl`, slot 30 which the A-era table leaves free).
 *
 * Caller:  every process with SYS_DIAGCTL in its call mask.
 * Request: buf — address in the caller; len — 0..DIAG_MAX_LEN bytes, else EINVAL.
 * Reply:   status; EFAULT when the buffer cannot be made present.
 * MINIX:   minix/kernel/system/do_diagctl.c (3.2)
 */
import { EINVAL, OK } from "../../include/errno.ts";
import type { Kernel } from "../kernel.ts";
import { copyFromProc } from "../memory.ts";
import { VMSTYPE_KERNELCALL, type Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";
import { copyFaulted } from "../vmrequest.ts";

export const DIAG_MAX_LEN = 4096;
const decoder = new TextDecoder();

export function doDiagctl(k: Kernel, caller: Proc, m: KcallMsg<"SYS_DIAGCTL">): number {
  // Check.
  const { buf, len } = m.req;
  if (len < 0 || len > DIAG_MAX_LEN) return EINVAL;
  const bytes = new Uint8Array(len);
  if (copyFromProc(k, caller, buf, bytes, 0, len) !== OK) {
    return copyFaulted(k, caller, caller, buf + len - k.faultAddr, VMSTYPE_KERNELCALL);
  }

  // Act.
  const text = decoder.decode(bytes);
  k.hw.console.write(text);
  if (k.tracing) k.emit({ kind: "console", t: k.hw.clock.cycles, text });
  return OK;
}
