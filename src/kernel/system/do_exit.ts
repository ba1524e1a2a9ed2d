/**
 * SYS_EXIT: a system process asks to exit; the kernel raises SIGABRT on it through its
 * signal manager (without a live manager it is terminated at once).
 *
 * Caller:  every process with SYS_EXIT in its call mask.
 * Request: none.
 * Reply:   none (EDONTREPLY).
 * MINIX:   minix/kernel/system/do_exit.c (R era)
 */
import { EDONTREPLY } from "../../include/errno.ts";
import { SIGABRT } from "../../include/signal.ts";
import type { Kernel } from "../kernel.ts";
import type { Proc } from "../proc.ts";
import { causeSig } from "../signal.ts";
import type { KcallMsg } from "../system.ts";

export function doExit(k: Kernel, caller: Proc, _m: KcallMsg<"SYS_EXIT">): number {
  causeSig(k, caller, SIGABRT);
  return EDONTREPLY;
}
