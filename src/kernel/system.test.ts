import { describe, expect, test } from "vitest";
import { ANY, SELF, SYSTEM, type Endpoint } from "../include/endpoint.ts";
import { EBADREQUEST, ECALLDENIED, OK } from "../include/errno.ts";
import { KCALLS, KERNEL_CALL, NR_SYS_CALLS, kcallName } from "../include/kcall.ts";
import { M_PAYLOAD, MESSAGE_SIZE, type Message } from "../include/message.ts";
import type { ProcessContext } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import {
  bootImage,
  DATA_BASE,
  kcallType,
  PAGE_SIZE,
  rawKcall,
  receive,
  recordEvents,
  runChecked,
  type BootImageEntry,
  type RawCall,
  type Syscall,
} from "../../test/system_harness.ts";

const CALLER = 11 as Endpoint;
const OTHER = 12 as Endpoint;
const TIMES = KCALLS.SYS_TIMES;

/** Boots one caller (slot 11) running `body`, plus an idle peer in slot 12; runs to idle. */
function run(
  body: (ctx: ProcessContext) => Syscall<void>,
  priv: BootImageEntry["priv"] = {},
  dataPages = 16,
) {
  const image: BootImageEntry[] = [
    {
      name: "caller",
      slot: CALLER,
      priv,
      dataPages,
      program: function* (ctx) {
        yield* body(ctx);
        return 0;
      },
    },
    {
      name: "peer",
      slot: OTHER,
      program: function* (ctx) {
        yield* receive(ANY, virAddr(ctx.heapBase));
        return 0;
      },
    },
  ];
  const m = bootImage(image);
  const kcalls = recordEvents(m, "kcall");
  const exits = recordEvents(m, "exit");
  runChecked(m);
  expect(m.halted).toBeNull();
  expect(exits.find((e) => e.ep === CALLER)?.reason).toBe("exit");
  return { m, kcalls };
}

/** A request with `m_type = type` and a recognisable payload (byte i = i). */
function marked(type: number): (m: Message) => void {
  return (m) => {
    m.type = type;
    for (let i = M_PAYLOAD; i < MESSAGE_SIZE; i++) m.bytes[i] = i;
  };
}

function payloadIntact(r: RawCall): void {
  for (let i = M_PAYLOAD; i < MESSAGE_SIZE; i++) expect(r.reply.bytes[i]).toBe(i);
}

describe("kernel-call dispatch (§3.2)", () => {
  test("an unreadable request message gives EBADREQUEST as the trap result", () => {
    const results: number[] = [];
    const { kcalls } = run(function* (ctx) {
      results.push((yield* rawKcall(ctx, marked(kcallType("SYS_TIMES")), virAddr(0x10))).result);
    });
    expect(results).toEqual([EBADREQUEST]);
    // The handler never ran.
    expect(kcalls).toEqual([]);
  });

  test("a request message that runs into an unmapped page gives EBADREQUEST", () => {
    const results: number[] = [];
    // Two data pages: the last 32 bytes of the area are mapped, the next 32 are not.
    const va = virAddr(DATA_BASE + 2 * PAGE_SIZE - 32);
    run(
      function* (ctx) {
        results.push((yield* rawKcall(ctx, marked(kcallType("SYS_TIMES")), va)).result);
      },
      {},
      2,
    );
    expect(results).toEqual([EBADREQUEST]);
  });

  test("call numbers outside 0x600..0x600+NR_SYS_CALLS-1 give EBADREQUEST, written over the request", () => {
    const types = [0, 0x5ff, -1, KERNEL_CALL + NR_SYS_CALLS, KERNEL_CALL + 1000];
    const replies: RawCall[] = [];
    const { kcalls } = run(function* (ctx) {
      for (const t of types) replies.push(yield* rawKcall(ctx, marked(t)));
    });
    expect(replies.map((r) => r.result)).toEqual(types.map(() => EBADREQUEST));
    for (const r of replies) {
      expect(r.reply.source).toBe(SYSTEM);
      expect(r.reply.type).toBe(EBADREQUEST);
      payloadIntact(r);
    }
    expect(kcalls).toEqual([]);
  });

  test("a known but unimplemented call allowed by the mask gives EBADREQUEST", () => {
    const unimplemented: number[] = [];
    for (let n = 0; n < NR_SYS_CALLS; n++) {
      const name = kcallName(n);
      if (name === undefined || !(name in KCALLS)) unimplemented.push(n);
    }
    expect(unimplemented).toContain(5); // SYS_TRACE
    const results: number[] = [];
    run(function* (ctx) {
      for (const n of unimplemented) {
        results.push((yield* rawKcall(ctx, marked(KERNEL_CALL + n))).result);
      }
    });
    expect(results).toEqual(unimplemented.map(() => EBADREQUEST));
  });

  test("a call masked out of the caller's kcalls gives ECALLDENIED; allowed calls work", () => {
    const replies: RawCall[] = [];
    run(
      function* (ctx) {
        replies.push(yield* rawKcall(ctx, marked(kcallType("SYS_GETINFO"))));
        // The mask is checked before the handler lookup.
        replies.push(yield* rawKcall(ctx, marked(kcallType("SYS_FORK"))));
        replies.push(
          yield* rawKcall(ctx, (m) => m.set(kcallType("SYS_TIMES"), TIMES.req, { endpt: SELF })),
        );
      },
      { kcalls: ["SYS_TIMES"] },
    );
    expect(replies.map((r) => r.result)).toEqual([ECALLDENIED, ECALLDENIED, OK]);
    expect(replies[0]!.reply.type).toBe(ECALLDENIED);
    expect(replies[0]!.reply.source).toBe(SYSTEM);
    payloadIntact(replies[0]!);
  });

  test("a user process may make no kernel call at all", () => {
    const results: number[] = [];
    run(function* (ctx) {
      for (const name of ["SYS_TIMES", "SYS_GETINFO", "SYS_DIAGCTL", "SYS_EXIT"] as const) {
        results.push((yield* rawKcall(ctx, marked(kcallType(name)))).result);
      }
    }, "user");
    expect(results).toEqual([ECALLDENIED, ECALLDENIED, ECALLDENIED, ECALLDENIED]);
  });

  test("the reply (m_source = SYSTEM, m_type = result, reply fields) replaces the request", () => {
    let r: RawCall | undefined;
    const { kcalls } = run(function* (ctx) {
      r = yield* rawKcall(ctx, (msg) => {
        msg.set(kcallType("SYS_TIMES"), TIMES.req, { endpt: SELF });
        msg.bytes[60] = 0xab; // beyond the reply fields: copied back unchanged
      });
    });
    expect(r!.result).toBe(OK);
    expect(r!.reply.source).toBe(SYSTEM);
    expect(r!.reply.type).toBe(OK);
    const reply = r!.reply.get(TIMES.reply);
    expect(reply.endpt).toBe(CALLER);
    expect(reply.bootTicks).toBe(0);
    expect(r!.reply.bytes[60]).toBe(0xab);
    expect(kcalls).toEqual([
      expect.objectContaining({ ep: CALLER, call: "SYS_TIMES", result: OK }),
    ]);
  });

  test("a forged m_source is ignored: SYS_TIMES with SELF reports the real caller", () => {
    let r: RawCall | undefined;
    const { kcalls } = run(function* (ctx) {
      r = yield* rawKcall(ctx, (msg) => {
        msg.set(kcallType("SYS_TIMES"), TIMES.req, { endpt: SELF });
        msg.source = OTHER;
      });
    });
    expect(r!.result).toBe(OK);
    expect(r!.reply.get(TIMES.reply).endpt).toBe(CALLER);
    expect(r!.reply.source).toBe(SYSTEM);
    expect(kcalls.map((e) => e.ep)).toEqual([CALLER]);
  });

  test("a request message that is not word aligned is read and answered in place", () => {
    let r: RawCall | undefined;
    run(function* (ctx) {
      r = yield* rawKcall(
        ctx,
        (msg) => msg.set(kcallType("SYS_TIMES"), TIMES.req, { endpt: SELF }),
        virAddr(DATA_BASE + PAGE_SIZE - 30), // straddles two mapped pages, unaligned
      );
    });
    expect(r!.result).toBe(OK);
    expect(r!.reply.source).toBe(SYSTEM);
    expect(r!.reply.get(TIMES.reply).endpt).toBe(CALLER);
  });
});
