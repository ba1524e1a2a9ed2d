import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { initEntry, pmEntry } from "../src/boot/services.ts";
import { RS_PROC_NR } from "../src/include/endpoint.ts";
import { OK } from "../src/include/errno.ts";
import { M_PAYLOAD, MESSAGE_SIZE } from "../src/include/message.ts";
import { RS_CALLS, RS_RQ_BASE } from "../src/include/rs.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { sendrec, type Syscall } from "../src/lib/ipc.ts";
import { rsLookup } from "../src/lib/rs.ts";
import { malloc } from "../src/lib/runtime.ts";
import { sefStartup } from "../src/lib/sef.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { driverEntry, rsImage, runUntil } from "./fixtures/rs.ts";

interface Req {
  readonly fromSystem: boolean;
  readonly type: number;
  readonly payload: Uint8Array;
}

const labels = ["vm", "pm", "rs", "driver", "init", "nosuch", ""];
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A request: a known RS call with a plausible or random payload, or a random type. */
const reqArb: fc.Arbitrary<Req> = fc.record({
  fromSystem: fc.boolean(),
  type: fc.oneof(
    fc.constantFrom(...Object.values(RS_CALLS).map((c) => c.nr)),
    fc.integer({ min: RS_RQ_BASE - 4, max: RS_RQ_BASE + 0x30 }),
    fc.integer(),
  ),
  payload: fc.oneof(
    fc.constantFrom(...labels).map((l) => {
      const p = new Uint8Array(MESSAGE_SIZE - M_PAYLOAD);
      p.set(enc(l));
      return p;
    }),
    fc.uint8Array({ minLength: MESSAGE_SIZE - M_PAYLOAD, maxLength: MESSAGE_SIZE - M_PAYLOAD }),
  ),
});

/** Sends its share of `reqs` to RS, one SENDREC each; counts the answers. */
function sender(
  name: string,
  slot: number,
  system: boolean,
  reqs: readonly Req[],
  done: { n: number },
): BootImageEntry {
  return {
    name,
    slot,
    priority: 9,
    ...(system ? {} : { priv: "user" as const }),
    program: function* (ctx: ProcessContext): Syscall {
      if (system) yield* sefStartup(ctx);
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      for (const r of reqs) {
        if (r.fromSystem !== system) continue;
        um.m.clear();
        um.m.type = r.type;
        um.m.bytes.set(r.payload, M_PAYLOAD);
        yield* um.put();
        yield* sendrec(RS_PROC_NR, um.va);
      }
      done.n++;
      // The system sender stays (RS manages it); the user one ends.
      return 0;
    },
  };
}

describe("RS under random requests", () => {
  test("random requests from a user and a system process never bring RS down", () => {
    fc.assert(
      fc.property(fc.array(reqArb, { maxLength: 12 }), (reqs) => {
        const done = { n: 0 };
        const check: number[] = [];
        const m = Machine.boot({
          memoryBytes: 32 << 20,
          nrProcs: 64,
          image: rsImage([
            pmEntry,
            initEntry(),
            driverEntry(),
            sender("usr", 20, false, reqs, done),
            sender("sys", 21, true, reqs, done),
            {
              name: "probe",
              slot: 22,
              priv: "user",
              priority: 14,
              program: function* (ctx) {
                check.push(yield* rsLookup(ctx, "vm"));
                return 0;
              },
            },
          ]),
        });
        runUntil(m, () => check.length > 0, 2_000_000);
        expect(m.halted).toBeNull();
        m.check();
        const rs = m.kernel.procAddr(RS_PROC_NR)!;
        expect(rs.isFree).toBe(false);
        expect(check).toEqual([8]);
        expect(OK).toBe(0);
      }),
      { numRuns: 40, seed: 7 },
    );
  });
});
