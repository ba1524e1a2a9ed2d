/**
 * PM, the process manager: builds its process table from the boot image, becomes the signal
 * manager of user processes, and serves the requests of include/pm.ts in a receive loop.
 * Every request is checked before anything changes; malformed or unknown requests get an
 * error reply (ENOSYS for an unknown call, ESRCH for a sender PM does not know), never a
 * crash. SIGKSIG (a notification from SYSTEM, passed on by SEF): PM fetches the signals
 * (sys_getksig).
 *
 * Arguments: `name:pages` pairs give the image size of programs exec can start (default
 * DEFAULT_IMAGE_PAGES).
 * MINIX: servers/pm/main.c, table.c, getset.c, misc.c (MINIX-SPEC §7).
 */
import { INIT_PROC_NR, NONE, RS_PROC_NR } from "../../include/endpoint.ts";
import { ENOSYS, ESRCH, OK } from "../../include/errno.ts";
import { isIpcNotify } from "../../include/ipc.ts";
import type { Message } from "../../include/message.ts";
import { INIT_PID, PM_CALLS, pmCallName, type PmCallName, type PmReq } from "../../include/pm.ts";
import { SIGKSIG } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { isSyscall, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sefReceive, sefStartup } from "../../lib/sef.ts";
import { sysGetimage, sysGetkinfo } from "../../lib/libsys/sys_getinfo.ts";
import { malloc } from "../../lib/runtime.ts";
import { UMessage } from "../../lib/umessage.ts";
import { doExec, doSrvExec } from "./exec.ts";
import { doExit, doFork, doSrvFork, doWaitpid } from "./forkexit.ts";
import { IN_USE, PRIV_PROC, type Mproc } from "./mproc.ts";
import { Pm, type PmAnswer } from "./pm.ts";
import {
  doKill,
  doPause,
  doSigaction,
  doSigprocmask,
  doSigreturn,
  doSigsuspend,
  doSrvKill,
  processKsigs,
} from "./signal.ts";

type PmHandler<K extends PmCallName> = (
  pm: Pm,
  caller: Mproc,
  req: PmReq<K>,
) => PmAnswer<K> | Syscall<PmAnswer<K>>;

function doGetpid(pm: Pm, mp: Mproc): PmAnswer<"PM_GETPID"> {
  return { pid: mp.pid, ppid: pm.table.procs[mp.parent]?.pid ?? 0 };
}

function doGetepinfo(pm: Pm, _mp: Mproc, req: PmReq<"PM_GETEPINFO">): PmAnswer<"PM_GETEPINFO"> {
  const t = req.endpt === NONE ? pm.table.byPid(req.pid) : pm.table.byEndpoint(req.endpt);
  if (t === undefined || !t.alive) return ESRCH;
  return { endpt: t.endpoint, pid: t.pid, ppid: pm.table.procs[t.parent]?.pid ?? 0 };
}

const pmCalls = {
  PM_EXIT: doExit, // the caller ends (system processes are refused)
  PM_FORK: doFork, // copy the caller (VM_FORK)
  PM_WAITPID: doWaitpid, // report or wait for a child's end
  PM_GETPID: doGetpid, // pid and parent's pid
  PM_PAUSE: doPause, // wait for a caught signal
  PM_KILL: doKill, // signal processes
  PM_EXEC: doExec, // start a program anew
  PM_SIGACTION: doSigaction, // a signal's action
  PM_SIGSUSPEND: doSigsuspend, // wait for a caught signal with a temporary mask
  PM_SIGPROCMASK: doSigprocmask, // the blocked signals
  PM_SIGRETURN: doSigreturn, // a handler is done
  PM_SRV_FORK: doSrvFork, // RS forks a service
  PM_GETEPINFO: doGetepinfo, // pid ↔ endpoint
  PM_SRV_KILL: doSrvKill, // RS's kernel-like signal
  PM_SRV_EXEC: doSrvExec, // RS runs a program in its child
} satisfies { [K in PmCallName]: PmHandler<K> };

/** Parses `name:pages` arguments; malformed ones are ignored. */
export function parseImageSizes(argv: readonly string[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const a of argv) {
    const i = a.lastIndexOf(":");
    const pages = Number(a.slice(i + 1));
    if (i > 0 && Number.isInteger(pages) && pages > 0) sizes.set(a.slice(0, i), pages);
  }
  return sizes;
}

/**
 * `pm_init`: the table from the boot image (kernel tasks skipped). INIT gets pid 1 and is its
 * own parent, RS's parent is INIT, every other boot process's parent is RS (INIT, or itself,
 * when those are missing); every boot process but INIT is a system process.
 */
export function* pmInit(ctx: ProcessContext): Syscall<Pm | number> {
  const kinfo = yield* sysGetkinfo(ctx);
  if (typeof kinfo === "number") return kinfo;
  const image = yield* sysGetimage(ctx);
  if (typeof image === "number") return image;
  const pm = new Pm(ctx, kinfo.nrProcs, parseImageSizes(ctx.argv));
  const procs = pm.table.procs;
  const boot = image.filter((e) => e.procNr >= 0 && e.procNr < procs.length);
  const has = (slot: number): boolean => boot.some((e) => e.procNr === slot);
  const init = INIT_PROC_NR as number;
  const rs = RS_PROC_NR as number;
  for (const e of boot) {
    const mp = procs[e.procNr]!;
    mp.flags = IN_USE | (e.procNr === init ? 0 : PRIV_PROC);
    mp.endpoint = e.endpoint;
    mp.name = e.name;
  }
  if (has(init)) {
    const mp = procs[init]!;
    mp.pid = INIT_PID;
    mp.pgrp = INIT_PID;
    mp.parent = init;
  }
  for (const e of boot) {
    if (e.procNr === init) continue;
    const mp = procs[e.procNr]!;
    mp.pid = pm.table.freePid();
    mp.pgrp = mp.pid;
    mp.parent =
      e.procNr === rs ? (has(init) ? init : rs) : has(rs) ? rs : has(init) ? init : e.procNr;
  }
  pm.nextSlot = INIT_PROC_NR + 1;
  return pm;
}

/** Serves one request `m` (already read into `um`). */
function* serve(pm: Pm, m: Message): Syscall<void> {
  const src = m.source;
  const name = pmCallName(m.type);
  if (name === undefined) {
    yield* pm.replyStatus(src, ENOSYS);
    return;
  }
  const mp = pm.table.byEndpoint(src);
  if (mp === undefined || !mp.alive) {
    yield* pm.replyStatus(src, ESRCH);
    return;
  }
  const req = PM_CALLS[name].req.read(m.view);
  // The one cast: the handler is looked up by a name only known at run time.
  const handler = pmCalls[name] as PmHandler<typeof name>;
  const out = handler(pm, mp, req);
  const answer = isSyscall(out) ? yield* out : out;
  yield* pm.reply(src, name, answer);
}

/**
 * PM starts through SEF (RS's RS_INIT when the image boots through RS); SEF hands it its
 * kernel signals: SIGKSIG means user processes have signals to fetch.
 */
export function* pmMain(ctx: ProcessContext): Syscall {
  const pm = yield* pmInit(ctx);
  if (typeof pm === "number") return pm;
  yield* sefStartup(ctx, {
    signal: function* (_c, signo) {
      if (signo === SIGKSIG) yield* processKsigs(pm);
    },
  });
  // Become the signal manager of user processes (and serve what is already pending).
  yield* processKsigs(pm);
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const status: IpcStatus = { value: 0 };
  for (;;) {
    if ((yield* sefReceive(ctx, um, status)) !== OK) continue;
    // Other notifications are not PM's business.
    if (isIpcNotify(status.value)) continue;
    yield* serve(pm, um.m);
  }
}
