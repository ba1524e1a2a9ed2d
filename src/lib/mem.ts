/**
 * Loads and stores in the process's own memory. An access that faults yields a page-fault
 * trap and is retried once the kernel (and VM) let the process run again; an access that
 * can never succeed ends the process with SIGSEGV in the kernel, so these never return an
 * error.
 */
import { CPU_OK, type ProcessContext } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";
import type { Syscall } from "./ipc.ts";

export function* load(ctx: ProcessContext, va: VirAddr, dst: Uint8Array): Syscall<void> {
  while (ctx.cpu.read(va, dst) !== CPU_OK) {
    yield { kind: "pagefault", addr: ctx.cpu.faultAddr, write: false };
  }
}

export function* store(ctx: ProcessContext, va: VirAddr, src: Uint8Array): Syscall<void> {
  while (ctx.cpu.write(va, src) !== CPU_OK) {
    yield { kind: "pagefault", addr: ctx.cpu.faultAddr, write: true };
  }
}
