/**
 * Per-process library state (what libc keeps in static data): a bump allocator over the
 * data area the loader mapped, and a scratch message for library calls.
 */
import { MESSAGE_SIZE } from "../include/message.ts";
import type { ProcessContext } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";
import { UMessage } from "./umessage.ts";

export class Heap {
  #next: number;
  readonly #end: number;

  constructor(base: VirAddr, size: number) {
    this.#next = base;
    this.#end = base + size;
  }

  /** Reserves `size` bytes aligned to `align`; throws (a crash) when the data area is full. */
  alloc(size: number, align = 8): VirAddr {
    const at = Math.ceil(this.#next / align) * align;
    if (at + size > this.#end) throw new RangeError(`Out of memory: ${size} bytes`);
    this.#next = at + size;
    return at as VirAddr;
  }

  get free(): number {
    return this.#end - this.#next;
  }
}

interface LibState {
  readonly heap: Heap;
  readonly scratch: UMessage;
}

const states = new WeakMap<ProcessContext, LibState>();

/** The library state of the process owning `ctx`, created on first use. */
export function lib(ctx: ProcessContext): LibState {
  let s = states.get(ctx);
  if (s === undefined) {
    const heap = new Heap(ctx.heapBase, ctx.heapSize);
    s = { heap, scratch: new UMessage(ctx, heap.alloc(MESSAGE_SIZE, 64)) };
    states.set(ctx, s);
  }
  return s;
}

/** Allocates `size` bytes in the process's data area. */
export function malloc(ctx: ProcessContext, size: number, align = 8): VirAddr {
  return lib(ctx).heap.alloc(size, align);
}
