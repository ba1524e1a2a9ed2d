/**
 * RS's restart latency: a machine with the whole system (rs, vm, pm, init), the echo driver and
 * a client that asks it once, makes it crash (an exception: SIGILL), then asks again until the
 * new instance answers (finding it by label). One operation is one crash-to-answer cycle on a
 * freshly booted machine (the first death of a service restarts at once, without backoff).
 * - `rs.restart_latency`: simulated time of the cycle, in clock ticks;
 * - `rs.restart_latency_host`: host time of the cycle.
 */
import { Machine } from "../boot/machine.ts";
import { initEntry, pmEntry, rsEntry, vmEntry } from "../boot/services.ts";
import { echoDriver } from "../drivers/echo/main.ts";
import { CRASH_THROW, ECHO, ECHO_LAYOUT } from "../drivers/echo/proto.ts";
import type { Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import type { ProcessContext } from "../include/trap.ts";
import { sendrec, type Syscall } from "../lib/ipc.ts";
import { rsLookup } from "../lib/rs.ts";
import { malloc } from "../lib/runtime.ts";
import { UMessage } from "../lib/umessage.ts";
import type { Workload } from "./measure.ts";

interface Run {
  readonly m: Machine;
  readonly state: { answers: number };
}

function client(state: { answers: number }) {
  return function* (ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    for (const op of [ECHO, CRASH_THROW, ECHO]) {
      for (let tries = 0; tries < 1_000_000; tries++) {
        const ep = yield* rsLookup(ctx, "echo");
        if (ep < 0) continue;
        um.m.set(op, ECHO_LAYOUT, { value: 0, incarnation: 0 });
        yield* um.put();
        const r = yield* sendrec(ep as Endpoint, um.va);
        if (op !== ECHO) break;
        if (r === OK && (yield* um.get()).type === OK) {
          state.answers++;
          break;
        }
      }
    }
    return 0;
  };
}

function boot(): Run {
  const state = { answers: 0 };
  const m = Machine.boot({
    memoryBytes: 32 << 20,
    nrProcs: 64,
    image: [
      rsEntry,
      vmEntry,
      pmEntry,
      initEntry(),
      { name: "echo", slot: 11, program: echoDriver, priority: 5 },
      { name: "client", slot: 12, program: client(state), priv: "user" },
    ],
  });
  runTo(m, () => state.answers >= 1);
  return { m, state };
}

/** Steps `m` one scheduling step at a time until `done()`. */
function runTo(m: Machine, done: () => boolean): void {
  while (!done()) {
    if (!m.step()) throw new Error(`rs.restart_latency: machine stopped (${m.halted ?? "idle"})`);
  }
}

/** The host figure; `ticks` collects the simulated latency of every cycle it ran. */
export function rsRestartLatency(): { host: Workload; ticks: number[] } {
  const ticks: number[] = [];
  const ready: Run[] = [];
  const host: Workload = {
    name: "rs.restart_latency_host",
    unit: "µs",
    prepare(n: number): void {
      while (ready.length < n) ready.push(boot());
    },
    run(n: number): number {
      for (let i = 0; i < n; i++) {
        const r = ready.pop()!;
        const clock = r.m.hw.clock;
        const t0 = clock.cycles;
        runTo(r.m, () => r.state.answers >= 2);
        ticks.push((clock.cycles - t0) / r.m.options.cyclesPerTick);
      }
      return n;
    },
  };
  return { host, ticks };
}
