/**
 * Naming the program a fork child starts in. A host generator cannot be duplicated, so the
 * child of a fork starts at a program of its parent's choosing, with a copy-on-write copy of
 * its memory (DESIGN §3). The program must use only the context it is given: closures over
 * the parent's context would reach the parent's memory.
 */
import type { Program } from "../include/trap.ts";
import type { Syscall } from "./ipc.ts";

/** Sets the program the next fork child starts in; OK, or EINVAL for a non-function. */
export function* setForkEntry(program: Program): Syscall {
  return yield { kind: "forkentry", program };
}
