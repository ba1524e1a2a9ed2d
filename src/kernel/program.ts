/**
 * Starting a program for a process (boot, SYS_FORK's child, SYS_EXEC). Programs come from
 * user space, so the call is guarded: what throws, or returns something that is not an
 * iterator, is refused.
 */
import type { Program, ProcessContext, SigEntry, Trap, TrapResult } from "../include/trap.ts";

export function startProgram(
  program: Program,
  ctx: ProcessContext,
): Generator<Trap, number, TrapResult> | undefined {
  try {
    const gen: unknown = program(ctx);
    if (typeof gen !== "object" || gen === null) return undefined;
    if (typeof (gen as { next?: unknown }).next !== "function") return undefined;
    return gen as Generator<Trap, number, TrapResult>;
  } catch {
    return undefined;
  }
}

/** Starts a signal entry for `sig`, guarded like `startProgram`. */
export function startSigEntry(
  entry: SigEntry,
  ctx: ProcessContext,
  sig: number,
): Generator<Trap, number, TrapResult> | undefined {
  return startProgram((c) => entry(c, sig), ctx);
}
