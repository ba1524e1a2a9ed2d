/**
 * Scheduling as a whole system: round robin within a priority after a quantum of ticks,
 * strict priority between queues, and idle time jumping to the next alarm.
 */
import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import { CLOCK, SELF } from "../src/include/endpoint.ts";
import { OK } from "../src/include/errno.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { receive, type Syscall } from "../src/lib/ipc.ts";
import { sysSetalarm, sysTimes } from "../src/lib/libsys/sys_misc.ts";
import { malloc } from "../src/lib/runtime.ts";

/** A CPU-bound process: `n` kernel calls, logging its name before each. */
function worker(name: string, n: number, log: string[]) {
  return function* (ctx: ProcessContext): Syscall {
    for (let i = 0; i < n; i++) {
      log.push(name);
      yield* sysTimes(ctx, SELF);
    }
    return 0;
  };
}

/** Lengths of the runs of equal consecutive entries. */
function runs(log: readonly string[]): { name: string; length: number }[] {
  const out: { name: string; length: number }[] = [];
  for (const name of log) {
    const last = out[out.length - 1];
    if (last !== undefined && last.name === name) last.length++;
    else out.push({ name, length: 1 });
  }
  return out;
}

describe("scheduler", () => {
  test("processes of one priority take turns when their quantum runs out", () => {
    const log: string[] = [];
    // 10 000 cycles per tick and 400 cycles per kernel call: 25 calls per tick.
    const m = Machine.boot({
      cyclesPerTick: 10_000,
      quantumTicks: 2,
      image: [
        { name: "a", program: worker("a", 400, log) },
        { name: "b", program: worker("b", 400, log) },
      ],
    });
    m.runUntilIdle();
    expect(m.halted).toBeNull();
    m.check();
    expect(log.filter((x) => x === "a")).toHaveLength(400);
    expect(log.filter((x) => x === "b")).toHaveLength(400);
    const r = runs(log);
    // Many alternations, each slice about one quantum (2 ticks ≈ 50 calls), never a whole run.
    expect(r.length).toBeGreaterThan(10);
    for (const slice of r.slice(0, -1)) expect(slice.length).toBeLessThanOrEqual(60);
    expect(r[0]!.name).toBe("a");
    expect(r[1]!.name).toBe("b");
  });

  test("a runnable higher-priority process always runs before a lower one", () => {
    const log: string[] = [];
    const m = Machine.boot({
      cyclesPerTick: 10_000,
      quantumTicks: 1,
      image: [
        { name: "low", program: worker("low", 200, log), priority: 9 },
        { name: "high", program: worker("high", 200, log), priority: 3 },
      ],
    });
    m.runUntilIdle();
    m.check();
    expect(runs(log)).toEqual([
      { name: "high", length: 200 },
      { name: "low", length: 200 },
    ]);
  });

  test("when nothing can run, time jumps to the next alarm and idles after the last", () => {
    const got: number[] = [];
    const m = Machine.boot({
      image: [
        {
          name: "sleeper",
          program: function* (ctx) {
            const buf = malloc(ctx, 64, 64);
            expect(yield* sysSetalarm(ctx, 1000)).toBe(OK);
            got.push(yield* receive(CLOCK, buf));
            got.push((yield* sysTimes(ctx, SELF)).reply.bootTicks);
            return 0;
          },
        },
      ],
    });
    const steps = m.runUntilIdle();
    expect(got).toEqual([OK, 1000]);
    expect(steps).toBeLessThan(20);
    expect(m.snapshot().ticks).toBe(1000);
    expect(m.snapshot().procs.filter((p) => p.slot >= 0)).toEqual([]);
    expect(m.step()).toBe(false);
  });
});
