import { describe, expect, test } from "vitest";
import { NR_TASKS, VM_PROC_NR } from "../../include/endpoint.ts";
import { ECALLDENIED, EFAULT, EINVAL, OK } from "../../include/errno.ts";
import {
  GET_HZ,
  GET_IMAGE,
  GET_KINFO,
  GET_RANDOMNESS,
  GET_WHOAMI,
  GETINFO_MAX_RANDOM,
  KINFO_SIZE,
  PROC_FULLVM,
} from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import { PREEMPTIBLE, SYS_PROC } from "../priv.ts";
import { USER_Q } from "../sched.ts";
import {
  bootImage,
  malloc,
  peek,
  poke,
  recordEvents,
  runChecked,
  sysGetimage,
  sysGetinfo,
  sysGetkinfo,
  sysHz,
  sysRandomness,
  sysWhoami,
  type BootImageEntry,
  type Machine,
  type Syscall,
} from "../../../test/system_harness.ts";

function run(
  body: (ctx: ProcessContext) => Syscall<void>,
  opts: { slot?: number; priv?: BootImageEntry["priv"]; seed?: number; hz?: number } = {},
): Machine {
  const slot = opts.slot ?? 11;
  const m = bootImage(
    [
      {
        name: "getter",
        slot,
        ...(opts.priv !== undefined ? { priv: opts.priv } : {}),
        program: function* (ctx) {
          yield* body(ctx);
          return 0;
        },
      },
    ],
    { ...(opts.seed !== undefined ? { seed: opts.seed } : {}), hz: opts.hz ?? 60 },
  );
  const exits = recordEvents(m, "exit");
  runChecked(m);
  expect(m.halted).toBeNull();
  expect(exits).toEqual([expect.objectContaining({ ep: slot, reason: "exit" })]);
  return m;
}

/** GET_RANDOMNESS of `len` bytes into a buffer with guard bytes either side. */
function* randomWithGuards(ctx: ProcessContext, len: number): Syscall<[number, Uint8Array]> {
  const buf = malloc(ctx, len + 16);
  yield* poke(ctx, buf, new Uint8Array(len + 16).fill(0xee));
  const r = yield* sysRandomness(ctx, virAddr(buf + 8), len);
  return [r, yield* peek(ctx, buf, len + 16)];
}

describe("SYS_GETINFO", () => {
  test("GET_WHOAMI reports the caller's endpoint, name and privilege flags", () => {
    const who: unknown[] = [];
    run(function* (ctx) {
      who.push(yield* sysWhoami(ctx));
    });
    expect(who).toEqual([{ endpoint: 11, name: "getter", privFlags: SYS_PROC | PREEMPTIBLE }]);
  });

  test("GET_KINFO writes the kernel information to the caller's buffer", () => {
    const got: unknown[] = [];
    const m = run(function* (ctx) {
      got.push(yield* sysGetkinfo(ctx));
    });
    expect(got).toEqual([
      {
        nrProcs: 64,
        nrTasks: NR_TASKS,
        nrSysProcs: m.options.nrSysProcs,
        frames: m.hw.mem.frames,
        hz: 60,
        uptime: 0,
      },
    ]);
    expect(KINFO_SIZE).toBe(24);
  });

  test("GET_IMAGE lists the kernel tasks, then every boot process in image order", () => {
    const got: unknown[] = [];
    run(function* (ctx) {
      got.push(yield* sysGetimage(ctx));
    });
    expect(got).toEqual([
      [
        expect.objectContaining({ procNr: -4, endpoint: -4, name: "idle" }),
        expect.objectContaining({ procNr: -3, name: "clock" }),
        expect.objectContaining({ procNr: -2, name: "system" }),
        expect.objectContaining({ procNr: -1, name: "kernel" }),
        {
          procNr: 11,
          flags: PROC_FULLVM,
          quantum: 8,
          priority: USER_Q,
          endpoint: 11,
          name: "getter",
        },
      ],
    ]);
  });

  test("GET_HZ writes the clock rate", () => {
    const hz: number[] = [];
    run(
      function* (ctx) {
        hz.push(yield* sysHz(ctx));
      },
      { hz: 250 },
    );
    expect(hz).toEqual([250]);
  });

  test("GET_RANDOMNESS fills exactly valLen bytes, reproducibly for a seed", () => {
    const draw = (seed: number): Uint8Array => {
      let out: Uint8Array = new Uint8Array(0);
      let status = 1;
      run(
        function* (ctx) {
          [status, out] = yield* randomWithGuards(ctx, 32);
        },
        { seed },
      );
      expect(status).toBe(OK);
      return out;
    };
    const a = draw(7);
    expect(a.subarray(0, 8).every((b) => b === 0xee)).toBe(true);
    expect(a.subarray(40).every((b) => b === 0xee)).toBe(true);
    expect(new Set(a.subarray(8, 40)).size).toBeGreaterThan(8);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
  });

  test("GET_RANDOMNESS rejects lengths outside 1..GETINFO_MAX_RANDOM and writes nothing", () => {
    const results: number[] = [];
    const untouched: boolean[] = [];
    run(function* (ctx) {
      for (const len of [0, -1, GETINFO_MAX_RANDOM + 1]) {
        const [r, bytes] = yield* randomWithGuards(ctx, Math.max(0, len));
        results.push(r);
        untouched.push(bytes.every((b) => b === 0xee));
      }
      const big = malloc(ctx, GETINFO_MAX_RANDOM);
      results.push(yield* sysRandomness(ctx, big, GETINFO_MAX_RANDOM));
    });
    expect(results).toEqual([EINVAL, EINVAL, EINVAL, OK]);
    expect(untouched).toEqual([true, true, true]);
  });

  test("an unknown request gives EINVAL", () => {
    const results: number[] = [];
    run(function* (ctx) {
      const buf = malloc(ctx, 64);
      for (const req of [GET_IMAGE, 99, -1]) results.push(yield* sysGetinfo(ctx, req, buf, 64));
    });
    expect(results).toEqual([EINVAL, EINVAL, EINVAL]);
  });

  test("an unmapped value buffer gives EFAULT when there is no VM", () => {
    const results: number[] = [];
    run(function* (ctx) {
      for (const req of [GET_KINFO, GET_HZ, GET_RANDOMNESS]) {
        results.push(yield* sysGetinfo(ctx, req, virAddr(0x10), 4));
      }
    });
    expect(results).toEqual([EFAULT, EFAULT, EFAULT]);
  });

  test("VM itself gets EFAULT for an unmapped buffer instead of waiting for itself", () => {
    const results: number[] = [];
    const m = run(
      function* (ctx) {
        results.push(yield* sysGetinfo(ctx, GET_KINFO, virAddr(0x10), KINFO_SIZE));
      },
      { slot: VM_PROC_NR },
    );
    expect(results).toEqual([EFAULT]);
    expect(m.snapshot().vmrequests).toEqual([]);
  });

  test("a user process is denied SYS_GETINFO like every kernel call", () => {
    const results: unknown[] = [];
    run(
      function* (ctx) {
        results.push(yield* sysWhoami(ctx));
        results.push(yield* sysGetinfo(ctx, GET_WHOAMI, virAddr(0), 0));
      },
      { priv: "user" },
    );
    expect(results).toEqual([ECALLDENIED, ECALLDENIED]);
  });
});
