/**
 * Deadlock detection before blocking (MINIX-SPEC §2.9): a chain of "blocked on" links that
 * returns to the caller fails with ELOCKED and the caller does not block; two processes doing
 * opposite operations, and chains that end at a runnable process or at ANY, are fine.
 */
import { describe, expect, test } from "vitest";
import type { BootImageEntry } from "../src/boot/image.ts";
import type { Machine } from "../src/boot/machine.ts";
import { ANY, type Endpoint } from "../src/include/endpoint.ts";
import { ELOCKED, OK } from "../src/include/errno.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import {
  A,
  B,
  boot as bootMachine,
  box,
  C,
  D,
  proc,
  recv,
  runToIdle,
  runUntil,
  sendrecV,
  sendOnce,
  sendV,
  T_DATA,
  type Got,
} from "./fixtures/ipc.ts";

/** A reply as these tests compare it. */
type Reply = Pick<Got, "r" | "source" | "v">;

const brief = ({ r, source, v }: Got): Reply => ({ r, source, v });

interface Run {
  readonly m: Machine;
  /** Every IPC trap as "CALL src→dst = result". */
  readonly ipc: string[];
}

function boot(image: readonly BootImageEntry[]): Run {
  const m = bootMachine(image);
  const ipc: string[] = [];
  m.onEvent((e) => {
    if (e.kind === "ipc") ipc.push(`${e.call} ${e.src}→${e.dst} = ${e.result}`);
  });
  return { m, ipc };
}

function liveSlots(m: Machine): number[] {
  return m
    .snapshot()
    .procs.filter((p) => p.slot >= 0)
    .map((p) => p.slot);
}

describe("two-process cycles", () => {
  test("SEND/SEND: the second SEND gets ELOCKED, does not block, and can then RECEIVE", () => {
    const log: string[] = [];
    const { m, ipc } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          log.push(`a send ${yield* sendV(box(ctx), B, T_DATA, 1)}`);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`b send ${yield* sendV(um, A, T_DATA, 2)}`);
          const g = yield* recv(um, A);
          log.push(`b got ${g.v} from ${g.source}`);
          return 0;
        },
      },
    ]);
    runUntil(m, () => ipc.length === 2, "both SENDs made");
    expect(ipc).toEqual([`SEND ${A}→${B} = ${OK}`, `SEND ${B}→${A} = ${ELOCKED}`]);
    expect(proc(m, A)).toMatchObject({ rts: "SENDING", sendto: String(B) });
    expect(proc(m, B)).toMatchObject({ rts: "", callerQ: [A] });
    expect(proc(m, A).callerQ).toEqual([]);
    runToIdle(m);
    expect(log).toEqual([`b send ${ELOCKED}`, `b got 1 from ${A}`, `a send ${OK}`]);
    expect(liveSlots(m)).toEqual([]);
  });

  test("SENDREC/SENDREC: the second SENDREC gets ELOCKED", () => {
    const log: string[] = [];
    const { m } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const g = yield* sendrecV(box(ctx), B, T_DATA, 1);
          log.push(`a sendrec ${g.r} reply ${g.v}`);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`b sendrec ${(yield* sendrecV(um, A, T_DATA, 2)).r}`);
          const g = yield* recv(um, A);
          log.push(`b got ${g.v}`);
          log.push(`b reply ${yield* sendV(um, A, T_DATA, g.v + 10)}`);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(log).toEqual([
      `b sendrec ${ELOCKED}`,
      "b got 1",
      `b reply ${OK}`,
      `a sendrec ${OK} reply 11`,
    ]);
  });

  test("RECEIVE/RECEIVE: the second RECEIVE gets ELOCKED and does not block", () => {
    const log: string[] = [];
    const { m, ipc } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const g = yield* recv(box(ctx), B);
          log.push(`a got ${g.r}/${g.v}`);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`b receive ${(yield* recv(um, A)).r}`);
          log.push(`b send ${yield* sendV(um, A, T_DATA, 8)}`);
          return 0;
        },
      },
    ]);
    runUntil(m, () => ipc.length === 2, "both RECEIVEs made");
    expect(ipc[1]).toBe(`RECEIVE ${B}→${A} = ${ELOCKED}`);
    expect(proc(m, A)).toMatchObject({ rts: "RECEIVING", getfrom: String(B) });
    expect(proc(m, B).rts).toBe("");
    runToIdle(m);
    expect(log).toEqual([`b receive ${ELOCKED}`, `b send ${OK}`, `a got ${OK}/8`]);
  });

  test("SENDREC A→B while B is in RECEIVE(A) is fine", () => {
    let reply: Reply | undefined;
    const { m, ipc } = boot([
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          const g = yield* recv(um, A);
          yield* sendV(um, A, T_DATA, g.v * 2);
          return 0;
        },
      },
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          reply = brief(yield* sendrecV(box(ctx), B, T_DATA, 21));
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(reply).toEqual({ r: OK, source: B, v: 42 });
    expect(ipc.some((s) => s.endsWith(`= ${ELOCKED}`))).toBe(false);
  });

  test("B's RECEIVE(A) while A's SENDREC to B is queued is fine", () => {
    let reply: Reply | undefined;
    const { m, ipc } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          reply = brief(yield* sendrecV(box(ctx), B, T_DATA, 5));
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          const g = yield* recv(um, A);
          yield* sendV(um, A, T_DATA, g.v + 1);
          return 0;
        },
      },
    ]);
    runUntil(m, () => proc(m, A).rts === "SENDING|RECEIVING", "a's SENDREC queued");
    expect(proc(m, B).callerQ).toEqual([A]);
    runToIdle(m);
    expect(reply).toEqual({ r: OK, source: B, v: 6 });
    expect(ipc.some((s) => s.endsWith(`= ${ELOCKED}`))).toBe(false);
  });
});

describe("longer cycles", () => {
  test("a 3-cycle of SENDs: the SEND that closes it gets ELOCKED", () => {
    const log: string[] = [];
    const { m, ipc } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          log.push(`a send ${yield* sendV(box(ctx), B, T_DATA, 1)}`);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`b send ${yield* sendV(um, C, T_DATA, 2)}`);
          log.push(`b got ${(yield* recv(um, A)).v}`);
          return 0;
        },
      },
      {
        name: "c",
        slot: C,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`c send ${yield* sendV(um, A, T_DATA, 3)}`);
          log.push(`c got ${(yield* recv(um, B)).v}`);
          return 0;
        },
      },
    ]);
    runUntil(m, () => ipc.length === 3, "three SENDs made");
    expect(ipc[2]).toBe(`SEND ${C}→${A} = ${ELOCKED}`);
    expect(proc(m, A)).toMatchObject({ rts: "SENDING", sendto: String(B) });
    expect(proc(m, B)).toMatchObject({ rts: "SENDING", sendto: String(C), callerQ: [A] });
    expect(proc(m, C)).toMatchObject({ rts: "", callerQ: [B] });
    runToIdle(m);
    expect(log).toEqual([
      `c send ${ELOCKED}`,
      "c got 2",
      `b send ${OK}`,
      "b got 1",
      `a send ${OK}`,
    ]);
  });

  test("a 3-cycle of RECEIVEs: the RECEIVE that closes it gets ELOCKED", () => {
    const log: string[] = [];
    const { m } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          log.push(`a got ${(yield* recv(box(ctx), B)).v}`);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          const g = yield* recv(um, C);
          log.push(`b got ${g.v}`);
          yield* sendV(um, A, T_DATA, g.v + 1);
          return 0;
        },
      },
      {
        name: "c",
        slot: C,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`c receive ${(yield* recv(um, A)).r}`);
          yield* sendV(um, B, T_DATA, 1);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(log).toEqual([`c receive ${ELOCKED}`, "b got 1", "a got 2"]);
  });

  test("a mixed 3-cycle (A sends to B, B receives from C, C sends to A) gets ELOCKED", () => {
    const log: string[] = [];
    const { m } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          log.push(`a send ${yield* sendV(box(ctx), B, T_DATA, 1)}`);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`b got ${(yield* recv(um, C)).v}`);
          log.push(`b got ${(yield* recv(um, A)).v}`);
          return 0;
        },
      },
      {
        name: "c",
        slot: C,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`c send ${yield* sendV(um, A, T_DATA, 3)}`);
          log.push(`c send ${yield* sendV(um, B, T_DATA, 4)}`);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(log).toEqual([
      `c send ${ELOCKED}`,
      `c send ${OK}`,
      "b got 4",
      "b got 1",
      `a send ${OK}`,
    ]);
  });

  test("a 4-cycle of SENDs gets ELOCKED", () => {
    const results = new Map<number, number>();
    const sender = (me: Endpoint, to: Endpoint, from: Endpoint | null) =>
      function* (ctx: ProcessContext): Syscall {
        const um = box(ctx);
        results.set(me, yield* sendV(um, to, T_DATA, me));
        if (from !== null) yield* recv(um, from);
        return 0;
      };
    const { m, ipc } = boot([
      { name: "a", slot: A, program: sender(A, B, null) },
      { name: "b", slot: B, program: sender(B, C, A) },
      { name: "c", slot: C, program: sender(C, D, B) },
      { name: "d", slot: D, program: sender(D, A, C) },
    ]);
    runToIdle(m);
    expect(ipc[3]).toBe(`SEND ${D}→${A} = ${ELOCKED}`);
    expect([A, B, C, D].map((p) => results.get(p))).toEqual([OK, OK, OK, ELOCKED]);
    expect(liveSlots(m)).toEqual([]);
  });
});

describe("chains that are not cycles", () => {
  test("a chain reaching ANY is no deadlock", () => {
    const got: string[] = [];
    const { m, ipc } = boot([
      {
        name: "c",
        slot: C,
        program: function* (ctx) {
          const um = box(ctx);
          const g = yield* recv(um, ANY);
          got.push(`c ${g.v}`);
          yield* sendV(um, B, T_DATA, g.v + 1);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          const g = yield* recv(um, C);
          got.push(`b ${g.v}`);
          yield* sendV(um, A, T_DATA, g.v + 1);
          return 0;
        },
      },
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const g = yield* recv(box(ctx), B);
          got.push(`a ${g.r}/${g.v}`);
          return 0;
        },
      },
      { name: "d", slot: D, program: sendOnce(C, T_DATA, 10) },
    ]);
    runUntil(m, () => proc(m, A).rts === "RECEIVING", "a blocked");
    expect([A, B, C].map((s) => [proc(m, s).rts, proc(m, s).getfrom])).toEqual([
      ["RECEIVING", String(B)],
      ["RECEIVING", String(C)],
      ["RECEIVING", "ANY"],
    ]);
    runToIdle(m);
    expect(ipc.some((s) => s.endsWith(`= ${ELOCKED}`))).toBe(false);
    expect(got).toEqual(["c 10", "b 11", `a ${OK}/12`]);
  });

  test("a chain ending at a runnable process is no deadlock", () => {
    const log: string[] = [];
    const { m, ipc } = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          log.push(`a send ${yield* sendV(box(ctx), B, T_DATA, 1)}`);
          return 0;
        },
      },
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`b send ${yield* sendV(um, C, T_DATA, 2)}`);
          log.push(`b got ${(yield* recv(um, A)).v}`);
          return 0;
        },
      },
      {
        name: "c",
        slot: C,
        program: function* (ctx) {
          log.push(`c got ${(yield* recv(box(ctx), B)).v}`);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(ipc.some((s) => s.endsWith(`= ${ELOCKED}`))).toBe(false);
    expect(log).toEqual(["c got 2", `b send ${OK}`, "b got 1", `a send ${OK}`]);
  });
});
