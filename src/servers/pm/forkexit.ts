/**
 * fork, srv_fork, exit and waitpid (MINIX-SPEC §7.2, §7.3).
 *
 * - fork: EAGAIN when the table is full, or only LAST_FEW slots remain and the caller is not
 *   a system process (there are no uids: system processes count as root). The child's slot is
 *   the next free user slot (above INIT) round-robin. VM copies the address space and makes the
 *   kernel create the child (VM_FORK); the child inherits pgrp, signal actions and mask, not
 *   PRIV_PROC, and gets a new pid. No reply to the child: it starts in its own program.
 * - srv_fork: RS only (EPERM); the child keeps PRIV_PROC and waits in RTS_NO_PRIV.
 * - exit: a system process is refused with SIGKILL through the kernel (its manager decides).
 *   `exitProcess` clears the process in the kernel at once (SYS_CLEAR, for user processes too:
 *   there is no VFS to wait for), frees its memory (VM_EXIT), tells VM for the IPC server,
 *   keeps it as a zombie, gives its children to INIT and tells the parent (a reply if it is
 *   waiting for it, else SIGCHLD).
 * - waitpid: pid > 0 one child, -1 any, 0 own group, < -1 group −pid; a zombie is reported at
 *   once, WNOHANG answers pid 0, no such child is ECHILD, otherwise the caller waits.
 * MINIX: servers/pm/forkexit.c.
 */
import { LAST_SPECIAL_PROC_NR } from "../../include/endpoint.ts";
import { EAGAIN, ECHILD, EPERM, OK } from "../../include/errno.ts";
import { WNOHANG, type PmReq } from "../../include/pm.ts";
import { SIGCHLD, SIGKILL } from "../../include/signal.ts";
import { vmExit, vmFork } from "../../lib/libc/vm_ipc.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { sysClear } from "../../lib/libsys/sys_misc.ts";
import { sysKill } from "../../lib/libsys/sys_signal.ts";
import { IN_USE, PAUSED, PRIV_PROC, SIGSUSPENDED, WAITING, ZOMBIE, type Mproc } from "./mproc.ts";
import { NO_REPLY, type Pm, type PmAnswer } from "./pm.ts";
import { sigProc } from "./signal.ts";
import { vmNotifySig } from "./vmnotify.ts";

/** Slots a non-system caller may not take (MINIX LAST_FEW). */
export const LAST_FEW = 2;

/** The next free slot above INIT, round-robin; undefined when none is free. */
function freeSlot(pm: Pm): number | undefined {
  const procs = pm.table.procs;
  const first = LAST_SPECIAL_PROC_NR + 1;
  const n = procs.length - first;
  for (let i = 0; i < n; i++) {
    const slot = first + ((pm.nextSlot - first + i + n) % n);
    if (!procs[slot]!.inUse) {
      pm.nextSlot = slot + 1 >= procs.length ? first : slot + 1;
      return slot;
    }
  }
  return undefined;
}

function* forkCommon(pm: Pm, parent: Mproc, srv: boolean): Syscall<Mproc | number> {
  const procs = pm.table.procs;
  const free = procs.filter((mp, i) => i > LAST_SPECIAL_PROC_NR && !mp.inUse).length;
  if (free === 0) return EAGAIN;
  if (free <= LAST_FEW && (parent.flags & PRIV_PROC) === 0) return EAGAIN;
  const slot = freeSlot(pm);
  if (slot === undefined) return EAGAIN;
  const r = yield* vmFork(pm.ctx, parent.endpoint, slot);
  if (r.status !== OK) return r.status;
  // VM made the child in the kernel: from here on nothing may fail.
  const child = procs[slot]!;
  child.clear();
  child.flags = IN_USE | (srv ? PRIV_PROC : 0);
  child.endpoint = r.child;
  child.name = parent.name;
  child.parent = parent.slot;
  child.pgrp = parent.pgrp;
  child.pid = pm.table.freePid();
  child.sigMask = parent.sigMask;
  parent.sigActs.forEach((a, i) => {
    child.sigActs[i]!.handler = a.handler;
    child.sigActs[i]!.mask = a.mask;
  });
  return child;
}

export function* doFork(pm: Pm, mp: Mproc): Syscall<PmAnswer<"PM_FORK">> {
  const child = yield* forkCommon(pm, mp, false);
  return typeof child === "number" ? child : { pid: child.pid };
}

export function* doSrvFork(pm: Pm, mp: Mproc): Syscall<PmAnswer<"PM_SRV_FORK">> {
  if (!pm.isRs(mp)) return EPERM;
  const child = yield* forkCommon(pm, mp, true);
  return typeof child === "number" ? child : { pid: child.pid, endpt: child.endpoint };
}

export function* doExit(pm: Pm, mp: Mproc, req: PmReq<"PM_EXIT">): Syscall<PmAnswer<"PM_EXIT">> {
  if ((mp.flags & PRIV_PROC) !== 0) {
    // System processes end through their signal manager (sys_exit), never through PM.
    yield* sysKill(pm.ctx, mp.endpoint, SIGKILL);
    return NO_REPLY;
  }
  yield* exitProcess(pm, mp, req.status & 0xff, 0);
  return NO_REPLY;
}

/** `exit_proc`: `mp` ends with exit status `status` or signal `sig`. */
export function* exitProcess(pm: Pm, mp: Mproc, status: number, sig: number): Syscall<void> {
  if (!mp.alive) return;
  const ep = mp.endpoint;
  yield* sysClear(pm.ctx, ep);
  yield* vmExit(pm.ctx, ep);
  yield* vmNotifySig(pm, ep);
  mp.flags = (mp.flags & (IN_USE | PRIV_PROC)) | ZOMBIE;
  mp.exitStatus = status;
  mp.sigStatus = sig;
  mp.frameMasks.length = 0;
  yield* reparentChildren(pm, mp);
  yield* tellParent(pm, mp);
}

/** Gives `mp`'s children to INIT; zombies among them are reported to INIT at once. */
function* reparentChildren(pm: Pm, mp: Mproc): Syscall<void> {
  const init = pm.init;
  for (const c of pm.table.procs) {
    if (!c.inUse || c.parent !== mp.slot || c === mp) continue;
    if (init === undefined || init === mp) {
      // Nobody can wait for it any more.
      c.parent = c.slot;
      if ((c.flags & ZOMBIE) !== 0) c.clear();
      continue;
    }
    c.parent = init.slot;
    if ((c.flags & ZOMBIE) !== 0) yield* tellParent(pm, c);
  }
}

/** A zombie's parent learns of it: a reply if it waits for it, else SIGCHLD. */
function* tellParent(pm: Pm, mp: Mproc): Syscall<void> {
  const parent = pm.table.procs[mp.parent];
  if (parent === undefined || parent === mp || !parent.alive) {
    mp.clear();
    return;
  }
  if ((parent.flags & WAITING) !== 0 && waitMatches(parent, mp)) {
    parent.flags &= ~WAITING;
    yield* pm.reply(parent.endpoint, "PM_WAITPID", { pid: mp.pid, wstatus: waitStatus(mp) });
    mp.clear();
    return;
  }
  yield* sigProc(pm, parent, SIGCHLD, false);
}

function waitStatus(mp: Mproc): number {
  return ((mp.exitStatus & 0xff) << 8) | (mp.sigStatus & 0xff);
}

function waitMatches(parent: Mproc, child: Mproc): boolean {
  const pid = parent.waitPid;
  if (pid > 0) return child.pid === pid;
  if (pid === -1) return true;
  if (pid === 0) return child.pgrp === parent.pgrp;
  return child.pgrp === -pid;
}

export function doWaitpid(pm: Pm, mp: Mproc, req: PmReq<"PM_WAITPID">): PmAnswer<"PM_WAITPID"> {
  mp.waitPid = req.pid;
  let children = 0;
  for (const c of pm.table.procs) {
    if (!c.inUse || c.parent !== mp.slot || c === mp || !waitMatches(mp, c)) continue;
    children++;
    if ((c.flags & ZOMBIE) !== 0) {
      const answer = { pid: c.pid, wstatus: waitStatus(c) };
      c.clear();
      return answer;
    }
  }
  if (children === 0) return ECHILD;
  if ((req.options & WNOHANG) !== 0) return { pid: 0, wstatus: 0 };
  mp.flags = (mp.flags & ~(PAUSED | SIGSUSPENDED)) | WAITING;
  return NO_REPLY;
}
