/**
 * The reincarnation server: the root system process. It finishes the boot (boot.ts), then
 * serves one message at a time (MINIX servers/rs/main.c):
 * - a notification from CLOCK: RS's alarm, every RS_DELTA_T ticks while something needs
 *   watching (`doPeriod`);
 * - a notification from SYSTEM: kernel signals — SIGKSIG: processes RS manages were signalled
 *   (`manageSignals`); SIGCHLD (RS is its own manager, PM its parent): reap dead children;
 * - a notification from a service: a sign of life (the answer to a ping);
 * - RS_INIT from a service: its init result — OK lets it go on, anything else kills it;
 * - a request (requests.ts), answered with SENDNB unless the answer is deferred.
 * Anything RS does not know is answered ENOSYS.
 */
import { ANY, CLOCK, NONE, SYSTEM, type Endpoint } from "../../include/endpoint.ts";
import { ENOSYS, EINVAL, OK } from "../../include/errno.ts";
import { isIpcNotify, NOTIFY_LAYOUT } from "../../include/ipc.ts";
import type { FieldKind, Layout } from "../../include/message.ts";
import {
  RS_CALLS,
  RS_DELTA_T,
  RS_INIT,
  RS_INIT_LAYOUT,
  RS_INITIALIZING,
  rsCallName,
} from "../../include/rs.ts";
import { SIGCHLD, SIGKILL, SIGKSIG } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { isSyscall, receive, sendnb, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sysSetalarm } from "../../lib/libsys/sys_misc.ts";
import { bootServices } from "./boot.ts";
import { dsLabelsAll, isDs } from "./ds_labels.ts";
import { doPeriod, kill, lateReply, manageSignals } from "./manager.ts";
import { rsReap } from "./pm_calls.ts";
import { rsCalls, type RsHandler } from "./requests.ts";
import { rprocInfo, type RprocInfo } from "./rproc.ts";
import { RsState } from "./state.ts";

/** One service as the inspector shows it. */
export type RsServiceInspect = RprocInfo;

/** RS's state by the context of the RS process, for the read-only inspector only. */
const running = new WeakMap<ProcessContext, RsState>();

/** The services of the RS running with context `ctx` (user processes left out). */
export function inspectRs(ctx: ProcessContext): RsServiceInspect[] | undefined {
  const rs = running.get(ctx);
  if (rs === undefined) return undefined;
  return rs.table.services.map(rprocInfo);
}

export function* rsMain(ctx: ProcessContext): Syscall {
  const rs = new RsState(ctx);
  running.set(ctx, rs);
  if (!(yield* bootServices(rs))) return 1;
  const status: IpcStatus = { value: 0 };
  let armed = false;
  for (;;) {
    if (!armed && needsAlarm(rs)) {
      yield* sysSetalarm(ctx, RS_DELTA_T);
      armed = true;
    }
    if ((yield* receive(ANY, rs.um.va, status)) !== OK) continue;
    const m = yield* rs.um.get();
    const from = m.source;
    if (isIpcNotify(status.value)) {
      const { arg, timestamp } = m.get(NOTIFY_LAYOUT);
      rs.now = timestamp;
      if (from === CLOCK) {
        armed = false;
        yield* doPeriod(rs, timestamp);
      } else if (from === SYSTEM) {
        if ((arg & (1 << SIGKSIG)) !== 0) yield* manageSignals(rs);
        if ((arg & (1 << SIGCHLD)) !== 0) yield* rsReap(ctx);
      } else {
        const rp = rs.table.byEndpoint(from);
        if (rp !== undefined) rp.aliveTm = timestamp;
      }
      continue;
    }
    if (m.type === RS_INIT) {
      yield* initReply(rs, from, m.get(RS_INIT_LAYOUT).result);
      continue;
    }
    yield* serveRequest(rs, from, m.type);
  }
}

/**
 * RS's alarm runs only while something needs watching (a deviation from MINIX, where it always
 * runs, so that a quiet machine goes idle): a heartbeat, a backoff, a SIGTERM waiting to become
 * SIGKILL, or a service initialising.
 */
function needsAlarm(rs: RsState): boolean {
  return rs.table.all.some(
    (rp) =>
      rp.backoff > 0 ||
      rp.stopTm > 0 ||
      (rp.endpoint !== NONE && (rp.period > 0 || (rp.flags & RS_INITIALIZING) !== 0)),
  );
}

/** A service's answer to RS_INIT. */
function* initReply(rs: RsState, from: Endpoint, result: number): Syscall<void> {
  const rp = rs.table.byEndpoint(from);
  if (rp === undefined || (rp.flags & RS_INITIALIZING) === 0) {
    yield* answer(rs, from, EINVAL);
    return;
  }
  rp.flags &= ~RS_INITIALIZING;
  if (result !== OK) {
    yield* rs.print(`service ${rp.label} failed to initialise (${result})`);
    yield* kill(rs, rp, SIGKILL);
    return;
  }
  rp.aliveTm = rs.now;
  rp.checkTm = rs.now;
  yield* answer(rs, from, OK);
  if (isDs(rp)) yield* dsLabelsAll(rs, rp);
  yield* lateReply(rs, rp, OK);
}

function* serveRequest(rs: RsState, from: Endpoint, type: number): Syscall<void> {
  const name = rsCallName(type);
  if (name === undefined) {
    yield* answer(rs, from, ENOSYS);
    return;
  }
  const def = RS_CALLS[name];
  // The one cast: the handler is looked up by a name only known at run time.
  const handler = rsCalls[name] as RsHandler<typeof name>;
  const out = handler(rs, from, def.req.read(rs.um.m.view));
  const result = isSyscall(out) ? yield* out : out;
  if (result === "later") return;
  const layout: Layout<Readonly<Record<string, FieldKind>>> = def.reply;
  rs.out.m.set(result.status, layout, result.reply ?? {});
  yield* rs.out.put();
  yield* sendnb(from, rs.out.va);
}

function* answer(rs: RsState, to: Endpoint, status: number): Syscall<void> {
  rs.out.m.set(status, RS_INIT_LAYOUT, { result: status, type: 0 });
  yield* rs.out.put();
  yield* sendnb(to, rs.out.va);
}
