/**
 * PM's state and its two ways of answering: a reply to a request (SENDNB, so PM never blocks
 * on a process that did not SENDREC), and EDONTREPLY for requests that wait (waitpid, pause)
 * or end the caller (exit, a successful exec).
 */
import { INIT_PROC_NR, RS_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { EDONTREPLY } from "../../include/errno.ts";
import type { FieldKind, Layout } from "../../include/message.ts";
import { PM_CALLS, type PmCallName, type PmReply } from "../../include/pm.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { sendnb, type Syscall } from "../../lib/ipc.ts";
import { malloc } from "../../lib/runtime.ts";
import { UMessage } from "../../lib/umessage.ts";
import { ProcTable, type Mproc } from "./mproc.ts";

/** A handler's answer: reply fields (status OK), a status alone, or EDONTREPLY. */
export type PmAnswer<K extends PmCallName> = PmReply<K> | number;

export const NO_REPLY = EDONTREPLY;

/** Pages of a program's image when PM's arguments do not name its size. */
export const DEFAULT_IMAGE_PAGES = 1;

export class Pm {
  readonly ctx: ProcessContext;
  readonly table: ProcTable;
  /** Image sizes by program name (PM's arguments `name:pages`); others get the default. */
  readonly imagePages: ReadonlyMap<string, number>;
  readonly #reply: UMessage;
  /** Where the round-robin search for a free slot starts. */
  nextSlot = 0;

  constructor(ctx: ProcessContext, nrProcs: number, imagePages: ReadonlyMap<string, number>) {
    this.ctx = ctx;
    this.table = new ProcTable(nrProcs);
    this.imagePages = imagePages;
    this.#reply = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  }

  get init(): Mproc | undefined {
    const mp = this.table.procs[INIT_PROC_NR];
    return mp?.inUse === true ? mp : undefined;
  }

  /** True when `mp` is RS (the only caller of the srv_* requests). */
  isRs(mp: Mproc): boolean {
    return mp.slot === (RS_PROC_NR as number) && mp.alive;
  }

  /** Replies to `to` for `call`: a status, or OK with the reply fields. */
  *reply<K extends PmCallName>(to: Endpoint, call: K, answer: PmAnswer<K>): Syscall<void> {
    if (answer === NO_REPLY) return;
    const layout: Layout<Readonly<Record<string, FieldKind>>> = PM_CALLS[call].reply;
    if (typeof answer === "number") {
      this.#reply.m.set(answer, layout, {});
    } else {
      this.#reply.m.set(0, layout, answer);
    }
    yield* this.#reply.put();
    yield* sendnb(to, this.#reply.va);
  }

  /** Replies a bare status (for requests PM cannot decode). */
  *replyStatus(to: Endpoint, status: number): Syscall<void> {
    this.#reply.m.clear();
    this.#reply.m.type = status;
    yield* this.#reply.put();
    yield* sendnb(to, this.#reply.va);
  }
}
