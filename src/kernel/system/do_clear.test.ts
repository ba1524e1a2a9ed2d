import { describe, expect, test } from "vitest";
import { ANY, CLOCK, makeEndpoint, NONE, SYSTEM, type Endpoint } from "../../include/endpoint.ts";
import { ECALLDENIED, EDEADSRCDST, EINVAL, EPERM, OK } from "../../include/errno.ts";
import {
  bootImage,
  malloc,
  receive,
  recordEvents,
  runChecked,
  sendrec,
  sysClear,
  sysSetalarm,
  type BootImageEntry,
} from "../../../test/system_harness.ts";

const PM = 11 as Endpoint;
const VICTIM = 12 as Endpoint;
const PEER = 13 as Endpoint;

/** A process that waits for ever, optionally with an alarm armed. */
function waiter(name: string, slot: Endpoint, alarm = 0): BootImageEntry {
  return {
    name,
    slot,
    priority: 6, // settles before PM (queue 7) runs
    program: function* (ctx) {
      if (alarm > 0) yield* sysSetalarm(ctx, alarm);
      const buf = malloc(ctx, 64, 64);
      for (;;) yield* receive(ANY, buf); // takes requests, never replies
    },
  };
}

describe("SYS_CLEAR", () => {
  test("clears another process: its slot is freed and processes blocked on it are released", () => {
    const results: number[] = [];
    const peer: number[] = [];
    const m = bootImage([
      {
        name: "pm",
        slot: PM,
        priv: { kcalls: ["SYS_CLEAR"] },
        program: function* (ctx) {
          results.push(yield* sysClear(ctx, VICTIM));
          results.push(yield* sysClear(ctx, VICTIM)); // now free
          return 0;
        },
      },
      waiter("victim", VICTIM, 50),
      {
        name: "caller",
        slot: PEER,
        priority: 6,
        program: function* (ctx) {
          // The victim takes the request but never answers: this waits for its reply.
          peer.push(yield* sendrec(VICTIM, malloc(ctx, 64, 64)));
          return 0;
        },
      },
    ]);
    const exits = recordEvents(m, "exit");
    runChecked(m);
    expect(m.halted).toBeNull();
    expect(results).toEqual([OK, OK]);
    expect(m.kernel.procAddr(VICTIM)!.isFree).toBe(true);
    expect(m.kernel.isokendpt(VICTIM)).toBeUndefined();
    expect(peer).toEqual([EDEADSRCDST]);
    expect(exits.map((e) => [e.ep, e.reason])).toEqual([
      [VICTIM, "cleared by pm"],
      [PEER, "exit"],
      [PM, "exit"],
    ]);
    // The victim's alarm went with it: time never moved on to tick 50.
    expect(m.kernel.timers.size).toBe(0);
    expect(m.kernel.ticks).toBe(0);
  });

  test("a free slot is OK; bad endpoints are EINVAL; kernel tasks are EPERM", () => {
    const results: number[] = [];
    const m = bootImage([
      {
        name: "pm",
        slot: PM,
        program: function* (ctx) {
          for (const ep of [
            makeEndpoint(0, 30), // free slot
            makeEndpoint(3, 30), // free slot, any generation
            makeEndpoint(1, VICTIM), // live slot, wrong generation
            makeEndpoint(0, 5000), // no such slot
            NONE,
            ANY,
            CLOCK,
            SYSTEM,
          ]) {
            results.push(yield* sysClear(ctx, ep));
          }
          return 0;
        },
      },
      waiter("victim", VICTIM),
    ]);
    runChecked(m);
    expect(results).toEqual([OK, OK, EINVAL, EINVAL, EINVAL, EINVAL, EPERM, EPERM]);
    expect(m.kernel.isokendpt(VICTIM)).toBeDefined();
  });

  test("a process that clears itself does not return", () => {
    const after: number[] = [];
    const m = bootImage([
      {
        name: "pm",
        slot: PM,
        program: function* (ctx) {
          after.push(yield* sysClear(ctx, PM));
          return 0;
        },
      },
    ]);
    const exits = recordEvents(m, "exit");
    runChecked(m);
    expect(after).toEqual([]);
    expect(exits.map((e) => [e.ep, e.reason])).toEqual([[PM, "cleared by pm"]]);
    expect(m.kernel.procAddr(PM)!.isFree).toBe(true);
  });

  test("without SYS_CLEAR in the call mask the call is denied and nothing happens", () => {
    const results: number[] = [];
    const m = bootImage([
      {
        name: "pm",
        slot: PM,
        priv: { kcalls: ["SYS_TIMES"] },
        program: function* (ctx) {
          results.push(yield* sysClear(ctx, VICTIM));
          return 0;
        },
      },
      waiter("victim", VICTIM),
    ]);
    runChecked(m);
    expect(results).toEqual([ECALLDENIED]);
    expect(m.kernel.isokendpt(VICTIM)).toBeDefined();
  });
});
