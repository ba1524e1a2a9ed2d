/**
 * exec with the real PM (MINIX-SPEC §7.2, §8.9): the program starts anew in the same process
 * (same pid, new arguments, no reply); an unknown program (ENOENT), a program too big for
 * memory (ENOMEM) or arguments too long (E2BIG) change nothing.
 */
import { describe, expect, test } from "vitest";
import { E2BIG, ENOENT, ENOMEM } from "../src/include/errno.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { execve, getpid, getppid } from "../src/lib/libc/pm.ts";
import { load, store } from "../src/lib/mem.ts";
import { bootPm, liveNames, runPm } from "./fixtures/pm.ts";

describe("exec", () => {
  test("the program starts anew with its arguments; failures leave the process as it was", () => {
    const got: unknown[] = [];
    let mainPid = 0;
    function* main(ctx: ProcessContext): Syscall {
      mainPid = yield* getpid(ctx);
      const at = virAddr(ctx.heapBase + 3 * 4096);
      yield* store(ctx, at, Uint8Array.of(0xab, 0xcd));
      got.push(yield* execve(ctx, "nosuch", []));
      got.push(yield* execve(ctx, "huge", []));
      got.push(yield* execve(ctx, "hello", ["x".repeat(100)]));
      const b = new Uint8Array(2);
      yield* load(ctx, at, b);
      got.push([...b]);
      got.push(yield* execve(ctx, "hello", ["a", "bc"]));
      got.push("not reached");
      return 1;
    }
    function* hello(ctx: ProcessContext): Syscall {
      got.push(["hello", [...ctx.argv], (yield* getpid(ctx)) === mainPid, yield* getppid(ctx)]);
      return 5;
    }
    // eslint-disable-next-line require-yield
    function* huge(): Syscall {
      got.push("huge ran");
      return 0;
    }
    const { m, reaped } = bootPm({ main, hello, huge }, { pmArgv: ["huge:60000", "bad", "x:0"] });
    runPm(m);
    expect(got).toEqual([ENOENT, ENOMEM, E2BIG, [0xab, 0xcd], ["hello", ["a", "bc"], true, 1]]);
    expect(reaped().map((r) => r.status)).toEqual([5 << 8]);
    expect(liveNames(m)).toEqual(["init", "pm", "vm"]);
  });
});
