/**
 * SEF, the System Event Framework: how every system service starts and receives. MINIX:
 * lib/libsys/sef.c, sef_init.c, sef_ping.c, sef_signal.c (MINIX-SPEC §6.4).
 *
 * Usage in a service:
 *
 *     const type = yield* sefStartup(ctx, { init, signal });   // SEF_INIT_FRESH or _RESTART
 *     for (;;) {
 *       if ((yield* sefReceive(ctx, um, status)) !== OK) continue;
 *       const m = um.m;  // a message SEF did not consume (status.value is its status word)
 *       ...
 *     }
 *
 * - `sefStartup` waits for RS's RS_INIT (receive from RS only), runs the `init` callback for
 *   the type RS asked for and answers RS with the callback's result (SENDREC: RS's reply lets
 *   the service go on). In an image without RS it returns SEF_INIT_FRESH at once (after
 *   running `init`), so services also run in the kernel-only test images.
 * - `sefReceive` receives from ANY and consumes what SEF handles: a notification from RS is
 *   a ping, answered with a notification back; SIGS_SIGNAL_RECEIVED from a signal manager
 *   (RS or PM) goes to the `signal` callback (without one, SIGTERM ends the service through
 *   `sefExit`, anything else is ignored); a notification from SYSTEM carries kernel
 *   signals, each passed to the `signal` callback — only when the service registered one,
 *   otherwise the notification is the caller's (VM reads SIGKMEM itself). Everything else is
 *   returned to the caller with OK; a failed receive returns its error.
 */
import { ANY, INIT_PROC_NR, RS_PROC_NR, slotOf, SYSTEM } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { isIpcNotify, NOTIFY_LAYOUT } from "../include/ipc.ts";
import { PROC_ROOT } from "../include/kcall.ts";
import {
  RS_INIT,
  RS_INIT_LAYOUT,
  SEF_INIT_FRESH,
  SIGS_LAYOUT,
  SIGS_SIGNAL_RECEIVED,
} from "../include/rs.ts";
import { NSIG, SIGTERM } from "../include/signal.ts";
import type { Message } from "../include/message.ts";
import type { ProcessContext } from "../include/trap.ts";
import { notify, receive, sendrec, type IpcStatus, type Syscall } from "./ipc.ts";
import { sysGetimage, sysWhoami } from "./libsys/sys_getinfo.ts";
import { sysExit } from "./libsys/sys_misc.ts";
import { malloc } from "./runtime.ts";
import { UMessage } from "./umessage.ts";

export interface SefCallbacks {
  /** Initialisation for `type` (SEF_INIT_FRESH, SEF_INIT_RESTART); its result goes to RS. */
  readonly init?: (ctx: ProcessContext, type: number) => Syscall<number>;
  /** A signal for this service (forwarded by its manager, or a kernel signal). */
  readonly signal?: (ctx: ProcessContext, signo: number) => Syscall<void>;
}

const registered = new WeakMap<ProcessContext, SefCallbacks>();

/** `sef_startup`: the init handshake with RS; returns the init type. */
export function* sefStartup(ctx: ProcessContext, cb: SefCallbacks = {}): Syscall<number> {
  registered.set(ctx, cb);
  const rs = yield* rsInImage(ctx);
  if (!rs) {
    if (cb.init !== undefined) yield* cb.init(ctx, SEF_INIT_FRESH);
    return SEF_INIT_FRESH;
  }
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  let type = -1;
  while (type < 0) {
    if ((yield* receive(RS_PROC_NR, um.va)) !== OK) continue;
    const m = yield* um.get();
    if (m.type === RS_INIT) type = m.get(RS_INIT_LAYOUT).type;
  }
  const result = cb.init === undefined ? OK : yield* cb.init(ctx, type);
  um.m.set(RS_INIT, RS_INIT_LAYOUT, { result, type });
  yield* um.put();
  yield* sendrec(RS_PROC_NR, um.va);
  return type;
}

/** True when this process is not RS and the kernel booted through RS. */
function* rsInImage(ctx: ProcessContext): Syscall<boolean> {
  const me = yield* sysWhoami(ctx);
  if (typeof me === "number" || me.endpoint === RS_PROC_NR) return false;
  const image = yield* sysGetimage(ctx);
  return typeof image !== "number" && image.some((e) => (e.flags & PROC_ROOT) !== 0);
}

/**
 * `sef_receive_status`: the next message SEF does not consume itself, in `um` (status word
 * in `status.value`). Returns OK, or the error of a failed receive.
 */
export function* sefReceive(ctx: ProcessContext, um: UMessage, status: IpcStatus): Syscall {
  for (;;) {
    const r = yield* receive(ANY, um.va, status);
    if (r !== OK) return r;
    const m = yield* um.get();
    if (!sefOwns(ctx, m, status.value)) return OK;
    yield* sefHandle(ctx, m, status.value);
  }
}

/**
 * Whether SEF consumes message `m` just received with status word `status` (what
 * `sefReceive` skips). With `sefHandle`, the two halves of `sefReceive` for a server that
 * makes its RECEIVE itself (DS: one generator less on every request's path).
 */
export function sefOwns(ctx: ProcessContext, m: Message, status: number): boolean {
  if (isIpcNotify(status)) {
    return (
      m.source === RS_PROC_NR || (m.source === SYSTEM && registered.get(ctx)?.signal !== undefined)
    );
  }
  return m.type === SIGS_SIGNAL_RECEIVED && slotOf(m.source) < (INIT_PROC_NR as number);
}

/** Consumes a message `sefOwns` claimed: a ping from RS, kernel signals, a forwarded signal. */
export function* sefHandle(ctx: ProcessContext, m: Message, status: number): Syscall<void> {
  const cb = registered.get(ctx) ?? {};
  if (isIpcNotify(status)) {
    if (m.source === RS_PROC_NR) {
      yield* notify(RS_PROC_NR);
      return;
    }
    // Kernel signals (claimed only when the service registered a callback).
    const signal = cb.signal;
    if (signal === undefined) return;
    const sigs = m.get(NOTIFY_LAYOUT).arg;
    for (let s = 1; s < NSIG; s++) if ((sigs & (1 << s)) !== 0) yield* signal(ctx, s);
    return;
  }
  const signo = m.get(SIGS_LAYOUT).signo;
  if (cb.signal !== undefined) yield* cb.signal(ctx, signo);
  else if (signo === SIGTERM) yield* sefExit(ctx);
}

/** `sef_exit`: a system service ends through its signal manager (SYS_EXIT → SIGABRT). */
export function* sefExit(ctx: ProcessContext): Syscall {
  return yield* sysExit(ctx);
}
