import { describe, expect, test } from "vitest";
import { ECALLDENIED, EFAULT, EINVAL, OK } from "../../include/errno.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import { DIAG_MAX_LEN } from "./do_diagctl.ts";
import {
  bootImage,
  kernelCall,
  malloc,
  poke,
  recordEvents,
  runChecked,
  sysDiagctl,
  type BootImageEntry,
  type Syscall,
} from "../../../test/system_harness.ts";

/** Runs `body` in one process; returns the console text printed after boot and the events. */
function run(body: (ctx: ProcessContext) => Syscall<void>, priv: BootImageEntry["priv"] = {}) {
  const m = bootImage([
    {
      name: "printer",
      slot: 11,
      priv,
      program: function* (ctx) {
        yield* body(ctx);
        return 0;
      },
    },
  ]);
  const bootText = m.console;
  const events = recordEvents(m, "console", "exit");
  runChecked(m);
  expect(m.halted).toBeNull();
  expect(events.filter((e) => e.kind === "exit")).toEqual([
    expect.objectContaining({ ep: 11, reason: "exit" }),
  ]);
  return {
    printed: m.console.slice(bootText.length),
    consoleEvents: events.flatMap((e) => (e.kind === "console" ? [e.text] : [])),
  };
}

function* diag(ctx: ProcessContext, buf: VirAddr, len: number): Syscall {
  return (yield* kernelCall(ctx, "SYS_DIAGCTL", { buf, len })).status;
}

describe("SYS_DIAGCTL", () => {
  test("the text reaches the console and the event stream", () => {
    const results: number[] = [];
    const { printed, consoleEvents } = run(function* (ctx) {
      results.push(yield* sysDiagctl(ctx, "hello, "));
      results.push(yield* sysDiagctl(ctx, "wörld ✓\n"));
    });
    expect(results).toEqual([OK, OK]);
    expect(printed).toBe("hello, wörld ✓\n");
    expect(consoleEvents).toEqual(["hello, ", "wörld ✓\n"]);
  });

  test("lengths: 0 prints nothing, DIAG_MAX_LEN is accepted, more or negative is EINVAL", () => {
    const results: number[] = [];
    const { printed } = run(function* (ctx) {
      const buf = malloc(ctx, DIAG_MAX_LEN + 1);
      yield* poke(ctx, buf, new Uint8Array(DIAG_MAX_LEN + 1).fill(0x61)); // "aaa…"
      results.push(yield* diag(ctx, buf, 0));
      results.push(yield* diag(ctx, buf, DIAG_MAX_LEN + 1));
      results.push(yield* diag(ctx, buf, -1));
      results.push(yield* diag(ctx, buf, DIAG_MAX_LEN));
    });
    expect(DIAG_MAX_LEN).toBe(4096);
    expect(results).toEqual([OK, EINVAL, EINVAL, OK]);
    expect(printed).toBe("a".repeat(DIAG_MAX_LEN));
  });

  test("an unreadable buffer is EFAULT when there is no VM, and nothing is printed", () => {
    const results: number[] = [];
    const { printed } = run(function* (ctx) {
      results.push(yield* diag(ctx, virAddr(0x10), 5));
      // Readable start, unmapped end: nothing of it is printed either.
      const end = virAddr(ctx.heapBase + ctx.heapSize - 3);
      yield* poke(ctx, end, new TextEncoder().encode("abc"));
      results.push(yield* diag(ctx, end, 6));
    });
    expect(results).toEqual([EFAULT, EFAULT]);
    expect(printed).toBe("");
  });

  test("a user process is denied", () => {
    const results: number[] = [];
    const { printed } = run(function* (ctx) {
      results.push(yield* sysDiagctl(ctx, "nope"));
    }, "user");
    expect(results).toEqual([ECALLDENIED]);
    expect(printed).toBe("");
  });
});
