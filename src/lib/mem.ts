/**
 * Loads and stores in the process's own memory, used with `yield*`. An access that faults
 * yields a page-fault trap and is retried once the kernel (and VM) let the process run
 * again; an access that can never succeed ends the process with SIGSEGV in the kernel, so
 * these never return an error.
 *
 * The access is made when the function is called (which `yield*` does at once); only one
 * that faults needs a generator for its retries. Every access on a message's path is one
 * that does not fault, and it costs no allocation.
 */
import { CPU_OK, type ProcessContext, type Trap, type TrapResult } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";
import { FINISHED } from "./ipc.ts";

/** A memory access, iterated with `yield*` (yields page-fault traps until it is done). */
export type MemAccess = Generator<Trap, void, TrapResult>;

export function load(ctx: ProcessContext, va: VirAddr, dst: Uint8Array): MemAccess {
  return ctx.cpu.read(va, dst) === CPU_OK ? FINISHED : loadFaulted(ctx, va, dst);
}

export function store(ctx: ProcessContext, va: VirAddr, src: Uint8Array): MemAccess {
  return ctx.cpu.write(va, src) === CPU_OK ? FINISHED : storeFaulted(ctx, va, src);
}

function* loadFaulted(ctx: ProcessContext, va: VirAddr, dst: Uint8Array): MemAccess {
  do yield { kind: "pagefault", addr: ctx.cpu.faultAddr, write: false };
  while (ctx.cpu.read(va, dst) !== CPU_OK);
}

function* storeFaulted(ctx: ProcessContext, va: VirAddr, src: Uint8Array): MemAccess {
  do yield { kind: "pagefault", addr: ctx.cpu.faultAddr, write: true };
  while (ctx.cpu.write(va, src) !== CPU_OK);
}
