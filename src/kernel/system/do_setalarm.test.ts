import { describe, expect, test } from "vitest";
import { ANY, CLOCK, type Endpoint } from "../../include/endpoint.ts";
import { ECALLDENIED, EPERM, OK } from "../../include/errno.ts";
import { isIpcNotify, NOTIFY_LAYOUT, notifyFrom } from "../../include/ipc.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import { RTS_RECEIVING } from "../proc.ts";
import type { KcallMsg } from "../system.ts";
import { doSetalarm } from "./do_setalarm.ts";
import {
  bootImage,
  kernelCall,
  malloc,
  receive,
  recordEvents,
  runChecked,
  send,
  sendrec,
  sysSetalarm,
  UMessage,
  type BootImageEntry,
  type IpcStatus,
  type Machine,
  type Syscall,
} from "../../../test/system_harness.ts";

interface Got {
  readonly source: number;
  readonly type: number;
  readonly arg: number;
  readonly timestamp: number;
  readonly notify: boolean;
}

/** Blocks until a message arrives and decodes it as a notification. */
function* awaitMessage(ctx: ProcessContext, from: Endpoint = ANY): Syscall<Got> {
  const um = new UMessage(ctx, malloc(ctx, 64, 64));
  const status: IpcStatus = { value: 0 };
  yield* receive(from, um.va, status);
  const m = yield* um.get();
  const n = m.get(NOTIFY_LAYOUT);
  return {
    source: m.source,
    type: m.type,
    arg: n.arg,
    timestamp: n.timestamp,
    notify: isIpcNotify(status.value),
  };
}

/** SYS_SETALARM returning [status, timeLeft]. */
function* setalarm(ctx: ProcessContext, expTime: number, abs = false): Syscall<[number, number]> {
  const r = yield* kernelCall(ctx, "SYS_SETALARM", { expTime, absTime: abs ? 1 : 0 });
  return [r.status, r.reply.timeLeft];
}

function boot(image: BootImageEntry[]): { m: Machine; clockNotifies: number[] } {
  const m = bootImage(image);
  const clockNotifies: number[] = [];
  m.onEvent((e) => {
    if (e.kind === "notify" && e.src === CLOCK) clockNotifies.push(e.dst);
  });
  const exits = recordEvents(m, "exit");
  runChecked(m);
  expect(m.halted).toBeNull();
  expect(exits.every((e) => e.reason === "exit")).toBe(true);
  return { m, clockNotifies };
}

const CLOCK_NOTIFY = {
  source: CLOCK,
  type: notifyFrom(CLOCK),
  arg: 0,
  notify: true,
};

describe("SYS_SETALARM", () => {
  test("the alarm arrives as a notification from CLOCK stamped with the expiry tick", () => {
    const got: Got[] = [];
    const { m, clockNotifies } = boot([
      {
        name: "a",
        slot: 11,
        program: function* (ctx) {
          expect(yield* sysSetalarm(ctx, 5)).toBe(OK);
          got.push(yield* awaitMessage(ctx));
          return 0;
        },
      },
    ]);
    expect(got).toEqual([{ ...CLOCK_NOTIFY, timestamp: 5 }]);
    expect(clockNotifies).toEqual([11]);
    expect(m.kernel.timers.size).toBe(0);
  });

  test("re-arming returns the ticks left and replaces the old alarm", () => {
    const left: [number, number][] = [];
    const got: Got[] = [];
    const { clockNotifies } = boot([
      {
        name: "a",
        slot: 11,
        program: function* (ctx) {
          left.push(yield* setalarm(ctx, 10));
          left.push(yield* setalarm(ctx, 20));
          got.push(yield* awaitMessage(ctx));
          left.push(yield* setalarm(ctx, 0)); // nothing left: it has fired
          return 0;
        },
      },
    ]);
    expect(left).toEqual([
      [OK, 0],
      [OK, 10],
      [OK, 0],
    ]);
    expect(got).toEqual([{ ...CLOCK_NOTIFY, timestamp: 20 }]);
    expect(clockNotifies).toEqual([11]);
  });

  test("time left shrinks as time passes", () => {
    const left: [number, number][] = [];
    boot([
      {
        name: "a",
        slot: 11,
        program: function* (ctx) {
          left.push(yield* setalarm(ctx, 10));
          yield* receive(12 as Endpoint, malloc(ctx, 64, 64)); // b wakes us at tick 4
          left.push(yield* setalarm(ctx, 0));
          return 0;
        },
      },
      {
        name: "b",
        slot: 12,
        program: function* (ctx) {
          yield* sysSetalarm(ctx, 4);
          yield* awaitMessage(ctx, CLOCK);
          yield* send(11 as Endpoint, malloc(ctx, 64, 64));
          return 0;
        },
      },
    ]);
    expect(left).toEqual([
      [OK, 0],
      [OK, 6],
    ]);
  });

  test("an expiry time of 0 cancels the alarm", () => {
    const left: [number, number][] = [];
    const { m, clockNotifies } = boot([
      {
        name: "a",
        slot: 11,
        program: function* (ctx) {
          left.push(yield* setalarm(ctx, 5));
          left.push(yield* setalarm(ctx, 0));
          yield* receive(ANY, malloc(ctx, 64, 64)); // never returns
          return 0;
        },
      },
    ]);
    expect(left).toEqual([
      [OK, 0],
      [OK, 5],
    ]);
    expect(clockNotifies).toEqual([]);
    expect(m.kernel.timers.size).toBe(0);
    expect(m.kernel.ticks).toBe(0);
    expect(m.kernel.procAddr(11)!.rtsFlags).toBe(RTS_RECEIVING);
  });

  test("absolute times fire at that tick; a time in the past fires at once", () => {
    const got: Got[] = [];
    boot([
      {
        name: "a",
        slot: 11,
        program: function* (ctx) {
          yield* sysSetalarm(ctx, 7, true);
          got.push(yield* awaitMessage(ctx));
          yield* sysSetalarm(ctx, 3, true);
          got.push(yield* awaitMessage(ctx));
          return 0;
        },
      },
    ]);
    expect(got).toEqual([
      { ...CLOCK_NOTIFY, timestamp: 7 },
      { ...CLOCK_NOTIFY, timestamp: 7 },
    ]);
  });

  test("alarms of two processes fire independently", () => {
    const got: [string, Got][] = [];
    const prog = (name: string, ticks: number) =>
      function* (ctx: ProcessContext): Syscall {
        yield* sysSetalarm(ctx, ticks);
        got.push([name, yield* awaitMessage(ctx)]);
        return 0;
      };
    boot([
      { name: "late", slot: 11, program: prog("late", 9) },
      { name: "early", slot: 12, program: prog("early", 3) },
    ]);
    expect(got).toEqual([
      ["early", { ...CLOCK_NOTIFY, timestamp: 3 }],
      ["late", { ...CLOCK_NOTIFY, timestamp: 9 }],
    ]);
  });

  test("the alarm of a process that exits is cancelled", () => {
    const { m, clockNotifies } = boot([
      {
        name: "a",
        slot: 11,
        program: function* (ctx) {
          yield* sysSetalarm(ctx, 5);
          return 0;
        },
      },
    ]);
    expect(clockNotifies).toEqual([]);
    expect(m.kernel.timers.size).toBe(0);
    expect(m.kernel.ticks).toBe(0);
  });

  test("a user process is denied; the handler refuses the shared user structure", () => {
    const got: number[] = [];
    const { m } = boot([
      {
        name: "u",
        slot: 11,
        priv: "user",
        program: function* (ctx) {
          got.push(yield* sysSetalarm(ctx, 5));
          // User processes may only SENDREC: stay alive waiting for a reply that never comes.
          yield* sendrec(12 as Endpoint, virAddr(ctx.heapBase));
          return 0;
        },
      },
      {
        name: "sink",
        slot: 12,
        program: function* (ctx) {
          yield* receive(ANY, virAddr(ctx.heapBase));
          yield* receive(CLOCK, virAddr(ctx.heapBase));
          return 0;
        },
      },
    ]);
    expect(got).toEqual([ECALLDENIED]);
    const u = m.kernel.procAddr(11)!;
    const msg: KcallMsg<"SYS_SETALARM"> = {
      req: { expTime: 5, absTime: 0 },
      reply: () => undefined,
    };
    expect(doSetalarm(m.kernel, u, msg)).toBe(EPERM);
    expect(u.priv!.alarmAt).toBe(-1);
    expect(m.kernel.timers.size).toBe(0);
  });
});
