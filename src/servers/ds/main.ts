/**
 * DS, the data store server (MINIX servers/ds/main.c, MINIX-SPEC §5): starts through SEF,
 * then serves one request at a time (loop.ts). Its limits come from argv (limits.ts).
 *
 * At start DS names the two services it must know before anyone tells it: `rs` (RS_PROC_NR,
 * the only publisher of labels) and `ds` (itself). RS publishes every other label. A DS that
 * RS restarts finds its store in the journal VM kept for it (journal.ts, persist.ts).
 */
import { RS_PROC_NR } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import { DSF_OVERWRITE, DSF_TYPE_LABEL } from "../../include/ds.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { sysWhoami } from "../../lib/libsys/sys_getinfo.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { sefStartup } from "../../lib/sef.ts";
import { registerDs } from "./inspect.ts";
import { Journal } from "./journal.ts";
import { parseDsArgv, type DsArgs } from "./limits.ts";
import { compact, flushJournal, record, replay } from "./persist.ts";
import { DsLoop } from "./loop.ts";
import { DsServer } from "./server.ts";
import { RS_LABEL } from "./store.ts";

export const DS_LABEL = "ds";

/** The program: start (dsBoot), then the request loop (loop.ts). */
export function dsMain(ctx: ProcessContext): Syscall {
  return new DsLoop(dsBoot(ctx));
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
