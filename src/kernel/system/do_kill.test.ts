import { describe, expect, test } from "vitest";
import { CLOCK, makeEndpoint, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import { SIGKILL } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import {
  kernelCall,
  Machine,
  malloc,
  receive,
  type Syscall,
} from "../../../test/system_harness.ts";

function* park(ctx: ProcessContext): Syscall {
  const buf = malloc(ctx, 64, 64);
  for (;;) yield* receive(makeEndpoint(0, 12), buf);
}

describe("doKill()", () => {
  test("kills a process without a signal manager; rejects bad targets and signals", () => {
    const results: number[] = [];
    const exits: string[] = [];
    const m = Machine.boot({
      image: [
        {
          name: "killer",
          slot: 11,
          program: function* (ctx) {
            const kill = (endpt: number, sig: number) =>
              kernelCall(ctx, "SYS_KILL", { endpt: endpt as Endpoint, sig });
            results.push((yield* kill(12, 0)).status);
            results.push((yield* kill(12, 32)).status);
            results.push((yield* kill(99, SIGKILL)).status);
            results.push((yield* kill(CLOCK, SIGKILL)).status);
            results.push((yield* kill(12, SIGKILL)).status);
            return 0;
          },
        },
        { name: "victim", slot: 12, program: park },
      ],
    });
    m.onEvent((e) => {
      if (e.kind === "exit") exits.push(`${e.ep}:${e.reason}`);
    });
    m.runUntilIdle();
    m.check();
    expect(results).toEqual([EINVAL, EINVAL, EINVAL, EPERM, OK]);
    expect(exits).toEqual(["12:signal 9", "11:exit"]);
  });
});
