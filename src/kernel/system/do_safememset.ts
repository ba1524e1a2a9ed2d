/**
 * SYS_SAFEMEMSET: fill memory another process granted the caller with one byte value.
 *
 * Caller:  every process with the call in its mask.
 * Request: granter, gid, offset (in the grant), char (its low byte is written), bytes.
 * Reply:   status as SYS_SAFECOPYTO (the grant needs CPF_WRITE; zero bytes is EDOM).
 * MINIX:   minix/kernel/system/do_safememset.c (2012; not in the 2009–2011 era)
 */
import type { Kernel } from "../kernel.ts";
import type { Proc } from "../proc.ts";
import { safememset } from "../safecopy.ts";
import type { KcallMsg } from "../system.ts";

export function doSafememset(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SAFEMEMSET">): number {
  const { granter, gid, offset, char, bytes } = m.req;
  return safememset(k, caller, granter, gid, offset, char, bytes);
}
