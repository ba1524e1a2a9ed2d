/**
 * SYS_FORK: create a process in a free slot as a copy of a parent that is blocked in a
 * request (fork is synchronous). Memory is not copied here: VM gives the child its own
 * address space (copy-on-write) and installs it with VMCTL_SETADDRSPACE, which also ends the
 * child's RTS_VMINHIBIT.
 *
 * Caller:  VM (SYS_FORK in its call mask).
 * Request: endpt — the parent; slot — a free user slot for the child; flags — PFF_VMINHIBIT.
 * Reply:   endpt — the child's endpoint (the slot's next generation). EINVAL when the parent
 *          is not a live, RECEIVING user-space process, the slot is not free, or the parent
 *          named no program for its child (the "forkentry" trap).
 * Child:   the parent's name, priority, quantum, arguments, data area and page directory
 *          (until VM installs its own); it starts in the parent's fork-entry program. The
 *          child of a system process gets the user privilege structure and waits in
 *          RTS_NO_PRIV until someone sets and allows its privileges.
 * MINIX:   minix/kernel/system/do_fork.c
 */
import { generationOf, makeEndpoint, nextGeneration } from "../../include/endpoint.ts";
import { EINVAL, OK } from "../../include/errno.ts";
import { PFF_VMINHIBIT } from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { UserCpuPort } from "../cpu_port.ts";
import { startProgram } from "../program.ts";
import type { Kernel } from "../kernel.ts";
import { SYS_PROC, USER_PRIV_ID } from "../priv.ts";
import { RTS_NO_PRIV, RTS_RECEIVING, RTS_VMINHIBIT, type Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";

export function doFork(k: Kernel, _caller: Proc, m: KcallMsg<"SYS_FORK">): number {
  // Check.
  const parent = k.isokendpt(m.req.endpt);
  if (parent === undefined || parent.isKernelTask) return EINVAL;
  if ((parent.rtsFlags & RTS_RECEIVING) === 0) return EINVAL;
  const child = m.req.slot >= 0 ? k.procAddr(m.req.slot) : undefined;
  if (child === undefined || !child.isFree || child.isKernelTask) return EINVAL;
  const program = parent.forkEntry;
  const pctx = parent.context;
  const userPriv = k.privs.byId(USER_PRIV_ID);
  if (program === null || pctx === null || userPriv === undefined) return EINVAL;
  const ctx: ProcessContext = {
    argv: pctx.argv,
    cpu: new UserCpuPort(k, child),
    heapBase: pctx.heapBase,
    heapSize: pctx.heapSize,
  };
  const gen = startProgram(program, ctx);
  if (gen === undefined) return EINVAL;

  // Act.
  const sysParent = parent.priv !== null && (parent.priv.flags & SYS_PROC) !== 0;
  child.endpoint = makeEndpoint(nextGeneration(generationOf(child.endpoint)), child.nr);
  child.name = parent.name;
  child.priority = parent.priority;
  child.quantum = parent.quantum;
  child.ticksLeft = parent.quantum;
  child.priv = sysParent ? userPriv : parent.priv;
  child.cr3 = parent.cr3;
  child.program = program;
  child.forkEntry = program;
  child.context = ctx;
  child.gen = gen;
  child.retreg = 0;
  child.userTime = 0;
  child.sysTime = 0;
  child.rtsFlags =
    (sysParent ? RTS_NO_PRIV : 0) | ((m.req.flags & PFF_VMINHIBIT) !== 0 ? RTS_VMINHIBIT : 0);
  if (child.rtsFlags === 0) k.rq.enqueue(child);
  m.reply({ endpt: child.endpoint });
  return OK;
}
