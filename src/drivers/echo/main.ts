/**
 * The echo driver: a system service started through SEF that answers ECHO requests and fails
 * on command (see proto.ts). Its label is its boot name; clients find it with RS_LOOKUP and,
 * after a crash, look it up again.
 */
import { CLOCK, type Endpoint } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import { SIGKILL } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import { receive, send, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sysWhoami } from "../../lib/libsys/sys_getinfo.ts";
import { sysKill } from "../../lib/libsys/sys_signal.ts";
import { load } from "../../lib/mem.ts";
import { malloc } from "../../lib/runtime.ts";
import { sefExit, sefReceive, sefStartup } from "../../lib/sef.ts";
import { UMessage } from "../../lib/umessage.ts";
import {
  CRASH_EXIT,
  CRASH_KILL,
  CRASH_RETURN,
  CRASH_SEGV,
  CRASH_THROW,
  ECHO,
  ECHO_LAYOUT,
  HANG,
} from "./proto.ts";

/** Called once per start with the instance's endpoint and init type (tests, inspectors). */
export type EchoStartHook = (endpoint: number, type: number) => void;
const hooks: EchoStartHook[] = [];

/** Registers `hook` for every later start of an echo driver; returns its remover. */
export function onEchoStart(hook: EchoStartHook): () => void {
  hooks.push(hook);
  return () => {
    const i = hooks.indexOf(hook);
    if (i >= 0) hooks.splice(i, 1);
  };
}

export function* echoDriver(ctx: ProcessContext): Syscall {
  const type = yield* sefStartup(ctx);
  const me = yield* sysWhoami(ctx);
  const self = typeof me === "number" ? -1 : me.endpoint;
  for (const h of hooks) h(self, type);
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const status: IpcStatus = { value: 0 };
  for (;;) {
    if ((yield* sefReceive(ctx, um, status)) !== OK) continue;
    const m = um.m;
    switch (m.type) {
      case ECHO: {
        const v = m.get(ECHO_LAYOUT).value;
        m.set(OK, ECHO_LAYOUT, { value: v + 1, incarnation: type });
        yield* um.put();
        yield* send(m.source, um.va);
        break;
      }
      case CRASH_THROW:
        throw new Error("echo driver: crash requested");
      case CRASH_SEGV:
        yield* load(ctx, virAddr(0x1000), new Uint8Array(4));
        break;
      case CRASH_KILL:
        yield* sysKill(ctx, self as Endpoint, SIGKILL);
        break;
      case CRASH_EXIT:
        yield* sefExit(ctx);
        break;
      case CRASH_RETURN:
        return 0;
      case HANG:
        for (;;) yield* receive(CLOCK, um.va);
      default:
        break;
    }
  }
}
