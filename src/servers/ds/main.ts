/**
 * DS, the data store server (MINIX servers/ds/main.c, MINIX-SPEC §5): starts through SEF,
 * then serves one request at a time — looks the handler up in the typed table, answers with
 * SENDNB (the caller waits in SENDREC), then wakes the subscribers the request touched and
 * frees what the store let go of. Notifications and unknown requests never crash it: the
 * former are ignored, the latter answered ENOSYS. Its limits come from argv (limits.ts).
 *
 * At start DS names the two services it must know before anyone tells it: `rs` (RS_PROC_NR,
 * the only publisher of labels) and `ds` (itself). RS publishes every other label. A DS that
 * RS restarts finds its store in the journal VM kept for it (journal.ts, persist.ts).
 */
import { ANY, NONE, RS_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { ENOSYS, OK } from "../../include/errno.ts";
import {
  DS_CALL_NR,
  DS_CALLS,
  DS_RQ_BASE,
  DSF_OVERWRITE,
  DSF_TYPE_LABEL,
  type DsCallName,
  type DsReq,
} from "../../include/ds.ts";
import { isIpcNotify, RECEIVE, SENDNB } from "../../include/ipc.ts";
import type { FieldKind, Layout } from "../../include/message.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { ipcTrap, type Syscall } from "../../lib/ipc.ts";
import { sysWhoami } from "../../lib/libsys/sys_getinfo.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { sefHandle, sefOwns, sefStartup } from "../../lib/sef.ts";
import { registerDs } from "./inspect.ts";
import { Journal } from "./journal.ts";
import { parseDsArgv, type DsArgs } from "./limits.ts";
import { compact, flushJournal, record, replay } from "./persist.ts";
import { dsCalls, isAnswer, type DsAnswer } from "./requests.ts";
import { DsServer } from "./server.ts";
import { RS_LABEL } from "./store.ts";

export const DS_LABEL = "ds";

/**
 * The program: start (below), then the request loop. The usual request makes three traps,
 * all at the program's top level with no generator in between: the receive and the answer,
 * whose trap records the loop keeps and yields itself (`ipcTrap`), and the key's safecopy
 * (KeyRead). Nothing else yields on that path: the message is read and written at once when
 * its memory is present, a request that needs no other trap is answered without a
 * generator, and the slow steps sit behind checks (here a `yield*` costs more than the
 * kernel's work).
 */
export function* dsMain(ctx: ProcessContext): Syscall {
  const ds = yield* dsBoot(ctx);
  if (ds === null) return 1;
  const um = ds.um;
  const m = um.m;
  const calls = servedCalls(m.view);
  // The loop's own RECEIVE and SENDNB records, yielded directly (see ipcTrap).
  const rx = ipcTrap(RECEIVE, ANY, um.va);
  const reply = ipcTrap(SENDNB, NONE, um.va);
  for (;;) {
    if ((yield rx) !== OK) continue;
    if (!um.getNow()) yield* um.get();
    if (sefOwns(ctx, m, rx.status)) {
      yield* sefHandle(ctx, m, rx.status);
      continue;
    }
    if (isIpcNotify(rx.status)) continue;
    const caller: Endpoint = m.source;
    const i = m.type - DS_RQ_BASE;
    const call = i >= 0 && i < calls.length ? calls[i]! : null;
    if (call === null) {
      m.type = ENOSYS;
    } else {
      const req = call.req;
      const key = call.key ? yield* ds.readKey(caller, req.keyGrant, req.keyLen) : "";
      if (typeof key === "number") {
        m.type = key;
      } else {
        const out = call.handle(ds, caller, req, key);
        const answer = isAnswer(out) ? out : yield* out;
        if (ds.unjournaled.length > 0) yield* flushJournal(ds);
        if (answer.reply !== undefined) m.set(answer.status, call.reply, answer.reply);
        else m.type = answer.status;
      }
    }
    if (!um.putNow()) yield* um.put();
    reply.srcDst = caller;
    yield reply;
    if (ds.wake.size > 0 || ds.store.released.length > 0) yield* ds.afterReply();
  }
}

/** Parses argv, starts through SEF (dsStart) and wakes pending subscribers; null on failure. */
function* dsBoot(ctx: ProcessContext): Syscall<DsServer | null> {
  const args = parseDsArgv(ctx.argv);
  if (typeof args === "string") {
    yield* sysDiagctl(ctx, `ds: ${args}\n`);
    return null;
  }
  const started: { ds: DsServer | null } = { ds: null };
  yield* sefStartup(ctx, {
    init: function* (_ctx, type) {
      const r = yield* dsStart(ctx, args, type);
      if (typeof r === "number") return r;
      started.ds = r;
      return OK;
    },
  });
  const ds = started.ds;
  if (ds === null) return null;
  registerDs(ds);
  if (ds.wake.size > 0) yield* ds.wakeSubscribers();
  return ds;
}

/** A DS call as the main loop serves it (typed for a request known only at run time). */
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

/**
 * SEF init (fresh or restart, the same: what decides is whether VM kept a journal): attach
 * the journal, replay it (its limits win over argv: a DS restarted by RS gets only its
 * label as argv), then name `rs` and `ds` (DS's own endpoint may be new: subscribers of the
 * label learn it). Subscribers with pending changes are woken once DS serves requests.
 */
function* dsStart(ctx: ProcessContext, args: DsArgs, _type: number): Syscall<DsServer | number> {
  const me = yield* sysWhoami(ctx);
  if (typeof me === "number") return me;
  const kept = args.journalBytes > 0 ? yield* Journal.attach(ctx, args.journalBytes) : null;
  const first = kept?.records[0];
  const limits = first?.op === "limits" ? first.limits : args;
  const ds = new DsServer(ctx, limits);
  ds.self = me.endpoint;
  let dropped = 0;
  if (kept !== null && kept.records.length > 0) {
    dropped = yield* replay(ds, kept.records);
    yield* ds.log(
      `restored ${ds.store.size} entries and ${ds.store.subscriptions} subscriptions` +
        (dropped > 0 ? `; ${dropped} mapped entries dropped (publisher grant gone)` : ""),
    );
  }
  ds.journal = kept?.journal ?? null;
  if (ds.journal !== null && kept!.records.length === 0) {
    record(ds, { op: "limits", limits });
  }
  if (dropped > 0) yield* compact(ds);
  for (const [label, ep] of [
    [RS_LABEL, RS_PROC_NR],
    [DS_LABEL, me.endpoint],
  ] as const) {
    if (ds.store.endpointOf(label) === ep) continue;
    ds.store.publish(RS_LABEL, label, DSF_TYPE_LABEL, DSF_OVERWRITE, ep, ds.wake);
    record(ds, {
      op: "publish",
      caller: RS_LABEL,
      key: label,
      type: DSF_TYPE_LABEL,
      flags: DSF_OVERWRITE,
      num: ep,
    });
  }
  yield* flushJournal(ds);
  for (const owner of ds.store.pendingOwners()) ds.wake.add(owner);
  return ds;
}
