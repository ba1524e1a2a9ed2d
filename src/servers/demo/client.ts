/**
 * The demonstration client: sets an alarm, sends three SENDREC requests to the server
 * (argv[1] is its endpoint), notifies it, waits for the alarm from CLOCK, then tells the
 * server to quit.
 */
import { CLOCK, type Endpoint } from "../../include/endpoint.ts";
import { errName, OK } from "../../include/errno.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { notify, receive, sendrec, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sysDiagctl, sysSetalarm, sysTimes } from "../../lib/libsys/sys_misc.ts";
import { malloc } from "../../lib/runtime.ts";
import { UMessage } from "../../lib/umessage.ts";
import { SELF } from "../../include/endpoint.ts";
import { DEMO_DOUBLE, DEMO_LAYOUT, DEMO_QUIT } from "./proto.ts";

export function* demoClient(ctx: ProcessContext): Syscall {
  const server = Number(ctx.argv[1]) as Endpoint;
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const status: IpcStatus = { value: 0 };

  yield* sysSetalarm(ctx, 5);
  yield* sysDiagctl(ctx, "client: alarm set for 5 ticks\n");
  for (let i = 1; i <= 3; i++) {
    um.m.set(DEMO_DOUBLE, DEMO_LAYOUT, { value: 10 * i });
    yield* um.put();
    const r = yield* sendrec(server, um.va, status);
    if (r !== OK) return yield* fail(ctx, "sendrec", r);
    const m = yield* um.get();
    yield* sysDiagctl(ctx, `client: SENDREC ${10 * i} -> ${m.get(DEMO_LAYOUT).value}\n`);
  }
  const n = yield* notify(server);
  if (n !== OK) return yield* fail(ctx, "notify", n);

  const r = yield* receive(CLOCK, um.va, status);
  if (r !== OK) return yield* fail(ctx, "receive", r);
  const t = yield* sysTimes(ctx, SELF);
  yield* sysDiagctl(ctx, `client: alarm from CLOCK at tick ${t.reply.bootTicks}\n`);

  um.m.set(DEMO_QUIT, DEMO_LAYOUT, { value: 0 });
  yield* um.put();
  yield* sendrec(server, um.va, status);
  yield* sysDiagctl(ctx, "client: done\n");
  return 0;
}

function* fail(ctx: ProcessContext, what: string, r: number): Syscall {
  yield* sysDiagctl(ctx, `client: ${what} failed: ${errName(r)}\n`);
  return 1;
}
