import { describe, expect, test } from "vitest";
import { ANY, CLOCK, SYSTEM, type Endpoint } from "../../include/endpoint.ts";
import { ECALLDENIED, EDEADSRCDST } from "../../include/errno.ts";
import { isIpcNotify, NOTIFY_LAYOUT, notifyFrom } from "../../include/ipc.ts";
import { KCALL_NR, KERNEL_CALL } from "../../include/kcall.ts";
import { M_TYPE } from "../../include/message.ts";
import { SIGABRT, SIGKSIG } from "../../include/signal.ts";
import { physAddr, virAddr } from "../../include/types.ts";
import { umap } from "../memory.ts";
import { RTS_SIG_PENDING, RTS_SIGNALED } from "../proc.ts";
import {
  bootImage,
  DATA_BASE,
  malloc,
  receive,
  recordEvents,
  runChecked,
  sendrec,
  sysExit,
  UMessage,
  type IpcStatus,
} from "../../../test/system_harness.ts";

const A = 11 as Endpoint;
const B = 12 as Endpoint;

describe("SYS_EXIT", () => {
  test("without a signal manager the caller is terminated by SIGABRT and never returns", () => {
    const after: string[] = [];
    const peer: number[] = [];
    const m = bootImage([
      {
        name: "quitter",
        slot: A,
        program: function* (ctx) {
          const r = yield* sysExit(ctx);
          after.push(`returned ${r}`);
          return 0;
        },
      },
      {
        name: "peer",
        slot: B,
        priority: 6, // blocks on the quitter before it runs
        program: function* (ctx) {
          peer.push(yield* sendrec(A, malloc(ctx, 64, 64)));
          return 0;
        },
      },
    ]);
    const exits = recordEvents(m, "exit");
    runChecked(m);
    expect(after).toEqual([]);
    expect(peer).toEqual([EDEADSRCDST]);
    expect(exits.map((e) => [e.ep, e.status, e.reason])).toEqual([
      [A, -SIGABRT, `signal ${SIGABRT}`],
      [B, 0, "exit"],
    ]);
  });

  test("with a signal manager the caller stops and the manager gets SIGKSIG from SYSTEM", () => {
    const after: string[] = [];
    const got: [number, number, number, boolean][] = [];
    const m = bootImage([
      {
        name: "quitter",
        slot: A,
        priv: { sigMgr: B },
        program: function* (ctx) {
          yield* sysExit(ctx);
          after.push("returned");
          return 0;
        },
      },
      {
        name: "manager",
        slot: B,
        priority: 6,
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, 64, 64));
          const st: IpcStatus = { value: 0 };
          yield* receive(ANY, um.va, st);
          const msg = yield* um.get();
          got.push([msg.source, msg.type, msg.get(NOTIFY_LAYOUT).arg, isIpcNotify(st.value)]);
          yield* receive(CLOCK, um.va); // stay alive
          return 0;
        },
      },
    ]);
    const exits = recordEvents(m, "exit");
    runChecked(m);
    expect(m.halted).toBeNull();
    expect(after).toEqual([]);
    expect(exits).toEqual([]);
    expect(got).toEqual([[SYSTEM, notifyFrom(SYSTEM), 1 << SIGKSIG, true]]);
    const q = m.kernel.procAddr(A)!;
    expect(q.rtsFlags).toBe(RTS_SIGNALED | RTS_SIG_PENDING);
    expect(q.sigPending).toBe(1 << SIGABRT);
    // EDONTREPLY: the request message in the caller's memory was not overwritten.
    const pa = umap(m.kernel, q, virAddr(DATA_BASE));
    expect(pa).toBeGreaterThan(0);
    expect(m.hw.mem.read32(physAddr(pa + M_TYPE))).toBe(KERNEL_CALL + KCALL_NR.SYS_EXIT);
  });

  test("a signal manager that asks to exit panics the kernel (SIGABRT is lethal for it)", () => {
    const m = bootImage([
      {
        name: "selfmgr",
        slot: A,
        priv: { sigMgr: A },
        program: function* (ctx) {
          yield* sysExit(ctx);
          return 0;
        },
      },
    ]);
    m.runUntilIdle(1000);
    expect(m.halted).toMatch(/lethal signal 6/);
  });

  test("a user process is denied and keeps running", () => {
    const got: number[] = [];
    const m = bootImage([
      {
        name: "u",
        slot: A,
        priv: "user",
        program: function* (ctx) {
          got.push(yield* sysExit(ctx));
          return 3;
        },
      },
    ]);
    const exits = recordEvents(m, "exit");
    runChecked(m);
    expect(got).toEqual([ECALLDENIED]);
    expect(exits.map((e) => [e.ep, e.status, e.reason])).toEqual([[A, 3, "exit"]]);
  });
});
