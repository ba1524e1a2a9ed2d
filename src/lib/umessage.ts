/**
 * A message in the process's memory together with its local copy (the "registers" view).
 * `put` writes the local copy to memory before a trap, `get` reads memory after one.
 */
import { Message, MESSAGE_SIZE } from "../include/message.ts";
import type { ProcessContext } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";
import type { Syscall } from "./ipc.ts";
import { load, store } from "./mem.ts";

export class UMessage {
  readonly ctx: ProcessContext;
  readonly va: VirAddr;
  readonly m = new Message();

  constructor(ctx: ProcessContext, va: VirAddr) {
    this.ctx = ctx;
    this.va = va;
  }

  *put(): Syscall<void> {
    yield* store(this.ctx, this.va, this.m.bytes);
  }

  *get(): Syscall<Message> {
    yield* load(this.ctx, this.va, this.m.bytes);
    return this.m;
  }

  static readonly SIZE = MESSAGE_SIZE;
}
