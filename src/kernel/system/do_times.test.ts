import { describe, expect, test } from "vitest";
import { ANY, CLOCK, makeEndpoint, NONE, SELF, type Endpoint } from "../../include/endpoint.ts";
import { ECALLDENIED, OK } from "../../include/errno.ts";
import type { KcallReply } from "../../include/kcall.ts";
import { virAddr } from "../../include/types.ts";
import {
  bootImage,
  malloc,
  receive,
  recordEvents,
  runChecked,
  sysSetalarm,
  sysTimes,
  type BootImageEntry,
  type Machine,
} from "../../../test/system_harness.ts";

type Times = { status: number } & KcallReply<"SYS_TIMES">;

function boot(image: BootImageEntry[], cyclesPerTick = 1_000_000): Machine {
  const m = bootImage(image, { cyclesPerTick });
  const exits = recordEvents(m, "exit");
  runChecked(m);
  expect(m.halted).toBeNull();
  expect(exits.every((e) => e.reason === "exit")).toBe(true);
  return m;
}

describe("SYS_TIMES", () => {
  test("SELF reports the caller and the uptime in ticks", () => {
    const got: Times[] = [];
    boot([
      {
        name: "t",
        slot: 11,
        program: function* (ctx) {
          const before = yield* sysTimes(ctx, SELF);
          got.push({ status: before.status, ...before.reply });
          yield* sysSetalarm(ctx, 5);
          yield* receive(CLOCK, malloc(ctx, 64, 64));
          const after = yield* sysTimes(ctx, SELF);
          got.push({ status: after.status, ...after.reply });
          return 0;
        },
      },
    ]);
    expect(got.map((t) => [t.status, t.endpt, t.bootTicks])).toEqual([
      [OK, 11, 0],
      [OK, 11, 5],
    ]);
  });

  test("another process's accounted user time is reported", () => {
    const got: Times[] = [];
    const m = boot(
      [
        {
          name: "busy",
          slot: 11,
          priority: 6, // runs until it blocks, before the asker
          program: function* (ctx) {
            // Burn simulated time, then wait for ever.
            for (let i = 0; i < 100; i++) yield* sysTimes(ctx, SELF);
            yield* receive(ANY, malloc(ctx, 64, 64));
            return 0;
          },
        },
        {
          name: "asker",
          slot: 12,
          program: function* (ctx) {
            const r = yield* sysTimes(ctx, 11 as Endpoint);
            got.push({ status: r.status, ...r.reply });
            return 0;
          },
        },
      ],
      1000,
    );
    const busy = m.kernel.procAddr(11)!;
    expect(busy.userTime).toBeGreaterThan(10);
    expect(got).toHaveLength(1);
    expect(got[0]!.status).toBe(OK);
    expect(got[0]!.endpt).toBe(11);
    expect(got[0]!.userTime).toBe(busy.userTime);
    expect(got[0]!.bootTicks).toBeGreaterThanOrEqual(busy.userTime);
    expect(got[0]!.bootTicks).toBeLessThanOrEqual(m.kernel.ticks);
  });

  test("NONE or a dead endpoint reports only the uptime", () => {
    const got: Times[] = [];
    const stale = makeEndpoint(1, 12);
    const m = boot([
      {
        name: "t",
        slot: 11,
        program: function* (ctx) {
          for (const ep of [NONE, stale, makeEndpoint(0, 40)]) {
            const r = yield* sysTimes(ctx, ep);
            got.push({ status: r.status, ...r.reply });
          }
          return 0;
        },
      },
      {
        name: "other",
        slot: 12,
        program: function* (ctx) {
          yield* receive(ANY, virAddr(ctx.heapBase));
          return 0;
        },
      },
    ]);
    expect(got.map((t) => [t.status, t.endpt, t.userTime, t.systemTime, t.bootTicks])).toEqual([
      [OK, NONE, 0, 0, m.kernel.ticks],
      [OK, stale, 0, 0, m.kernel.ticks],
      [OK, 40, 0, 0, m.kernel.ticks],
    ]);
  });

  test("a user process is denied", () => {
    const got: number[] = [];
    boot([
      {
        name: "u",
        slot: 11,
        priv: "user",
        program: function* (ctx) {
          got.push((yield* sysTimes(ctx, SELF)).status);
          return 0;
        },
      },
    ]);
    expect(got).toEqual([ECALLDENIED]);
  });
});
