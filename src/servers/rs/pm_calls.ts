/**
 * What RS asks of PM and of the kernel's signal-manager calls, in one place: `srv_fork`,
 * `srv_exec`, `srv_kill`, the pid of an endpoint, reaping dead children, and the
 * `sys_getksig` / `sys_endksig` loop. MINIX: lib/libsys/srv_fork.c, srv_kill.c, sys_getksig.c.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { ENOSYS } from "../../include/errno.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { Syscall } from "../../lib/ipc.ts";

export interface Forked {
  readonly pid: number;
  readonly endpoint: Endpoint;
}

/* eslint-disable require-yield */
export function* rsSrvFork(_ctx: ProcessContext): Syscall<Forked | number> {
  return ENOSYS;
}

export function* rsSrvExec(
  _ctx: ProcessContext,
  _ep: Endpoint,
  _name: string,
  _argv: readonly string[],
): Syscall {
  return ENOSYS;
}

export function* rsSrvKill(_ctx: ProcessContext, _pid: number, _sig: number): Syscall {
  return ENOSYS;
}

/** The pid PM gave `ep` (0 if PM does not know it). */
export function* rsPidOf(_ctx: ProcessContext, _ep: Endpoint): Syscall {
  return 0;
}

/** The uid PM gives the process `ep` (0 = root; -1 if PM does not know it). */
export function* rsUidOf(_ctx: ProcessContext, _ep: Endpoint): Syscall {
  return 0;
}

/** Reaps every dead child (`waitpid(-1, WNOHANG)` until none). */
export function* rsReap(_ctx: ProcessContext): Syscall<void> {
  return;
}

/** The next process RS manages with pending signals, or null. */
export function* rsGetksig(
  _ctx: ProcessContext,
): Syscall<{ endpoint: Endpoint; sigs: number } | null> {
  return null;
}

export function* rsEndksig(_ctx: ProcessContext, _ep: Endpoint): Syscall {
  return ENOSYS;
}
/* eslint-enable require-yield */
