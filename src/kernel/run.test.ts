import { describe, expect, test } from "vitest";
import { ANY, type Endpoint } from "../include/endpoint.ts";
import { EINVAL, OK } from "../include/errno.ts";
import type { ProcessContext, SigEntry } from "../include/trap.ts";
import { bootSettled, malloc, receive, type Syscall } from "../../test/system_harness.ts";

const CALLER = 11 as Endpoint;

describe("entry-registering traps", () => {
  test('"forkentry" and "sigentry" take a function; anything else gives EINVAL and keeps it', () => {
    const results: unknown[] = [];
    // eslint-disable-next-line require-yield -- a child program that is never started
    function* child(_ctx: ProcessContext): Syscall {
      return 0;
    }
    const entry: SigEntry = (ctx) => child(ctx);
    const m = bootSettled([
      {
        name: "caller",
        slot: CALLER,
        program: function* (ctx) {
          results.push(yield { kind: "forkentry", program: child });
          results.push(yield { kind: "sigentry", entry });
          results.push(yield { kind: "forkentry", program: 7 } as never);
          results.push(yield { kind: "sigentry", entry: "handler" } as never);
          for (;;) yield* receive(ANY, malloc(ctx, 64, 64));
        },
      },
    ]);
    expect(results).toEqual([OK, OK, EINVAL, EINVAL]);
    const p = m.kernel.procAddr(CALLER)!;
    expect(p.forkEntry).toBe(child);
    expect(p.sigEntry).toBe(entry);
  });
});
