/**
 * SYS_SIGSEND: push a signal frame on a user process. Before the process next runs, the
 * kernel saves its interrupted code and registers and starts its signal entry (registered
 * with the "sigentry" trap) for the signal; SYS_SIGRETURN — or the entry's return — resumes
 * the interrupted code with the registers it had. Several frames nest: the last signal sent
 * runs first (see `enterSigFrames`). A process blocked in a call stays blocked:
 * the manager first answers that call (EINTR) if it should be interrupted.
 *
 * Caller:  PM (SYS_SIGSEND in its call mask), the manager of the process.
 * Request: endpt — the process; sig — 1..NSIG-1.
 * Reply:   status; EINVAL for a dead endpoint, a kernel task or a bad signal; EPERM for a
 *          system process (no POSIX handlers there) or a caller that is not its manager;
 *          ENOENT when the process registered no signal entry.
 * MINIX:   minix/kernel/system/do_sigsend.c (no sigcontext on a stack here; MINIX-SPEC §7.4)
 */
import { EINVAL, ENOENT, EPERM, OK } from "../../include/errno.ts";
import { NSIG } from "../../include/signal.ts";
import type { Kernel } from "../kernel.ts";
import { SYS_PROC } from "../priv.ts";
import type { Proc } from "../proc.ts";
import { sigMgrOf } from "../signal.ts";
import type { KcallMsg } from "../system.ts";

export function doSigsend(k: Kernel, caller: Proc, m: KcallMsg<"SYS_SIGSEND">): number {
  // Check.
  const p = k.isokendpt(m.req.endpt);
  if (p === undefined || p.isKernelTask) return EINVAL;
  if (m.req.sig <= 0 || m.req.sig >= NSIG) return EINVAL;
  const priv = p.priv;
  if (priv === null || (priv.flags & SYS_PROC) !== 0) return EPERM;
  if (sigMgrOf(p) !== caller.endpoint) return EPERM;
  if (p.sigEntry === null) return ENOENT;

  // Act.
  p.sigDeliver.push(m.req.sig);
  return OK;
}
