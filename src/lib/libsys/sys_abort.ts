/**
 * `sys_abort` / a server's `panic()`: halt the machine with a message (system processes only;
 * the kernel answers EPERM to others, and the call then returns that status).
 * MINIX: lib/libsys/sys_abort.c, lib/libsys/panic.c.
 */
import type { ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../ipc.ts";
import { store } from "../mem.ts";
import { malloc } from "../runtime.ts";
import { kernelCall } from "./kernel_call.ts";

/** Bytes of the message the kernel accepts. */
const ABORT_MAX_LEN = 256;

export function* sysAbort(ctx: ProcessContext, message: string): Syscall {
  const bytes = new TextEncoder().encode(message).subarray(0, ABORT_MAX_LEN);
  const buf = malloc(ctx, Math.max(bytes.length, 1));
  yield* store(ctx, buf, bytes);
  return (yield* kernelCall(ctx, "SYS_ABORT", { buf, len: bytes.length })).status;
}
