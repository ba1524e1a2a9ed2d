/**
 * DS, the data store server (MINIX servers/ds/main.c, MINIX-SPEC §5): starts through SEF,
 * then serves one request at a time — looks the handler up in the typed table, answers with
 * SENDNB (the caller waits in SENDREC), then wakes the subscribers the request touched and
 * frees what the store let go of. Notifications and unknown requests never crash it: the
 * former are ignored, the latter answered ENOSYS. Its limits come from argv (limits.ts).
 *
 * At a fresh start DS names the two services it must know before anyone tells it: `rs`
 * (RS_PROC_NR, the only publisher of labels) and `ds` (itself). RS publishes every other label.
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
import type { FieldKind, Layout } from "../../include/message.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { sendnb, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sysWhoami } from "../../lib/libsys/sys_getinfo.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { sefReceive, sefStartup } from "../../lib/sef.ts";
import { parseDsArgv } from "./limits.ts";
import { dsCalls, type DsAnswer } from "./requests.ts";
import { DsServer } from "./server.ts";
import { RS_LABEL } from "./store.ts";

export const DS_LABEL = "ds";

export function* dsMain(ctx: ProcessContext): Syscall {
  const limits = parseDsArgv(ctx.argv);
  if (typeof limits === "string") {
    yield* sysDiagctl(ctx, `ds: ${limits}\n`);
    return 1;
  }
  const ds = new DsServer(ctx, limits);
  yield* sefStartup(ctx, { init: (_ctx, type) => dsInit(ds, type) });
  const status: IpcStatus = { value: 0 };
  for (;;) {
    if ((yield* sefReceive(ctx, ds.um, status)) !== OK) continue;
    if (isIpcNotify(status.value)) continue;
    yield* serve(ds);
  }
}

/** SEF init: DS's own endpoint, and the labels of RS and DS. */
function* dsInit(ds: DsServer, _type: number): Syscall {
  const me = yield* sysWhoami(ds.ctx);
  if (typeof me === "number") return me;
  ds.self = me.endpoint;
  ds.store.publish(RS_LABEL, RS_LABEL, DSF_TYPE_LABEL, DSF_OVERWRITE, RS_PROC_NR, ds.wake);
  ds.store.publish(RS_LABEL, DS_LABEL, DSF_TYPE_LABEL, DSF_OVERWRITE, me.endpoint, ds.wake);
  ds.wake.clear();
  return OK;
}

/** One request in `ds.um`: handle, answer, wake, free. */
function* serve(ds: DsServer): Syscall<void> {
  const m = ds.um.m;
  const caller: Endpoint = m.source;
  const name = dsCallName(m.type);
  if (name === undefined) {
    m.type = ENOSYS;
  } else {
    const call: DsCallName = name;
    const def = DS_CALLS[call];
    // The one cast: the handler is looked up by a name only known at run time.
    const handler = dsCalls[call] as (
      ds: DsServer,
      caller: Endpoint,
      req: unknown,
    ) => Syscall<DsAnswer<DsCallName>>;
    const out = yield* handler(ds, caller, def.req.read(m.view));
    const layout: Layout<Readonly<Record<string, FieldKind>>> = def.reply;
    if (out.reply !== undefined) m.set(out.status, layout, out.reply);
    else m.type = out.status;
  }
  yield* ds.um.put();
  yield* sendnb(caller, ds.um.va);
  if (ds.wake.size > 0) yield* ds.wakeSubscribers();
  if (ds.store.released.length > 0) yield* ds.freeReleased();
}
