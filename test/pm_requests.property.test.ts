/**
 * PM under random requests: a user process sends PM requests of random types (PM's own and
 * others) with random payloads. PM must answer with errors, never crash or stop serving, and
 * the kernel's and VM's invariants hold after every step; INIT survives.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { INIT_PROC_NR, PM_PROC_NR } from "../src/include/endpoint.ts";
import { PAYLOAD_SIZE, M_PAYLOAD } from "../src/include/message.ts";
import { PM_CALL_NR } from "../src/include/pm.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { sendrec, type Syscall } from "../src/lib/ipc.ts";
import { fork, getpid, waitpid } from "../src/lib/libc/pm.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { bootPm, runPm } from "./fixtures/pm.ts";

interface Req {
  readonly type: number;
  readonly payload: Uint8Array;
}

const reqArb: fc.Arbitrary<Req> = fc.record({
  type: fc.oneof(fc.constantFrom(...Object.values(PM_CALL_NR)), fc.integer()),
  payload: fc.oneof(
    fc.uint8Array({ minLength: PAYLOAD_SIZE, maxLength: PAYLOAD_SIZE }),
    // Small numbers are likelier to mean something (pids, signals, lengths).
    fc
      .array(fc.integer({ min: -3, max: 40 }), { minLength: 14, maxLength: 14 })
      .map((xs) => new Uint8Array(Int32Array.from(xs).buffer)),
  ),
});

describe("PM under random requests", () => {
  test("answers errors, never crashes; INIT and PM survive", () => {
    let answered = 0;
    fc.assert(
      fc.property(fc.array(reqArb, { minLength: 1, maxLength: 8 }), (reqs) => {
        let runs = 0;
        const answers: number[] = [];
        function* fuzz(ctx: ProcessContext): Syscall {
          // A fork request runs this program again in the child: only the first copies fuzz.
          if (++runs > 3) return 0;
          const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
          for (const r of reqs) {
            um.m.clear();
            um.m.type = r.type;
            um.m.bytes.set(r.payload, M_PAYLOAD);
            yield* um.put();
            const s = yield* sendrec(PM_PROC_NR, um.va);
            answers.push(s === 0 ? (yield* um.get()).type : s);
          }
          return 0;
        }
        function* main(ctx: ProcessContext): Syscall {
          const pid = yield* fork(ctx, fuzz);
          if (pid > 0) yield* waitpid(ctx, pid);
          yield* getpid(ctx);
          return 0;
        }
        const { m } = bootPm({ main });
        runPm(m);
        // Every answer is a status (OK, a positive reply value never comes as m_type).
        for (const a of answers) expect(a).toBeLessThanOrEqual(0);
        expect(m.snapshot().procs.some((p) => p.slot === (INIT_PROC_NR as number))).toBe(true);
        answered += answers.length;
      }),
      { seed: 11, numRuns: 60 },
    );
    // The runs did real work: most requests were answered.
    expect(answered).toBeGreaterThan(100);
  });
});
