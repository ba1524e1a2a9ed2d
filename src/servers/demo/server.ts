/**
 * The demonstration server: receives from anyone, doubles numbers in DEMO_DOUBLE requests,
 * reports notifications, and exits after answering DEMO_QUIT.
 */
import { ANY, endpointName } from "../../include/endpoint.ts";
import { EBADREQUEST, errName, OK } from "../../include/errno.ts";
import { isIpcNotify } from "../../include/ipc.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { receive, send, type IpcStatus, type Syscall } from "../../lib/ipc.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { malloc } from "../../lib/runtime.ts";
import { UMessage } from "../../lib/umessage.ts";
import { DEMO_DOUBLE, DEMO_LAYOUT, DEMO_QUIT } from "./proto.ts";

export function* demoServer(ctx: ProcessContext): Syscall {
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const status: IpcStatus = { value: 0 };
  yield* sysDiagctl(ctx, "server: waiting for requests\n");
  for (;;) {
    const r = yield* receive(ANY, um.va, status);
    if (r !== OK) {
      yield* sysDiagctl(ctx, `server: receive failed: ${errName(r)}\n`);
      continue;
    }
    const m = yield* um.get();
    const from = m.source;
    if (isIpcNotify(status.value)) {
      yield* sysDiagctl(ctx, `server: notification from ${endpointName(from)}\n`);
      continue;
    }
    const quit = m.type === DEMO_QUIT;
    if (m.type === DEMO_DOUBLE) m.set(OK, DEMO_LAYOUT, { value: m.get(DEMO_LAYOUT).value * 2 });
    else m.set(quit ? OK : EBADREQUEST, DEMO_LAYOUT, { value: 0 });
    yield* um.put();
    yield* send(from, um.va);
    if (quit) {
      yield* sysDiagctl(ctx, "server: done\n");
      return 0;
    }
  }
}
