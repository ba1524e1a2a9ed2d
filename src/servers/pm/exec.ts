/**
 * exec and RS's exec of its child (MINIX-SPEC §7.2, §8.9). PM finds the program first: the
 * kernel's program table stands in for /bin, and SYS_EXEC with endpoint NONE only looks the
 * name up. Its image size comes from PM's arguments (`name:pages`) or DEFAULT_IMAGE_PAGES.
 * Then VM builds the new address space (VM_EXEC_NEWMEM: out of memory, the old one stays
 * untouched) and the kernel starts the program (SYS_EXEC). Missing program or no memory:
 * nothing changes and the caller gets the error. Should SYS_EXEC fail after VM replaced the
 * memory, the old image is gone and the process is killed (SIGKILL).
 * After a successful exec, caught signals revert to their default action (ignored ones stay
 * ignored) and pending frames are forgotten; the exec'ing process gets no reply.
 * MINIX: servers/pm/exec.c, servers/rs/exec.c (EXEC_NEWMEM, EXEC_RESTART).
 */
import { NONE } from "../../include/endpoint.ts";
import { EINVAL, EPERM, ESRCH, OK } from "../../include/errno.ts";
import { SIG_CATCH, SIG_DFL, unpackExec, type PmReq } from "../../include/pm.ts";
import { SIGKILL } from "../../include/signal.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { vmExecNewmem } from "../../lib/libc/vm_ipc.ts";
import { sysExec } from "../../lib/libsys/sys_misc.ts";
import { exitProcess } from "./forkexit.ts";
import { PRIV_PROC, type Mproc } from "./mproc.ts";
import { DEFAULT_IMAGE_PAGES, NO_REPLY, type Pm, type PmAnswer } from "./pm.ts";

/** Runs `name` in `mp`; OK, or the error with `mp` unchanged (or killed, see above). */
function* execIn(pm: Pm, mp: Mproc, name: string, argv: readonly string[]): Syscall {
  const found = yield* sysExec(pm.ctx, NONE, name, []);
  if (found !== OK) return found;
  const pages = pm.imagePages.get(name) ?? DEFAULT_IMAGE_PAGES;
  const mem = yield* vmExecNewmem(pm.ctx, mp.endpoint, pages);
  if (mem.status !== OK) return mem.status;
  const r = yield* sysExec(pm.ctx, mp.endpoint, name, argv);
  if (r !== OK) {
    yield* exitProcess(pm, mp, 0, SIGKILL);
    return r;
  }
  mp.name = name;
  for (const a of mp.sigActs) {
    if (a.handler === SIG_CATCH) a.handler = SIG_DFL;
    a.mask = 0;
  }
  mp.frameMasks.length = 0;
  return OK;
}

export function* doExec(pm: Pm, mp: Mproc, req: PmReq<"PM_EXEC">): Syscall<PmAnswer<"PM_EXEC">> {
  const what = unpackExec(req.strs, req.len);
  if (what === undefined) return EINVAL;
  const r = yield* execIn(pm, mp, what.name, what.argv);
  return r === OK ? NO_REPLY : r;
}

export function* doSrvExec(
  pm: Pm,
  mp: Mproc,
  req: PmReq<"PM_SRV_EXEC">,
): Syscall<PmAnswer<"PM_SRV_EXEC">> {
  if (!pm.isRs(mp)) return EPERM;
  const what = unpackExec(req.strs, req.len);
  if (what === undefined) return EINVAL;
  const child = pm.table.byEndpoint(req.endpt);
  if (child === undefined || !child.alive) return ESRCH;
  if (child.parent !== mp.slot || (child.flags & PRIV_PROC) === 0) return EPERM;
  return yield* execIn(pm, child, what.name, what.argv);
}
