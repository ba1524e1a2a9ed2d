/**
 * Process death and IPC cleanup (MINIX-SPEC §2.13): every process blocked on the dead one
 * returns EDEADSRCDST, its queue entries and pending notifications disappear, and endpoints
 * of old incarnations stay invalid.
 */
import { describe, expect, test } from "vitest";
import { buildAddressSpace } from "../src/boot/loader.ts";
import { ANY, makeEndpoint, NONE, type Endpoint } from "../src/include/endpoint.ts";
import { EDEADSRCDST, OK } from "../src/include/errno.ts";
import {
  AMF_VALID,
  ASYN_DST,
  ASYN_FLAGS,
  ASYNMSG_SIZE,
  ipcStatusCall,
  NOTIFY,
} from "../src/include/ipc.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { bootProcs } from "../src/kernel/main.ts";
import { PREEMPTIBLE, setSendtoBit, SYS_PROC } from "../src/kernel/priv.ts";
import { notify, receive, send, senda, sendrec, type Syscall } from "../src/lib/ipc.ts";
import { sysClear } from "../src/lib/libsys/sys_misc.ts";
import { store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import {
  A,
  alive,
  B,
  boot,
  box,
  C,
  D,
  E,
  exitAtOnce,
  park,
  proc,
  recv,
  runToIdle,
  runUntil,
  sendOnce,
  sendV,
  T_DATA,
  T_GO,
  type Got,
} from "./fixtures/ipc.ts";

const K = 25 as Endpoint;

describe("peers of a dead process", () => {
  test("senders, receivers and SENDREC callers (queued or awaiting the reply) get EDEADSRCDST", () => {
    const results = new Map<string, number[]>();
    const rec = (who: string, r: number) => results.set(who, [...(results.get(who) ?? []), r]);
    const V = E;
    const m = boot([
      {
        name: "sender",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          rec("sender", yield* sendV(um, V, T_DATA, 1));
          rec("sender", yield* sendV(um, V, T_DATA, 1));
          return 0;
        },
      },
      {
        name: "receiver",
        slot: B,
        program: function* (ctx) {
          rec("receiver", (yield* recv(box(ctx), V)).r);
          return 0;
        },
      },
      {
        name: "queued-sendrec",
        slot: C,
        program: function* (ctx) {
          const um = box(ctx);
          rec("queued-sendrec", yield* sendrec(V, um.va));
          return 0;
        },
      },
      {
        name: "awaiting-reply",
        slot: D,
        program: function* (ctx) {
          const um = box(ctx);
          rec("awaiting-reply", yield* sendrec(V, um.va));
          rec("awaiting-reply", yield* notify(V));
          return 0;
        },
      },
      {
        name: "victim",
        slot: V,
        program: function* (ctx) {
          yield* recv(box(ctx), D); // takes the request, never replies
          return 0;
        },
      },
    ]);
    const vPriv = proc(m, V).privId;
    runUntil(m, () => proc(m, D).rts === "RECEIVING", "victim took the SENDREC request");
    expect(proc(m, V).callerQ).toEqual([A, C]);
    expect(
      [A, B, C, D].map((s) => [proc(m, s).rts, proc(m, s).sendto, proc(m, s).getfrom]),
    ).toEqual([
      ["SENDING", String(V), "NONE"],
      ["RECEIVING", "NONE", String(V)],
      ["SENDING|RECEIVING", String(V), String(V)],
      ["RECEIVING", String(V), String(V)],
    ]);
    runToIdle(m);
    expect(Object.fromEntries(results)).toEqual({
      sender: [EDEADSRCDST, EDEADSRCDST],
      receiver: [EDEADSRCDST],
      "queued-sendrec": [EDEADSRCDST],
      "awaiting-reply": [EDEADSRCDST, EDEADSRCDST],
    });
    expect([A, B, C, D, V].some((s) => alive(m, s))).toBe(false);
    expect(m.kernel.procAddr(V)!.isFree).toBe(true);
    expect(m.kernel.privs.byId(vPriv)!.isFree).toBe(true);
  });

  test("a killed receiver's queued senders are released; the rest of the system goes on", () => {
    const log: string[] = [];
    const m = boot([
      {
        name: "server",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, K); // busy until the killer is done
          for (;;) {
            const g = yield* recv(um, ANY);
            log.push(`server got ${g.v} from ${g.source}`);
          }
        },
      },
      {
        name: "victim",
        slot: B,
        program: function* (ctx) {
          yield* recv(box(ctx), K);
          log.push("victim woke up");
          return 0;
        },
      },
      {
        name: "s1",
        slot: C,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`s1 → victim ${yield* sendV(um, B, T_DATA, 1)}`);
          log.push(`s1 → server ${yield* sendV(um, A, T_DATA, 1)}`);
          return 0;
        },
      },
      {
        name: "s2",
        slot: D,
        program: function* (ctx) {
          const um = box(ctx);
          log.push(`s2 → victim ${yield* sendV(um, B, T_DATA, 2)}`);
          log.push(`s2 → server ${yield* sendV(um, A, T_DATA, 2)}`);
          return 0;
        },
      },
      {
        name: "killer",
        slot: K,
        program: function* (ctx) {
          log.push(`clear ${yield* sysClear(ctx, B)}`);
          log.push(`killer → server ${yield* sendV(box(ctx), A, T_GO, 0)}`);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(log.slice(0, 2)).toEqual([`clear ${OK}`, `killer → server ${OK}`]);
    expect(log.slice(2).sort()).toEqual([
      `s1 → server ${OK}`,
      `s1 → victim ${EDEADSRCDST}`,
      `s2 → server ${OK}`,
      `s2 → victim ${EDEADSRCDST}`,
      `server got 1 from ${C}`,
      `server got 2 from ${D}`,
    ]);
    expect(log).not.toContain("victim woke up");
    expect(alive(m, B)).toBe(false);
    expect(proc(m, A)).toMatchObject({ rts: "RECEIVING", getfrom: "ANY", callerQ: [] });
  });
});

describe("caller queues", () => {
  test.each([0, 1, 2])("killing the queued sender at position %i keeps the queue intact", (pos) => {
    const senders = [B, C, D];
    const victim = senders[pos]!;
    const served: number[] = [];
    const results = new Map<number, number>();
    let queueBefore: readonly number[] = [];
    const sender = (me: Endpoint) =>
      function* (ctx: ProcessContext): Syscall {
        results.set(me, yield* sendV(box(ctx), A, T_DATA, me));
        return 0;
      };
    const m = boot([
      {
        name: "q",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, K);
          for (let i = 0; i < 2; i++) served.push((yield* recv(um, ANY)).source);
          return 0;
        },
      },
      { name: "s1", slot: B, program: sender(B) },
      { name: "s2", slot: C, program: sender(C) },
      { name: "s3", slot: D, program: sender(D) },
      {
        name: "killer",
        slot: K,
        program: function* (ctx) {
          queueBefore = proc(m, A).callerQ;
          const r = yield* sysClear(ctx, victim);
          yield* sendV(box(ctx), A, T_GO, r);
          return 0;
        },
      },
    ]);
    runUntil(m, () => !alive(m, victim), "victim cleared");
    expect(queueBefore).toEqual(senders);
    const rest = senders.filter((s) => s !== victim);
    expect(proc(m, A).callerQ).toEqual(rest);
    runToIdle(m);
    expect(served).toEqual(rest);
    expect(rest.map((s) => results.get(s))).toEqual([OK, OK]);
    expect(results.has(victim)).toBe(false);
    expect(m.kernel.isokendpt(victim)).toBeUndefined();
  });

  test("a process killed while its SENDREC is queued leaves the server's queue", () => {
    const served: number[] = [];
    const m = boot([
      {
        name: "server",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, K);
          for (let i = 0; i < 2; i++) {
            const g = yield* recv(um, ANY);
            served.push(g.source);
            if (g.source === C) yield* sendV(um, C, T_DATA, 0);
          }
          return 0;
        },
      },
      {
        name: "victim",
        slot: B,
        program: function* (ctx) {
          yield* sendrec(A, box(ctx).va);
          return 0;
        },
      },
      {
        name: "other",
        slot: C,
        program: function* (ctx) {
          yield* sendrec(A, box(ctx).va);
          return 0;
        },
      },
      {
        name: "killer",
        slot: K,
        program: function* (ctx) {
          yield* sysClear(ctx, B);
          return yield* sendV(box(ctx), A, T_GO, 0);
        },
      },
    ]);
    runUntil(m, () => proc(m, A).callerQ.length === 2, "both SENDRECs queued");
    runUntil(m, () => !alive(m, B), "victim cleared");
    expect(proc(m, A).callerQ).toEqual([C]);
    runToIdle(m);
    expect(served).toEqual([C]);
    expect(alive(m, C)).toBe(false);
    expect(proc(m, A)).toMatchObject({ rts: "RECEIVING", getfrom: "ANY", callerQ: [] });
  });

  test("a process killed while awaiting its SENDREC reply: the reply fails, other clients go on", () => {
    const log: string[] = [];
    const m = boot([
      {
        name: "server",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, K);
          log.push(`server took ${(yield* recv(um, B)).source}`);
          yield* sendV(um, K, T_GO, 0);
          yield* recv(um, K); // the killer is done
          log.push(`reply to victim ${yield* sendV(um, B, T_DATA, 0)}`);
          const g = yield* recv(um, ANY);
          log.push(`server took ${g.source}`);
          log.push(`reply to other ${yield* sendV(um, C, T_DATA, 0)}`);
          return 0;
        },
      },
      {
        name: "victim",
        slot: B,
        program: function* (ctx) {
          log.push(`victim sendrec ${yield* sendrec(A, box(ctx).va)}`);
          return 0;
        },
      },
      {
        name: "other",
        slot: C,
        program: function* (ctx) {
          log.push(`other sendrec ${yield* sendrec(A, box(ctx).va)}`);
          return 0;
        },
      },
      {
        name: "killer",
        slot: K,
        program: function* (ctx) {
          const um = box(ctx);
          yield* sendV(um, A, T_GO, 0);
          yield* recv(um, A);
          log.push(`clear ${yield* sysClear(ctx, B)}`);
          return yield* sendV(um, A, T_GO, 1);
        },
      },
    ]);
    runUntil(m, () => log.length === 1, "server took the victim's request");
    expect(proc(m, B)).toMatchObject({ rts: "RECEIVING", getfrom: String(A) });
    expect(proc(m, A).callerQ).toEqual([C]);
    runToIdle(m);
    expect(log).toEqual([
      `server took ${B}`,
      `clear ${OK}`,
      `reply to victim ${EDEADSRCDST}`,
      `server took ${C}`,
      `reply to other ${OK}`,
      `other sendrec ${OK}`,
    ]);
  });
});

describe("notifications and SENDA tables of a dead process", () => {
  test("its pending notification bits are cleared, so a new owner of its privilege id sends none", () => {
    const xGot: Got[] = [];
    const V = C;
    const m = boot([
      {
        name: "x",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          xGot.push(yield* recv(um, B));
          xGot.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "relay",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, ANY);
          yield* sendV(um, A, T_GO, 0);
          return yield* park(ctx);
        },
      },
      {
        name: "victim",
        slot: V,
        program: function* () {
          yield* notify(A);
          return 0;
        },
      },
    ]);
    const vPriv = proc(m, V).privId;
    runUntil(m, () => proc(m, A).notifyPending.includes(vPriv), "victim notified x");
    runToIdle(m);
    expect(alive(m, V)).toBe(false);
    expect(proc(m, A).notifyPending).toEqual([]);

    // A new system process claims the freed privilege id and wakes x through the relay.
    const as = buildAddressSpace(m.hw, m.frames, 4);
    bootProcs(m.kernel, [
      {
        slot: D,
        name: "heir",
        program: function* (ctx) {
          return yield* sendV(box(ctx), B, T_DATA, 0);
        },
        argv: ["heir"],
        priority: 7,
        quantum: 8,
        cr3: as.cr3,
        heapBase: as.heapBase,
        heapSize: as.heapSize,
        priv: {
          flags: SYS_PROC | PREEMPTIBLE,
          trapMask: 0x3e,
          ipcTo: [],
          kcalls: [],
          sigMgr: NONE,
        },
        runnable: true,
      },
    ]);
    const heir = m.kernel.procAddr(D)!;
    expect(heir.priv!.id).toBe(vPriv);
    setSendtoBit(m.kernel.privs, heir.priv!, proc(m, B).privId);
    runToIdle(m);
    expect(xGot.map((g) => g.source)).toEqual([B]);
    expect(proc(m, A)).toMatchObject({ rts: "RECEIVING", getfrom: "ANY" });
  });

  test("pending notifications *to* the dead process die with it; others' are untouched", () => {
    const got: Got[] = [];
    const m = boot([
      {
        name: "victim",
        slot: A,
        program: function* (ctx) {
          yield* recv(box(ctx), K);
          return 0;
        },
      },
      {
        name: "r",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, K);
          got.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "n",
        slot: C,
        program: function* (ctx) {
          yield* notify(A);
          yield* notify(B);
          return yield* park(ctx);
        },
      },
      {
        name: "killer",
        slot: K,
        program: function* (ctx) {
          yield* sysClear(ctx, A);
          return yield* sendV(box(ctx), B, T_GO, 0);
        },
      },
    ]);
    const nPriv = proc(m, C).privId;
    const vPriv = m.kernel.procAddr(A)!.priv!;
    runUntil(m, () => vPriv.notifyPending.has(nPriv), "n notified the victim");
    runToIdle(m);
    expect(vPriv.isFree).toBe(true);
    expect(vPriv.notifyPending.isEmpty()).toBe(true);
    expect(got.map((g) => [g.source, ipcStatusCall(g.status)])).toEqual([[C, NOTIFY]]);
  });

  test("the SENDA table of a dead sender is dropped: its pending entries are never delivered", () => {
    const got: Got[] = [];
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, C);
          got.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "s",
        slot: B,
        program: function* (ctx) {
          const table = malloc(ctx, ASYNMSG_SIZE, 4);
          const entry = new Uint8Array(ASYNMSG_SIZE);
          const dv = new DataView(entry.buffer);
          dv.setUint32(ASYN_FLAGS, AMF_VALID, true);
          dv.setInt32(ASYN_DST, A, true);
          yield* store(ctx, table, entry);
          yield* senda(table, 1);
          return 0;
        },
      },
      { name: "go", slot: C, program: sendOnce(A, T_GO, 0) },
      { name: "late", slot: D, program: sendOnce(A, T_DATA, 4) },
    ]);
    runToIdle(m);
    expect(alive(m, B)).toBe(false);
    expect(got.map((g) => [g.source, g.v])).toEqual([[D, 4]]);
  });
});

describe("stale endpoints", () => {
  test("generation 1 of a live generation-0 slot is invalid: EDEADSRCDST", () => {
    const results: number[] = [];
    const stale = makeEndpoint(1, B);
    const m = boot([
      { name: "b", slot: B, program: park },
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          results.push(yield* send(stale, um.va));
          results.push(yield* sendrec(stale, um.va));
          results.push(yield* notify(stale));
          results.push(yield* receive(stale, um.va));
          results.push(yield* sendV(um, B, T_DATA, 0));
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(results).toEqual([EDEADSRCDST, EDEADSRCDST, EDEADSRCDST, EDEADSRCDST, OK]);
  });

  test("after a slot is reused with a new generation, the old endpoint gives EDEADSRCDST", () => {
    const results: string[] = [];
    const m = boot([
      {
        name: "p",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          const hello = yield* recv(um, ANY);
          results.push(`hello from ${hello.source}`);
          results.push(`send old ${yield* sendV(um, B, T_DATA, 1)}`);
          results.push(`notify old ${yield* notify(B)}`);
          results.push(`send new ${yield* sendV(um, hello.source as Endpoint, T_DATA, 2)}`);
          return 0;
        },
      },
      {
        name: "old",
        slot: B,
        program: exitAtOnce,
      },
    ]);
    runToIdle(m);
    expect(alive(m, B)).toBe(false);

    const newEp = makeEndpoint(1, B);
    const gotNew: Got[] = [];
    const as = buildAddressSpace(m.hw, m.frames, 4);
    bootProcs(m.kernel, [
      {
        slot: B,
        name: "new",
        program: function* (ctx) {
          const um = box(ctx);
          yield* sendV(um, A, T_GO, 0);
          gotNew.push(yield* recv(um, A));
          return 0;
        },
        argv: ["new"],
        priority: 7,
        quantum: 8,
        cr3: as.cr3,
        heapBase: as.heapBase,
        heapSize: as.heapSize,
        priv: {
          flags: SYS_PROC | PREEMPTIBLE,
          trapMask: 0x3e,
          ipcTo: [],
          kcalls: [],
          sigMgr: NONE,
        },
        runnable: true,
      },
    ]);
    const p = m.kernel.procAddr(B)!;
    p.endpoint = newEp; // what fork does: the next generation of the slot
    const pPriv = m.kernel.procAddr(A)!.priv!;
    setSendtoBit(m.kernel.privs, p.priv!, pPriv.id);
    setSendtoBit(m.kernel.privs, pPriv, p.priv!.id);
    expect(m.kernel.isokendpt(B)).toBeUndefined();
    expect(m.kernel.isokendpt(newEp)).toBe(p);
    runToIdle(m);
    expect(results).toEqual([
      `hello from ${newEp}`,
      `send old ${EDEADSRCDST}`,
      `notify old ${EDEADSRCDST}`,
      `send new ${OK}`,
    ]);
    expect(gotNew.map((g) => [g.r, g.source, g.v])).toEqual([[OK, A, 2]]);
  });
});
