/**
 * The echo driver's demonstration client (a user process): finds the driver by label, asks it
 * once, makes it crash, waits for RS to bring it back under the same label (a new endpoint),
 * asks again and exits. Prints each step on the console.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import { errName, ESRCH, OK } from "../../include/errno.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { sendrec, type Syscall } from "../../lib/ipc.ts";
import { sysDiagctl } from "../../lib/libsys/sys_misc.ts";
import { malloc } from "../../lib/runtime.ts";
import { rsLookup } from "../../lib/rs.ts";
import { UMessage } from "../../lib/umessage.ts";
import { CRASH_THROW, ECHO, ECHO_LAYOUT } from "./proto.ts";

/** Lookups before giving up on the driver coming back. */
const MAX_LOOKUPS = 100_000;

export function* echoClient(ctx: ProcessContext): Syscall {
  const label = ctx.argv[1] ?? "echo";
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const say = (text: string): Syscall => sysDiagctl(ctx, `client: ${text}\n`);

  function* find(): Syscall<Endpoint | number> {
    for (let i = 0; i < MAX_LOOKUPS; i++) {
      const ep = yield* rsLookup(ctx, label);
      if (ep >= 0 || ep !== ESRCH) return ep;
    }
    return ESRCH;
  }
  function* ask(ep: Endpoint, type: number, value: number): Syscall<number> {
    um.m.set(type, ECHO_LAYOUT, { value, incarnation: 0 });
    yield* um.put();
    const r = yield* sendrec(ep, um.va);
    if (r !== OK) return r;
    const m = yield* um.get();
    if (m.type !== OK) return m.type;
    const rep = m.get(ECHO_LAYOUT);
    const kind = rep.incarnation === 0 ? "fresh" : "restarted";
    yield* say(`ECHO ${value} -> ${rep.value} (from the ${kind} instance)`);
    return OK;
  }

  let ep = yield* find();
  if (ep < 0) return yield* fail(ctx, `lookup of ${label}`, ep);
  yield* say(`${label} is endpoint ${ep}`);
  const r1 = yield* ask(ep as Endpoint, ECHO, 1);
  if (r1 !== OK) return yield* fail(ctx, "ECHO", r1);
  yield* say(`asking ${label} to crash`);
  const crash = yield* ask(ep as Endpoint, CRASH_THROW, 0);
  yield* say(`the request ended with ${errName(crash)}`);
  ep = yield* find();
  if (ep < 0) return yield* fail(ctx, `lookup of ${label}`, ep);
  yield* say(`${label} is back as endpoint ${ep}`);
  const r2 = yield* ask(ep as Endpoint, ECHO, 2);
  if (r2 !== OK) return yield* fail(ctx, "ECHO", r2);
  yield* say("done");
  return 0;
}

function* fail(ctx: ProcessContext, what: string, r: number): Syscall {
  yield* sysDiagctl(ctx, `client: ${what} failed: ${errName(r)}\n`);
  return 1;
}
