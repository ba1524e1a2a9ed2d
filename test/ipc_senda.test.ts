/**
 * SENDA, asynchronous send tables (MINIX-SPEC §2.8): per-entry results and AMF_DONE written
 * back into the sender's table, delivery now or when the receiver next receives, the checks on
 * the whole call (EPERM, EDOM, EINVAL) and AMF_NOREPLY against receivers inside SENDREC.
 */
import { describe, expect, test } from "vitest";
import { ANY, CLOCK, makeEndpoint, SYSTEM, type Endpoint } from "../src/include/endpoint.ts";
import { ECALLDENIED, EDEADSRCDST, EDOM, EINVAL, EPERM, OK } from "../src/include/errno.ts";
import {
  AMF_DONE,
  AMF_NOREPLY,
  AMF_NOTIFY,
  AMF_VALID,
  ASYN_DST,
  ASYN_FLAGS,
  ASYN_MSG,
  ASYN_RESULT,
  ASYNMSG_SIZE,
  ipcStatusCall,
  SEND,
  SENDA,
} from "../src/include/ipc.ts";
import { M_SOURCE, M_TYPE } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { VirAddr } from "../src/include/types.ts";
import type { Machine } from "../src/boot/machine.ts";
import { MF_ASYNMSG, MF_REPLY_PEND } from "../src/kernel/proc.ts";
import { senda, type Syscall } from "../src/lib/ipc.ts";
import { load, store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import {
  boot,
  box,
  L,
  park,
  proc,
  recv,
  runToIdle,
  runUntil,
  sendrecV,
  sendOnce,
  sendV,
  T_ACK,
  T_DATA,
  T_REPLY,
  T_REQ,
  type Got,
} from "./fixtures/ipc.ts";

/** Written into every entry's `result` so that a kernel write-back is visible. */
const UNTOUCHED = 0x5a5a;

interface EntrySpec {
  readonly flags: number;
  readonly dst: number;
  readonly v?: number;
  /** What the sender writes into the message's m_source (the kernel must ignore it). */
  readonly fakeSource?: number;
}

interface EntryState {
  readonly flags: number;
  readonly result: number;
}

/** A SENDA table in the process's memory. */
class Table {
  readonly ctx: ProcessContext;
  readonly va: VirAddr;
  readonly size: number;

  constructor(ctx: ProcessContext, size: number) {
    this.ctx = ctx;
    this.size = size;
    this.va = malloc(ctx, Math.max(1, size) * ASYNMSG_SIZE, 4);
  }

  *write(entries: readonly EntrySpec[]): Syscall<void> {
    const bytes = new Uint8Array(entries.length * ASYNMSG_SIZE);
    const dv = new DataView(bytes.buffer);
    entries.forEach((e, i) => {
      const base = i * ASYNMSG_SIZE;
      dv.setUint32(base + ASYN_FLAGS, e.flags, true);
      dv.setInt32(base + ASYN_DST, e.dst, true);
      dv.setInt32(base + ASYN_RESULT, UNTOUCHED, true);
      dv.setInt32(base + ASYN_MSG + M_SOURCE, e.fakeSource ?? 0, true);
      dv.setInt32(base + ASYN_MSG + M_TYPE, T_DATA, true);
      dv.setInt32(base + ASYN_MSG + L.offsets.v, e.v ?? 0, true);
    });
    yield* store(this.ctx, this.va, bytes);
  }

  *read(n: number): Syscall<EntryState[]> {
    const bytes = new Uint8Array(n * ASYNMSG_SIZE);
    yield* load(this.ctx, this.va, bytes);
    const dv = new DataView(bytes.buffer);
    const out: EntryState[] = [];
    for (let i = 0; i < n; i++) {
      const base = i * ASYNMSG_SIZE;
      out.push({
        flags: dv.getUint32(base + ASYN_FLAGS, true),
        result: dv.getInt32(base + ASYN_RESULT, true),
      });
    }
    return out;
  }
}

const done = (result: number): EntryState => ({ flags: AMF_VALID | AMF_DONE, result });
const pending = (flags = AMF_VALID): EntryState => ({ flags, result: UNTOUCHED });

const S = 20 as Endpoint;
const R = 21 as Endpoint;
const T = 22 as Endpoint;

/** Entries of S's registered SENDA table (0: none registered). */
const asynsize = (m: Machine): number => m.kernel.procAddr(S)!.priv!.asynsize;

/** A receiver that records `n` messages, each with RECEIVE(ANY). */
function receiver(into: Got[], n: number) {
  return function* (ctx: ProcessContext): Syscall {
    const um = box(ctx);
    for (let i = 0; i < n; i++) into.push(yield* recv(um, ANY));
    return yield* park(ctx);
  };
}

describe("delivery", () => {
  test("an entry for a receiver waiting for the sender is delivered at once: OK, DONE", () => {
    const got: Got[] = [];
    let r = -1;
    let after: EntryState[] = [];
    const m = boot([
      { name: "r", slot: R, program: receiver(got, 1) },
      {
        name: "s",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 1);
          yield* t.write([{ flags: AMF_VALID, dst: R, v: 7, fakeSource: T }]);
          r = yield* senda(t.va, 1);
          after = yield* t.read(1);
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(r).toBe(OK);
    expect(after).toEqual([done(OK)]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ r: OK, source: S, type: T_DATA, v: 7 });
    expect(ipcStatusCall(got[0]!.status)).toBe(SENDA);
    // Nothing left pending: no table registered, no MF_ASYNMSG on the receiver.
    expect(asynsize(m)).toBe(0);
    expect(proc(m, R).miscFlags & MF_ASYNMSG).toBe(0);
  });

  test("entries for busy receivers are delivered when each receives; DONE is written then", () => {
    const got: Got[] = [];
    const tables: EntryState[][] = [];
    const m = boot([
      {
        // Blocked on r while the SENDA is made; takes its entry with RECEIVE(s) (try_one).
        name: "t",
        slot: T,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, R);
          got.push(yield* recv(um, S));
          yield* sendV(um, S, T_ACK, 0);
          return yield* park(ctx);
        },
      },
      {
        name: "s",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 2);
          yield* t.write([
            { flags: AMF_VALID, dst: R, v: 8 },
            { flags: AMF_VALID, dst: T, v: 9 },
          ]);
          yield* senda(t.va, 2);
          tables.push(yield* t.read(2));
          const um = box(ctx);
          yield* recv(um, R);
          tables.push(yield* t.read(2));
          yield* recv(um, T);
          tables.push(yield* t.read(2));
          return yield* park(ctx);
        },
      },
      {
        // Takes its entry with RECEIVE(ANY) (try_async), then lets t go.
        name: "r",
        slot: R,
        program: function* (ctx) {
          const um = box(ctx);
          got.push(yield* recv(um, ANY));
          yield* sendV(um, S, T_ACK, 0);
          yield* sendV(um, T, T_REQ, 0);
          return yield* park(ctx);
        },
      },
    ]);
    runUntil(m, () => tables.length === 1, "senda made");
    expect(tables[0]).toEqual([pending(), pending()]);
    expect(proc(m, R).miscFlags & MF_ASYNMSG).toBe(MF_ASYNMSG);
    expect(proc(m, T).miscFlags & MF_ASYNMSG).toBe(MF_ASYNMSG);
    expect(asynsize(m)).toBe(2);
    runToIdle(m);
    expect(tables.slice(1)).toEqual([
      [done(OK), pending()],
      [done(OK), done(OK)],
    ]);
    expect(got.map((g) => [g.source, g.v, ipcStatusCall(g.status)])).toEqual([
      [S, 8, SENDA],
      [S, 9, SENDA],
    ]);
    // Once every entry is done the table is dropped.
    expect(asynsize(m)).toBe(0);
  });

  test("entries with flags 0 or AMF_DONE are skipped", () => {
    const got: Got[] = [];
    let after: EntryState[] = [];
    const m = boot([
      { name: "r", slot: R, program: receiver(got, 1) },
      {
        name: "s",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 3);
          yield* t.write([
            { flags: 0, dst: R, v: 1 },
            { flags: AMF_VALID | AMF_DONE, dst: R, v: 2 },
            { flags: AMF_VALID, dst: R, v: 3 },
          ]);
          yield* senda(t.va, 3);
          after = yield* t.read(3);
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(after).toEqual([pending(0), pending(AMF_VALID | AMF_DONE), done(OK)]);
    expect(got.map((g) => g.v)).toEqual([3]);
  });

  test("a SENDA of size 0 drops the pending table", () => {
    const got: Got[] = [];
    const results: number[] = [];
    let after: EntryState[] = [];
    const m = boot([
      {
        name: "s",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 1);
          yield* t.write([{ flags: AMF_VALID, dst: R, v: 1 }]);
          results.push(yield* senda(t.va, 1));
          results.push(yield* senda(t.va, 0));
          yield* recv(box(ctx), R);
          after = yield* t.read(1);
          return yield* park(ctx);
        },
      },
      {
        name: "r",
        slot: R,
        program: function* (ctx) {
          const um = box(ctx);
          got.push(yield* recv(um, ANY));
          yield* sendV(um, S, T_ACK, 0);
          return yield* park(ctx);
        },
      },
      { name: "t", slot: T, program: sendOnce(R, T_REQ, 42) },
    ]);
    runToIdle(m);
    expect(results).toEqual([OK, OK]);
    expect(got.map((g) => [g.source, g.v])).toEqual([[T, 42]]);
    expect(after).toEqual([pending()]);
  });
});

describe("per-entry errors", () => {
  test("an invalid destination gives EDEADSRCDST in the entry; the others still go", () => {
    const got: Got[] = [];
    let r = -1;
    let after: EntryState[] = [];
    const m = boot([
      { name: "r", slot: R, program: receiver(got, 1) },
      {
        name: "s",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 5);
          yield* t.write([
            { flags: AMF_VALID, dst: makeEndpoint(1, R) },
            { flags: AMF_VALID, dst: 200 },
            { flags: AMF_VALID, dst: 9999 },
            { flags: AMF_VALID, dst: ANY },
            { flags: AMF_VALID, dst: R, v: 5 },
          ]);
          r = yield* senda(t.va, 5);
          after = yield* t.read(5);
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(r).toBe(OK);
    expect(after).toEqual([
      done(EDEADSRCDST),
      done(EDEADSRCDST),
      done(EDEADSRCDST),
      done(EDEADSRCDST),
      done(OK),
    ]);
    expect(got.map((g) => [g.source, g.v])).toEqual([[S, 5]]);
  });

  test("a kernel task as destination gives ECALLDENIED, even when the ipc mask allows it", () => {
    let after: EntryState[] = [];
    const m = boot([
      {
        name: "s",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 2);
          yield* t.write([
            { flags: AMF_VALID, dst: CLOCK },
            { flags: AMF_VALID, dst: SYSTEM },
          ]);
          yield* senda(t.va, 2);
          after = yield* t.read(2);
          return yield* park(ctx);
        },
      },
    ]);
    const priv = m.kernel.procAddr(S)!.priv!;
    expect(priv.ipcTo.has(m.kernel.procAddr(CLOCK)!.priv!.id)).toBe(true);
    runToIdle(m);
    expect(after).toEqual([done(ECALLDENIED), done(ECALLDENIED)]);
    expect(asynsize(m)).toBe(0);
  });

  test("a destination outside the sender's ipc mask gives ECALLDENIED", () => {
    const gotR: Got[] = [];
    const gotT: Got[] = [];
    let after: EntryState[] = [];
    const m = boot([
      { name: "r", slot: R, program: receiver(gotR, 1) },
      { name: "t", slot: T, program: receiver(gotT, 1) },
      {
        name: "s",
        slot: S,
        priv: { ipcTo: ["r"] },
        program: function* (ctx) {
          const t = new Table(ctx, 2);
          yield* t.write([
            { flags: AMF_VALID, dst: T, v: 1 },
            { flags: AMF_VALID, dst: R, v: 2 },
          ]);
          yield* senda(t.va, 2);
          after = yield* t.read(2);
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(after).toEqual([done(ECALLDENIED), done(OK)]);
    expect(gotT).toEqual([]);
    expect(proc(m, T).rts).toBe("RECEIVING");
    expect(gotR.map((g) => g.v)).toEqual([2]);
  });
});

describe("errors for the whole call", () => {
  test.each([
    ["an unknown flag bit", AMF_VALID | 0x40],
    ["AMF_VALID missing", AMF_NOREPLY],
    ["AMF_VALID missing (AMF_NOTIFY only)", AMF_NOTIFY],
  ])("%s gives EINVAL for the whole call", (_what, badFlags) => {
    const got: Got[] = [];
    let r = -1;
    let after: EntryState[] = [];
    const m = boot([
      { name: "r", slot: R, program: receiver(got, 1) },
      {
        name: "s",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 2);
          yield* t.write([
            { flags: badFlags, dst: R, v: 1 },
            { flags: AMF_VALID, dst: R, v: 2 },
          ]);
          r = yield* senda(t.va, 2);
          after = yield* t.read(2);
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(r).toBe(EINVAL);
    expect(after).toEqual([pending(badFlags), pending()]);
    expect(got).toEqual([]);
    expect(proc(m, R).rts).toBe("RECEIVING");
    expect(asynsize(m)).toBe(0);
  });

  test("a table larger than 16 * (NR_TASKS + NR_PROCS) entries gives EDOM", () => {
    const nrProcs = 16;
    const limit = 16 * (4 + nrProcs);
    const results: number[] = [];
    const m = boot(
      [
        {
          name: "s",
          slot: S - 10,
          program: function* (ctx) {
            const t = new Table(ctx, limit);
            results.push(yield* senda(t.va, limit + 1));
            results.push(yield* senda(t.va, limit)); // all entries empty
            results.push(yield* senda(t.va, 100_000));
            return 0;
          },
        },
      ],
      { nrProcs },
    );
    runToIdle(m);
    expect(results).toEqual([EDOM, OK, EDOM]);
  });

  test("a caller without its own privilege structure (a user process) gets EPERM", () => {
    const got: Got[] = [];
    let r = -1;
    let after: EntryState[] = [];
    const m = boot([
      { name: "r", slot: R, program: receiver(got, 1) },
      {
        name: "user",
        slot: S,
        priv: "user",
        program: function* (ctx) {
          const t = new Table(ctx, 1);
          yield* t.write([{ flags: AMF_VALID, dst: R, v: 1 }]);
          r = yield* senda(t.va, 1);
          after = yield* t.read(1);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(r).toBe(EPERM);
    expect(after).toEqual([pending()]);
    expect(got).toEqual([]);
  });
});

describe("AMF_NOREPLY", () => {
  test("a NOREPLY entry is not delivered while the receiver waits in SENDREC; later it is", () => {
    const client: Got[] = [];
    const tables: EntryState[][] = [];
    const m = boot([
      {
        name: "client",
        slot: R,
        program: function* (ctx) {
          const um = box(ctx);
          client.push(yield* sendrecV(um, S, T_REQ, 0));
          client.push(yield* recv(um, S));
          yield* sendV(um, S, T_ACK, 0);
          return yield* park(ctx);
        },
      },
      {
        name: "server",
        slot: S,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, R);
          const t = new Table(ctx, 1);
          yield* t.write([{ flags: AMF_VALID | AMF_NOREPLY, dst: R, v: 33 }]);
          yield* senda(t.va, 1);
          tables.push(yield* t.read(1));
          yield* sendV(um, R, T_REPLY, 0);
          yield* recv(um, R);
          tables.push(yield* t.read(1));
          return yield* park(ctx);
        },
      },
    ]);
    runUntil(m, () => asynsize(m) === 1, "server made its SENDA");
    const c = proc(m, R);
    expect(c).toMatchObject({ rts: "RECEIVING", getfrom: String(S) });
    expect(c.miscFlags & (MF_REPLY_PEND | MF_ASYNMSG)).toBe(MF_REPLY_PEND | MF_ASYNMSG);
    runToIdle(m);
    expect(tables[0]).toEqual([pending(AMF_VALID | AMF_NOREPLY)]);
    expect(client.map((g) => [g.r, g.type, ipcStatusCall(g.status)])).toEqual([
      [OK, T_REPLY, SEND],
      [OK, T_DATA, SENDA],
    ]);
    expect(client[1]!.v).toBe(33);
    expect(tables[1]).toEqual([{ flags: AMF_VALID | AMF_NOREPLY | AMF_DONE, result: OK }]);
  });

  test("without AMF_NOREPLY the entry is taken as the reply to the SENDREC", () => {
    const client: Got[] = [];
    const m = boot([
      {
        name: "client",
        slot: R,
        program: function* (ctx) {
          const um = box(ctx);
          client.push(yield* sendrecV(um, S, T_REQ, 0));
          return yield* park(ctx);
        },
      },
      {
        name: "server",
        slot: S,
        program: function* (ctx) {
          yield* recv(box(ctx), R);
          const t = new Table(ctx, 1);
          yield* t.write([{ flags: AMF_VALID, dst: R, v: 34 }]);
          yield* senda(t.va, 1);
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(client).toHaveLength(1);
    expect(client[0]).toMatchObject({ r: OK, source: S, type: T_DATA, v: 34 });
  });

  test("a pending NOREPLY entry is postponed by the receive half of a later SENDREC", () => {
    const client: Got[] = [];
    let after: EntryState[] = [];
    const m = boot([
      {
        name: "server",
        slot: S,
        program: function* (ctx) {
          const t = new Table(ctx, 1);
          yield* t.write([{ flags: AMF_VALID | AMF_NOREPLY, dst: R, v: 35 }]);
          yield* senda(t.va, 1);
          const um = box(ctx);
          yield* recv(um, R);
          yield* sendV(um, R, T_REPLY, 1);
          yield* recv(um, R);
          after = yield* t.read(1);
          return yield* park(ctx);
        },
      },
      {
        name: "client",
        slot: R,
        program: function* (ctx) {
          const um = box(ctx);
          client.push(yield* sendrecV(um, S, T_REQ, 0));
          client.push(yield* recv(um, ANY));
          yield* sendV(um, S, T_ACK, 0);
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(client.map((g) => [g.type, g.v])).toEqual([
      [T_REPLY, 1],
      [T_DATA, 35],
    ]);
    expect(ipcStatusCall(client[1]!.status)).toBe(SENDA);
    expect(after).toEqual([{ flags: AMF_VALID | AMF_NOREPLY | AMF_DONE, result: OK }]);
  });
});
