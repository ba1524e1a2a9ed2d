/**
 * RS's requests (MINIX servers/rs/request.c, MINIX-SPEC §6.5), one handler each; the table is
 * checked complete against RS_CALLS. Changing a service (UP, DOWN, REFRESH, RESTART) needs a
 * privileged caller: a system service RS manages, or a user process PM reports as root
 * (uid 0); the target must exist (ESRCH), must not be RS (EPERM) nor initialising (EBUSY), a
 * core service cannot be brought down (EPERM), and a service RS has no program copy of cannot
 * be refreshed or restarted (EPERM). LOOKUP and LIST are open to everyone. A
 * malformed request is answered with an error; RS never trusts a field.
 */
import { NONE, RS_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { E2BIG, EBUSY, EINVAL, EPERM, ESRCH, OK } from "../../include/errno.ts";
import { PROGRAM_NAME_MAX } from "../../include/kcall.ts";
import {
  RS_EXITING,
  RS_INITIALIZING,
  RS_MAX_LABEL_LEN,
  RS_REFRESHING,
  SEF_INIT_FRESH,
  SF_CORE_SRV,
  SF_NEED_COPY,
  SF_USE_COPY,
  type RsCallName,
  type RsReply,
  type RsReq,
} from "../../include/rs.ts";
import { SIGKILL, SIGTERM } from "../../include/signal.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { encodeLabel } from "../../lib/rs.ts";
import { cString } from "../../include/message.ts";
import { kill, restart, startService } from "./manager.ts";
import { rsUidOf } from "./pm_calls.ts";
import { newRproc, rprocInfo, type Rproc } from "./rproc.ts";
import { SRV_F, type RsState } from "./state.ts";

/** A handler's answer: the status and reply fields now, or LATER (a deferred reply). */
export type RsAnswer<K extends RsCallName> = { status: number; reply?: RsReply<K> } | "later";

/** A handler answers at once, or is a generator when it needs to trap (as PM's and VM's). */
export type RsHandler<K extends RsCallName> = (
  rs: RsState,
  caller: Endpoint,
  req: RsReq<K>,
) => RsAnswer<K> | Syscall<RsAnswer<K>>;

/** Largest heartbeat period RS_UP accepts (ticks). */
const MAX_PERIOD = 1_000_000;

function* privileged(rs: RsState, caller: Endpoint): Syscall<boolean> {
  const rp = rs.table.byEndpoint(caller);
  if (rp !== undefined && rp.priv !== "user") return true;
  return (yield* rsUidOf(rs.ctx, caller)) === 0;
}

/** The target of a change request, or the error to answer. */
function* target(rs: RsState, caller: Endpoint, label: string): Syscall<Rproc | number> {
  if (!(yield* privileged(rs, caller))) return EPERM;
  const rp = rs.table.byLabel(label);
  if (rp === undefined || rp.priv === "user") return ESRCH;
  if (rp.endpoint === RS_PROC_NR) return EPERM;
  if ((rp.flags & RS_INITIALIZING) !== 0 || rp.lateReply !== NONE) return EBUSY;
  return rp;
}

const err = (status: number): { status: number } => ({ status });

function* doUp(rs: RsState, caller: Endpoint, req: RsReq<"RS_UP">): Syscall<RsAnswer<"RS_UP">> {
  if (!(yield* privileged(rs, caller))) return err(EPERM);
  const program = cString(req.program);
  const label = cString(req.label) || program;
  if (program === "" || new TextEncoder().encode(program).length > PROGRAM_NAME_MAX) {
    return err(EINVAL);
  }
  if (new TextEncoder().encode(label).length >= RS_MAX_LABEL_LEN) return err(E2BIG);
  if (!Number.isInteger(req.period) || req.period < 0 || req.period > MAX_PERIOD) {
    return err(EINVAL);
  }
  if (rs.table.byLabel(label) !== undefined) return err(EBUSY);
  const rp = newRproc({
    label,
    program,
    argv: [label],
    priv: {
      flags: SRV_F,
      trapMask: 0xffffffff,
      ipcTo: "all",
      kCallMask0: 0xffffffff,
      kCallMask1: 0xffffffff,
      sigMgr: RS_PROC_NR,
    },
    sysFlags: SF_NEED_COPY | SF_USE_COPY,
    period: req.period,
    boot: false,
  });
  rs.table.add(rp);
  const r = yield* startService(rs, rp, SEF_INIT_FRESH);
  if (r !== OK) {
    rs.table.remove(rp);
    return err(r);
  }
  if ((rp.flags & RS_INITIALIZING) === 0) return { status: OK, reply: { endpoint: rp.endpoint } };
  rp.lateReply = caller;
  return "later";
}

function* doDown(
  rs: RsState,
  caller: Endpoint,
  req: RsReq<"RS_DOWN">,
): Syscall<RsAnswer<"RS_DOWN">> {
  const rp = yield* target(rs, caller, cString(req.label));
  if (typeof rp === "number") return err(rp);
  if ((rp.sysFlags & SF_CORE_SRV) !== 0) return err(EPERM);
  if (rp.endpoint === NONE) {
    // Waiting in its backoff: nothing runs, just forget it.
    rs.table.remove(rp);
    return err(OK);
  }
  rp.flags |= RS_EXITING;
  rp.stopTm = Math.max(1, rs.now);
  rp.lateReply = caller;
  yield* kill(rs, rp, SIGTERM);
  return "later";
}

function* doRefresh(
  rs: RsState,
  caller: Endpoint,
  req: RsReq<"RS_REFRESH">,
): Syscall<RsAnswer<"RS_REFRESH">> {
  return err(yield* stopAndRestart(rs, caller, cString(req.label), SIGTERM));
}

function* doRestart(
  rs: RsState,
  caller: Endpoint,
  req: RsReq<"RS_RESTART">,
): Syscall<RsAnswer<"RS_RESTART">> {
  return err(yield* stopAndRestart(rs, caller, cString(req.label), SIGKILL));
}

/**
 * RS_REFRESH (SIGTERM, which RS follows with SIGKILL after two periods) and RS_RESTART
 * (SIGKILL): end the service with `sig` and start it again when it is gone; a service that is
 * already gone starts at once. Without a copy of its program RS could not start it again, so
 * that is refused (EPERM) before it is stopped.
 */
function* stopAndRestart(
  rs: RsState,
  caller: Endpoint,
  label: string,
  sig: number,
): Syscall<number> {
  const rp = yield* target(rs, caller, label);
  if (typeof rp === "number") return rp;
  if (rp.program === null) return EPERM;
  if (rp.endpoint === NONE) {
    yield* restart(rs, rp);
    return OK;
  }
  rp.flags |= RS_REFRESHING;
  if (sig === SIGTERM) rp.stopTm = Math.max(1, rs.now);
  yield* kill(rs, rp, sig);
  return OK;
}

function doLookup(rs: RsState, _caller: Endpoint, req: RsReq<"RS_LOOKUP">): RsAnswer<"RS_LOOKUP"> {
  const rp = rs.table.byLabel(cString(req.label));
  if (rp === undefined || rp.endpoint === NONE || (rp.flags & RS_EXITING) !== 0) return err(ESRCH);
  return { status: OK, reply: { endpoint: rp.endpoint } };
}

/** RS_LIST lists system services (user processes of the boot image are not services). */
function doList(rs: RsState, _caller: Endpoint, req: RsReq<"RS_LIST">): RsAnswer<"RS_LIST"> {
  const rp = req.index >= 0 ? rs.table.services[req.index] : undefined;
  if (rp === undefined) return err(ESRCH);
  const info = rprocInfo(rp);
  return { status: OK, reply: { ...info, label: encodeLabel(info.label) } };
}

export const rsCalls = {
  RS_UP: doUp, // start a service
  RS_DOWN: doDown, // stop a service for good
  RS_REFRESH: doRefresh, // stop a service and start it again
  RS_RESTART: doRestart, // restart a service now
  RS_LOOKUP: doLookup, // label → endpoint
  RS_LIST: doList, // one service record, by index
} satisfies { [K in RsCallName]: RsHandler<K> };
