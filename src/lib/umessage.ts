/**
 * A message in the process's memory together with its local copy (the "registers" view).
 * `put` writes the local copy to memory before a trap, `get` reads memory after one. Both
 * are used with `yield*` and, like `load`/`store`, copy at once: only a copy that faults
 * yields (page-fault traps). While the buffer is mapped (MappedBuffer) they copy straight
 * between the local copy and the words in memory.
 */
import { copy16, Message, MESSAGE_SIZE } from "../include/message.ts";
import { CPU_OK, type ProcessContext } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";
import { FINISHED, Returned, type Syscall } from "./ipc.ts";
import { MappedBuffer } from "./mapped.ts";
import { load, store, type MemAccess } from "./mem.ts";

export class UMessage {
  readonly ctx: ProcessContext;
  readonly va: VirAddr;
  readonly m = new Message();
  readonly #got = new Returned(this.m);
  readonly #mapped: MappedBuffer;

  constructor(ctx: ProcessContext, va: VirAddr) {
    this.ctx = ctx;
    this.va = va;
    this.#mapped = new MappedBuffer(ctx.cpu, va, MESSAGE_SIZE);
  }

  put(): MemAccess {
    return this.putNow() ? FINISHED : store(this.ctx, this.va, this.m.bytes);
  }

  get(): Syscall<Message> {
    return this.getNow() ? this.#got : this.#getFaulted();
  }

  /**
   * `put` without `yield*`: true when the message is stored; false when the store faulted
   * (then `yield* put()` stores it). For loops where every `yield*` counts.
   */
  putNow(): boolean {
    const w = this.#mapped.words();
    if (w === null) return this.ctx.cpu.writeWords(this.va, this.m.words) === CPU_OK;
    copy16(w, 0, this.m.words, 0);
    return true;
  }

  /**
   * The buffer's words in memory while it is mapped (MappedBuffer), for loads and stores
   * without a copy; else null (then `put`/`get`).
   */
  inMemory(): Uint32Array | null {
    return this.#mapped.words();
  }

  /** `get` without `yield*`: true when loaded; false when the load faulted (then `get`). */
  getNow(): boolean {
    const w = this.#mapped.words();
    if (w === null) return this.ctx.cpu.readWords(this.va, this.m.words) === CPU_OK;
    copy16(this.m.words, 0, w, 0);
    return true;
  }

  *#getFaulted(): Syscall<Message> {
    yield* load(this.ctx, this.va, this.m.bytes);
    return this.m;
  }

  static readonly SIZE = MESSAGE_SIZE;
}
