import { describe, expect, test } from "vitest";
import { ANY } from "../../include/endpoint.ts";
import { ECALLDENIED, EINVAL, EPERM, OK } from "../../include/errno.ts";
import { virAddr } from "../../include/types.ts";
import { USER_PRIV_ID } from "../priv.ts";
import type { KcallMsg } from "../system.ts";
import { doSetgrant } from "./do_setgrant.ts";
import {
  bootImage,
  bootSettled,
  DATA_BASE,
  malloc,
  receive,
  settle,
  sysSetgrant,
  type BootImageEntry,
} from "../../../test/system_harness.ts";

/** Runs `calls` as SYS_SETGRANT requests, recording [status, table, entries] after each. */
function setgrants(calls: [number, number][], priv: BootImageEntry["priv"] = {}) {
  const got: [number, number, number][] = [];
  const m = bootImage([
    {
      name: "g",
      slot: 11,
      priv,
      program: function* (ctx) {
        for (const [addr, size] of calls) {
          const r = yield* sysSetgrant(ctx, virAddr(addr), size);
          const p = m.kernel.procAddr(11)!.priv!;
          got.push([r, p.grantTable, p.grantEntries]);
        }
        yield* receive(ANY, malloc(ctx, 64, 64));
        return 0;
      },
    },
  ]);
  settle(m);
  return got;
}

describe("SYS_SETGRANT", () => {
  test("stores the table address and entry count in the caller's privilege structure", () => {
    const table = DATA_BASE + 0x1000;
    expect(
      setgrants([
        [table, 10],
        [table + 0x2000, 0],
      ]),
    ).toEqual([
      [OK, table, 10],
      [OK, table + 0x2000, 0],
    ]);
  });

  test("the memory is not checked: an unmapped address is accepted", () => {
    expect(setgrants([[0xdead0000, 5]])).toEqual([[OK, 0xdead0000, 5]]);
  });

  test("a negative size is EINVAL and leaves the old table in place", () => {
    expect(
      setgrants([
        [DATA_BASE, 4],
        [DATA_BASE + 64, -1],
      ]),
    ).toEqual([
      [OK, DATA_BASE, 4],
      [EINVAL, DATA_BASE, 4],
    ]);
  });

  test("a user process is denied and the shared user structure is untouched", () => {
    expect(setgrants([[DATA_BASE, 4]], "user")).toEqual([[ECALLDENIED, 0, 0]]);
  });

  test("the handler refuses a process with RTS_NO_PRIV or without a privilege structure", () => {
    const m = bootSettled([
      {
        name: "stopped",
        slot: 11,
        runnable: false,
        program: function* (ctx) {
          yield* receive(ANY, malloc(ctx, 64, 64));
          return 0;
        },
      },
    ]);
    const msg: KcallMsg<"SYS_SETGRANT"> = {
      req: { addr: virAddr(DATA_BASE), size: 3 },
      reply: () => undefined,
    };
    const stopped = m.kernel.procAddr(11)!;
    expect(doSetgrant(m.kernel, stopped, msg)).toBe(EPERM);
    expect(stopped.priv!.grantEntries).toBe(0);
    const free = m.kernel.procAddr(30)!;
    expect(free.priv).toBeNull();
    expect(doSetgrant(m.kernel, free, msg)).toBe(EPERM);
    expect(m.kernel.privs.byId(USER_PRIV_ID)!.grantEntries).toBe(0);
  });
});
