/**
 * RS's calls to PM: `srv_fork`, `srv_kill`, the exec of a program in RS's child, and the
 * pid ↔ endpoint lookup any process may use. PM refuses the `srv_*` calls from anyone but RS
 * (EPERM). MINIX: lib/libsys/srv_fork.c, srv_kill.c, getepinfo.c (MINIX-SPEC §7.2, §7.4).
 */
import { ANY, NONE, type Endpoint } from "../../include/endpoint.ts";
import { E2BIG, OK } from "../../include/errno.ts";
import { packExec } from "../../include/pm.ts";
import type { Program, ProcessContext } from "../../include/trap.ts";
import { setForkEntry } from "../fork.ts";
import { receive, type Syscall } from "../ipc.ts";
import { pmCall } from "../libc/pm_call.ts";
import { malloc } from "../runtime.ts";

/** The default program of RS's child until it is exec'd: it waits, doing nothing. */
function* srvChildIdle(ctx: ProcessContext): Syscall {
  const buf = malloc(ctx, 64, 64);
  for (;;) if ((yield* receive(ANY, buf)) !== OK) return 0;
}

/**
 * `srv_fork()`: PM forks the caller (RS); the child (which starts in `childMain`, by default a
 * program that only waits) keeps system-process status in PM and waits in RTS_NO_PRIV until
 * RS sets and allows its privileges. Returns its pid and endpoint, or a negative error code.
 */
export function* srvFork(
  ctx: ProcessContext,
  childMain: Program = srvChildIdle,
): Syscall<{ readonly pid: number; readonly endpoint: Endpoint } | number> {
  const s = yield* setForkEntry(childMain);
  if (s !== OK) return s;
  const r = yield* pmCall(ctx, "PM_SRV_FORK", {});
  return r.status !== OK ? r.status : { pid: r.pid, endpoint: r.endpt };
}

/** `srv_kill(pid, sig)`: PM treats the signal as a kernel signal (termination exits at once). */
export function* srvKill(ctx: ProcessContext, pid: number, sig: number): Syscall {
  return (yield* pmCall(ctx, "PM_SRV_KILL", { pid, sig })).status;
}

/**
 * Runs program `name` with `argv` in RS's child `endpoint` (VM_EXEC_NEWMEM, then SYS_EXEC).
 * OK, or ENOENT / ENOMEM with the child unchanged, E2BIG when name and arguments do not fit
 * (PM_EXEC_STR_MAX bytes).
 */
export function* srvExec(
  ctx: ProcessContext,
  endpoint: Endpoint,
  name: string,
  argv: readonly string[],
): Syscall {
  const strs = packExec(name, argv);
  if (strs === undefined) return E2BIG;
  return (yield* pmCall(ctx, "PM_SRV_EXEC", { endpt: endpoint, len: strs.length, strs })).status;
}

/** What PM knows of a live process. */
export interface EpInfo {
  readonly endpoint: Endpoint;
  readonly pid: number;
  readonly ppid: number;
}

/** `getepinfo(endpoint)`: its pid and parent's pid, or ESRCH. */
export function* getEpinfo(ctx: ProcessContext, endpoint: Endpoint): Syscall<EpInfo | number> {
  const r = yield* pmCall(ctx, "PM_GETEPINFO", { endpt: endpoint, pid: 0 });
  return r.status !== OK ? r.status : { endpoint: r.endpt, pid: r.pid, ppid: r.ppid };
}

/** `getnprocnr(pid)`: the endpoint (and parent) of the live process `pid`, or ESRCH. */
export function* getNprocnr(ctx: ProcessContext, pid: number): Syscall<EpInfo | number> {
  const r = yield* pmCall(ctx, "PM_GETEPINFO", { endpt: NONE, pid });
  return r.status !== OK ? r.status : { endpoint: r.endpt, pid: r.pid, ppid: r.ppid };
}
