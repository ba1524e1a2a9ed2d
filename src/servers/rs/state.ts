/**
 * RS's state and the small helpers every part of RS uses: the service table, message buffers
 * in RS's memory, the clock, console output and `panic` (SYS_ABORT halts the machine).
 */
import { NONE, RS_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import {
  DYN_PRIV_ID,
  PREEMPTIBLE,
  PRIV_ARG,
  SYS_PROC,
  SYS_PRIV_ALLOW,
  SYS_PRIV_SET_SYS,
  SYS_PRIV_SET_USER,
} from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { sysAbort } from "../../lib/libsys/sys_abort.ts";
import { sysDiagctl, sysPrivctl } from "../../lib/libsys/sys_misc.ts";
import { store } from "../../lib/mem.ts";
import { malloc } from "../../lib/runtime.ts";
import { UMessage } from "../../lib/umessage.ts";
import { RprocTable, type PrivSpec } from "./rproc.ts";

/** `DSRV_F`-like flags of a service started later: a system process with a dynamic id. */
export const SRV_F = SYS_PROC | PREEMPTIBLE;

export class RsState {
  readonly ctx: ProcessContext;
  readonly table = new RprocTable();
  /** The main loop's receive buffer, a second one for messages RS sends itself. */
  readonly um: UMessage;
  readonly out: UMessage;
  readonly #privArg: VirAddr;
  /** Tick of the last notification or alarm seen (RS's idea of "now"). */
  now = 0;

  constructor(ctx: ProcessContext) {
    this.ctx = ctx;
    this.um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    this.out = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    this.#privArg = malloc(ctx, PRIV_ARG.size, 8);
  }

  /**
   * Installs `priv` on the NO_PRIV process `ep`: SET_USER, or SET_SYS with a PRIV_ARG (a
   * static id when `staticId` is given, else a dynamic one). Returns the kernel's status.
   */
  *setPriv(ep: Endpoint, priv: PrivSpec, staticId: number | null): Syscall {
    if (priv === "user") return yield* sysPrivctl(this.ctx, ep, SYS_PRIV_SET_USER);
    const bytes = new Uint8Array(PRIV_ARG.size);
    PRIV_ARG.write(new DataView(bytes.buffer), {
      flags: staticId === null ? priv.flags | DYN_PRIV_ID : priv.flags & ~DYN_PRIV_ID,
      id: staticId ?? -1,
      trapMask: priv.trapMask,
      sigMgr: priv.sigMgr === NONE ? RS_PROC_NR : priv.sigMgr,
      ipcTo: priv.ipcTo === "all" ? 0xffffffff : priv.ipcTo,
      kCallMask0: priv.kCallMask0,
      kCallMask1: priv.kCallMask1,
    });
    yield* store(this.ctx, this.#privArg, bytes);
    return yield* sysPrivctl(this.ctx, ep, SYS_PRIV_SET_SYS, this.#privArg);
  }

  *allow(ep: Endpoint): Syscall {
    return yield* sysPrivctl(this.ctx, ep, SYS_PRIV_ALLOW);
  }

  *print(text: string): Syscall<void> {
    yield* sysDiagctl(this.ctx, `rs: ${text}\n`);
  }

  /** RS's `panic()`: halts the machine; returns only if the kernel refused. */
  *panic(text: string): Syscall<void> {
    const r = yield* sysAbort(this.ctx, text);
    if (r !== OK) yield* this.print(`panic refused (${r}): ${text}`);
  }
}
