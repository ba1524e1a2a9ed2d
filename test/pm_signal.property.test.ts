/**
 * Signals against a model (MINIX-SPEC §7.4): a process changes the actions and the mask of a
 * few signals and signals itself, at random. The handlers it ran (and in which order) and how
 * it ended must match a model of PM's rules: ignored and default-ignored signals vanish,
 * blocked ones wait and are delivered when unblocked (lowest first; the frames of signals
 * delivered together nest, so the last one's handler runs first), caught ones run their
 * handler before the call that raised them returns, the others end the process.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SIG_BLOCK, SIG_UNBLOCK } from "../src/include/pm.ts";
import { SIGALRM, SIGCHLD, SIGTERM, SIGUSR1, SIGUSR2 } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { getpid, kill, sigaction, sigmask, sigprocmask } from "../src/lib/libc/pm.ts";
import { bootPm, runPm } from "./fixtures/pm.ts";

const SIGS = [SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCHLD] as const;
type Act = "catch" | "ignore" | "default";
type Op =
  | { readonly k: "act"; readonly sig: number; readonly a: Act }
  | { readonly k: "block" | "unblock" | "kill"; readonly sig: number };

const sigArb = fc.constantFrom(...SIGS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("act" as const),
    sig: sigArb,
    a: fc.constantFrom<Act>("catch", "catch", "catch", "ignore", "default"),
  }),
  fc.record({
    k: fc.constantFrom("block" as const, "unblock" as const, "kill" as const),
    sig: sigArb,
  }),
);

/** PM's rules for one process signalling itself: the handlers run and the signal it died of. */
function model(ops: readonly Op[]): { log: number[]; died: number } {
  const act = new Map<number, Act>();
  let mask = 0;
  let pending = 0;
  const log: number[] = [];
  const bit = (s: number) => 1 << s;
  const ignored = (s: number) => {
    const a = act.get(s) ?? "default";
    return a === "ignore" || (a === "default" && s === SIGCHLD);
  };
  /** One delivery: "caught", "dropped" (ignored or now pending) or "dies". */
  const deliver = (s: number): "caught" | "dropped" | "dies" => {
    if (ignored(s)) return "dropped";
    if ((mask & bit(s)) !== 0) {
      pending |= bit(s);
      return "dropped";
    }
    return act.get(s) === "catch" ? "caught" : "dies";
  };
  for (const op of ops) {
    if (op.k === "act") {
      act.set(op.sig, op.a);
      if (ignored(op.sig)) pending &= ~bit(op.sig);
    } else if (op.k === "block") {
      mask |= bit(op.sig);
    } else if (op.k === "kill") {
      const r = deliver(op.sig);
      if (r === "dies") return { log, died: op.sig };
      if (r === "caught") log.push(op.sig);
    } else {
      mask &= ~bit(op.sig);
      const batch: number[] = [];
      for (let s = 1; s < 32; s++) {
        if ((pending & bit(s)) === 0 || (mask & bit(s)) !== 0) continue;
        pending &= ~bit(s);
        const r = deliver(s);
        if (r === "dies") return { log, died: s };
        if (r === "caught") batch.push(s);
      }
      log.push(...batch.reverse());
    }
  }
  return { log, died: 0 };
}

describe("signals against a model", () => {
  test("handlers run and the end match PM's rules", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 20 }), (ops) => {
        const log: number[] = [];
        function* main(ctx: ProcessContext): Syscall {
          const me = yield* getpid(ctx);
          for (const op of ops) {
            if (op.k === "act") {
              yield* sigaction(
                ctx,
                op.sig,
                op.a === "catch"
                  ? function* (_c, sig) {
                      log.push(sig);
                      yield* getpid(_c);
                    }
                  : op.a,
              );
            } else if (op.k === "block") {
              yield* sigprocmask(ctx, SIG_BLOCK, sigmask(op.sig));
            } else if (op.k === "unblock") {
              yield* sigprocmask(ctx, SIG_UNBLOCK, sigmask(op.sig));
            } else {
              yield* kill(ctx, me, op.sig);
            }
          }
          return 0;
        }
        const { m, reaped } = bootPm({ main });
        runPm(m);
        const want = model(ops);
        expect(log).toEqual(want.log);
        expect(reaped().map((r) => r.status)).toEqual([want.died]);
      }),
      { seed: 5, numRuns: 120 },
    );
  }, 60_000);
});
