/**
 * What RS makes of PM's and the kernel's answers (the calls themselves are libsys's `srv_*`
 * and `sys_*`): the pid of an endpoint, the caller's uid, reaping dead children, and the next
 * process with kernel signals. MINIX: lib/libsys/getepinfo.c, sys_getksig.c.
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { WNOHANG } from "../../include/pm.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { waitpid } from "../../lib/libc/pm.ts";
import { getEpinfo } from "../../lib/libsys/srv.ts";
import { sysGetksig } from "../../lib/libsys/sys_signal.ts";

/** The pid PM gave `ep` (0 if PM does not know it). */
export function* rsPidOf(ctx: ProcessContext, ep: Endpoint): Syscall {
  const r = yield* getEpinfo(ctx, ep);
  return typeof r === "number" ? 0 : r.pid;
}

/**
 * The uid of the process `ep` for RS's permission check: PM has no user ids yet, so every
 * process PM knows counts as root (0); one it does not know gets -1.
 */
export function* rsUidOf(ctx: ProcessContext, ep: Endpoint): Syscall {
  const r = yield* getEpinfo(ctx, ep);
  return typeof r === "number" ? -1 : 0;
}

/** Reaps every dead child (`waitpid(-1, WNOHANG)` until none). */
export function* rsReap(ctx: ProcessContext): Syscall<void> {
  for (;;) {
    const r = yield* waitpid(ctx, -1, WNOHANG);
    if (typeof r === "number" || r.pid <= 0) return;
  }
}

/** The next process RS manages with pending signals, or null. */
export function* rsGetksig(
  ctx: ProcessContext,
): Syscall<{ endpoint: Endpoint; sigs: number } | null> {
  const r = yield* sysGetksig(ctx);
  if (typeof r === "number" || r.endpoint === NONE) return null;
  return { endpoint: r.endpoint, sigs: r.sigs };
}
