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
import { RS_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { ENOSYS, OK } from "../../include/errno.ts";
import {
  DS_CALLS,
  DSF_OVERWRITE,
  DSF_TYPE_LABEL,
  dsCallName,
  type DsCallName,
} from "../../include/ds.ts";
import { isIpcNotify } from "../../include/ipc.ts";
import type { FieldKind, Layout, Message } from "../../include/message.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { sendnb, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sysWhoami } from "../../lib/libsys/sys_getinfo.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { sefReceive, sefStartup } from "../../lib/sef.ts";
import { Journal } from "./journal.ts";
import { parseDsArgv, type DsArgs } from "./limits.ts";
import { compact, record, replay } from "./persist.ts";
import { dsCalls, type DsAnswer } from "./requests.ts";
import { DsServer } from "./server.ts";
import { RS_LABEL } from "./store.ts";

export const DS_LABEL = "ds";

export function* dsMain(ctx: ProcessContext): Syscall {
  const args = parseDsArgv(ctx.argv);
  if (typeof args === "string") {
    yield* sysDiagctl(ctx, `ds: ${args}\n`);
    return 1;
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
  if (ds === null) return 1;
  if (ds.wake.size > 0) yield* ds.wakeSubscribers();
  const status: IpcStatus = { value: 0 };
  const m = ds.um.m;
  // One request at a time, served here rather than in a nested generator: the usual path's
  // traps (receive, the key's safecopy, the answer) are yielded at the loop's own depth.
  for (;;) {
    if ((yield* sefReceive(ctx, ds.um, status)) !== OK) continue;
    if (isIpcNotify(status.value)) continue;
    const caller: Endpoint = m.source;
    const name = dsCallName(m.type);
    if (name === undefined) {
      m.type = ENOSYS;
    } else {
      // Read in place: handlers read the request's fields before the reply replaces them.
      const req = DS_CALLS[name].req.overlay(m.view);
      const key = dsCalls[name].key ? yield* ds.readKey(caller, req.keyGrant, req.keyLen) : "";
      if (typeof key === "number") m.type = key;
      else answer(m, name, yield* handler(name)(ds, caller, req, key));
    }
    yield* ds.um.put();
    yield* sendnb(caller, ds.um.va);
    if (ds.wake.size > 0) yield* ds.wakeSubscribers();
    if (ds.store.released.length > 0) yield* ds.freeReleased();
  }
}

/** The handler of `name`, typed for a request read at run time. */
function handler(
  name: DsCallName,
): (ds: DsServer, caller: Endpoint, req: unknown, key: string) => Syscall<DsAnswer<DsCallName>> {
  // The one cast: the handler is looked up by a name only known at run time.
  return dsCalls[name].handle as (
    ds: DsServer,
    caller: Endpoint,
    req: unknown,
    key: string,
  ) => Syscall<DsAnswer<DsCallName>>;
}

/** Puts the handler's answer in `m`: the status in `m_type`, the reply fields if any. */
function answer(m: Message, name: DsCallName, out: DsAnswer<DsCallName>): void {
  const layout: Layout<Readonly<Record<string, FieldKind>>> = DS_CALLS[name].reply;
  if (out.reply !== undefined) m.set(out.status, layout, out.reply);
  else m.type = out.status;
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
    yield* record(ds, { op: "limits", limits });
  }
  if (dropped > 0) yield* compact(ds);
  for (const [label, ep] of [
    [RS_LABEL, RS_PROC_NR],
    [DS_LABEL, me.endpoint],
  ] as const) {
    if (ds.store.endpointOf(label) === ep) continue;
    ds.store.publish(RS_LABEL, label, DSF_TYPE_LABEL, DSF_OVERWRITE, ep, ds.wake);
    yield* record(ds, {
      op: "publish",
      caller: RS_LABEL,
      key: label,
      type: DSF_TYPE_LABEL,
      flags: DSF_OVERWRITE,
      num: ep,
    });
  }
  for (const owner of ds.store.pendingOwners()) ds.wake.add(owner);
  return ds;
}
