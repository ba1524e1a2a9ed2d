/**
 * DS's request loop (MINIX servers/ds/main.c `main`): receive, read the key through the
 * caller's key grant, run the handler, journal what changed, answer with SENDNB (the caller
 * waits in SENDREC), then wake the subscribers the request touched and free what the store
 * let go of. SEF messages go to SEF, other notifications are ignored, unknown requests are
 * answered ENOSYS.
 *
 * The loop is DS's program itself, a hand-written iterator the kernel resumes directly: the
 * usual request (message present, key read, handler answering at once, nothing to flush,
 * nobody to wake) makes its three traps — RECEIVE, the key's SYS_SAFECOPYFROM (KeyRead),
 * SENDNB — with no generator resumed (as a generator, the loop cost about 150 ns more per
 * publish-and-retrieve pair, some 5% of it). Every other step is an existing generator
 * (`um.get`, `sefHandle`, a handler that traps, `flushJournal`, `um.put`, `afterReply`) that
 * the loop drives until it returns and then carries on where a generator loop would have.
 */
import { ANY, NONE, type Endpoint } from "../../include/endpoint.ts";
import { ENOSYS, OK } from "../../include/errno.ts";
import { DS_CALL_NR, DS_CALLS, DS_RQ_BASE, type DsCallName, type DsReq } from "../../include/ds.ts";
import { isIpcNotify, RECEIVE, SENDNB } from "../../include/ipc.ts";
import type { FieldKind, Layout } from "../../include/message.ts";
import type { Trap, TrapResult } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import { ipcTrap, isSyscall, type Syscall } from "../../lib/ipc.ts";
import { sefHandle, sefOwns } from "../../lib/sef.ts";
import { flushJournal } from "./persist.ts";
import { dsCalls, numAnswer, writeNumAnswer, type DsAnswer } from "./requests.ts";
import type { DsServer, KeyRead } from "./server.ts";

/** A DS call as the loop serves it (typed for a request known only at run time). */
interface Served {
  readonly key: boolean;
  /** The request's fields, read in place in DS's message: read before the reply is written. */
  readonly req: DsReq<DsCallName>;
  readonly reply: Layout<Readonly<Record<string, FieldKind>>>;
  readonly handle: (
    ds: DsServer,
    caller: Endpoint,
    req: DsReq<DsCallName>,
    key: string,
  ) => DsAnswer<DsCallName> | Syscall<DsAnswer<DsCallName>>;
}

/** The calls indexed by `m_type - DS_RQ_BASE`, reading their requests from `view`. */
function servedCalls(view: DataView): readonly Served[] {
  const out: Served[] = [];
  for (const [name, nr] of Object.entries(DS_CALL_NR) as [DsCallName, number][]) {
    out[nr - DS_RQ_BASE] = {
      key: dsCalls[name].key,
      req: DS_CALLS[name].req.overlay(view),
      reply: DS_CALLS[name].reply,
      // The one cast: the handler is looked up by a name only known at run time.
      handle: dsCalls[name].handle as Served["handle"],
    };
  }
  return out;
}

// The loop's states: where the next `next(r)` carries on.
/** Yield the RECEIVE. */
const RECEIVE_NEXT = 0;
/** `r` is RECEIVE's result: read the message. */
const RECEIVED = 1;
/** The message is read: SEF's, a notification, or a request. */
const DISPATCH = 2;
/** The key is being read (KeyRead); `r` is its trap's result. */
const KEY = 3;
/** The key is read: run the handler. */
const HANDLE = 4;
/** The answer is in `#answer`: journal, then write it into the message. */
const ANSWERED = 5;
const WRITE = 6;
/** The reply message is written: store it. */
const REPLY = 7;
/** Yield the SENDNB. */
const SEND = 8;
/** `r` is SENDNB's result (ignored): wake and free, then receive again. */
const SENT = 9;
/** A generator (`#slow`) is running; when it returns, the loop goes to `#after`. */
const SLOW = 10;
/** DS is starting (`#boot`); it serves requests once that returns a server. */
const BOOT = 11;

/**
 * The program of DS: runs `boot` (start through SEF; null when DS cannot start, and the
 * program exits with 1), then serves requests for ever.
 */
export class DsLoop implements Generator<Trap, number, TrapResult> {
  #boot: Syscall<DsServer | null> | null;
  #ds: DsServer | null = null;
  #calls: readonly Served[] = [];
  // The loop's own RECEIVE and SENDNB records and their yields (see ipcTrap).
  readonly #rx = ipcTrap(RECEIVE, ANY, 0 as VirAddr);
  readonly #reply = ipcTrap(SENDNB, NONE, 0 as VirAddr);
  readonly #rxYield: IteratorYieldResult<Trap> = { done: false, value: this.#rx };
  readonly #replyYield: IteratorYieldResult<Trap> = { done: false, value: this.#reply };
  #state = BOOT;
  #caller: Endpoint = NONE;
  #call: Served | null = null;
  #key = "";
  #answer: DsAnswer<DsCallName> | null = null;
  #reading: KeyRead | null = null;
  #slow: Syscall<unknown> | null = null;
  #after = RECEIVE_NEXT;

  constructor(boot: Syscall<DsServer | null>) {
    this.#boot = boot;
  }

  /** Whether DS started; if so the loop serves `ds` from now on. */
  #started(ds: DsServer | null): boolean {
    this.#boot = null;
    if (ds === null) return false;
    this.#ds = ds;
    this.#calls = servedCalls(ds.um.m.view);
    this.#rx.msg = ds.um.va;
    this.#reply.msg = ds.um.va;
    this.#state = RECEIVE_NEXT;
    return true;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(r: TrapResult = OK): IteratorResult<Trap, number> {
    if (this.#state === BOOT) {
      const step = this.#boot!.next(r);
      if (step.done !== true) return step;
      if (!this.#started(step.value)) return { done: true, value: 1 };
      r = OK; // a fresh iterator ignores its first argument
    }
    const ds = this.#ds!;
    const um = ds.um;
    const m = um.m;
    for (;;) {
      switch (this.#state) {
        case RECEIVE_NEXT:
          this.#state = RECEIVED;
          return this.#rxYield;
        case RECEIVED:
          if (r !== OK) {
            this.#state = RECEIVE_NEXT;
          } else if (um.getNow()) {
            this.#state = DISPATCH;
          } else {
            this.#runSlow(um.get(), DISPATCH);
          }
          break;
        case DISPATCH: {
          const status = this.#rx.status;
          if (sefOwns(ds.ctx, m, status)) {
            this.#runSlow(sefHandle(ds.ctx, m, status), RECEIVE_NEXT);
            break;
          }
          if (isIpcNotify(status)) {
            this.#state = RECEIVE_NEXT;
            break;
          }
          this.#caller = m.source;
          const i = m.type - DS_RQ_BASE;
          const call = i >= 0 && i < this.#calls.length ? this.#calls[i]! : null;
          this.#call = call;
          if (call === null) {
            m.type = ENOSYS;
            this.#state = REPLY;
          } else if (call.key) {
            this.#reading = ds.readKey(this.#caller, call.req.keyGrant, call.req.keyLen);
            this.#state = KEY;
          } else {
            this.#key = "";
            this.#state = HANDLE;
          }
          break;
        }
        case KEY: {
          const step = this.#reading!.next(r);
          if (step.done !== true) return step;
          if (typeof step.value === "number") {
            m.type = step.value;
            this.#state = REPLY;
          } else {
            this.#key = step.value;
            this.#state = HANDLE;
          }
          break;
        }
        case HANDLE: {
          const call = this.#call!;
          const out = call.handle(ds, this.#caller, call.req, this.#key);
          if (isSyscall(out)) {
            this.#runSlow(this.#answerOf(out), ANSWERED);
          } else {
            this.#answer = out;
            this.#state = ANSWERED;
          }
          break;
        }
        case ANSWERED:
          if (ds.unjournaled.length > 0) this.#runSlow(flushJournal(ds), WRITE);
          else this.#state = WRITE;
          break;
        case WRITE: {
          const answer = this.#answer!;
          this.#answer = null;
          if (answer === numAnswer) writeNumAnswer(m);
          else if (answer.reply !== undefined)
            m.set(answer.status, this.#call!.reply, answer.reply);
          else m.type = answer.status;
          this.#state = REPLY;
          break;
        }
        case REPLY:
          if (um.putNow()) this.#state = SEND;
          else this.#runSlow(um.put(), SEND);
          break;
        case SEND:
          this.#reply.srcDst = this.#caller;
          this.#state = SENT;
          return this.#replyYield;
        case SENT:
          if (ds.wake.size > 0 || ds.store.released.length > 0) {
            this.#runSlow(ds.afterReply(), RECEIVE_NEXT);
          } else {
            this.#state = RECEIVE_NEXT;
          }
          break;
        case SLOW: {
          const step = this.#slow!.next(r);
          if (step.done !== true) return step;
          this.#slow = null;
          this.#state = this.#after;
          break;
        }
      }
    }
  }

  /** A handler that traps, run as a slow step: its answer goes to `#answer`. */
  *#answerOf(handler: Syscall<DsAnswer<DsCallName>>): Syscall<void> {
    this.#answer = yield* handler;
  }

  /** Runs `gen` to its end (its first step at once), then goes on at `after`. */
  #runSlow(gen: Syscall<unknown>, after: number): void {
    this.#slow = gen;
    this.#after = after;
    this.#state = SLOW;
  }

  return(value: number): IteratorResult<Trap, number> {
    return { done: true, value };
  }

  throw(e: unknown): IteratorResult<Trap, number> {
    throw e;
  }
}
