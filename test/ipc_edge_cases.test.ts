/**
 * Kernel IPC edge cases (MINIX-SPEC §2.3–2.14, checklist §2.14 and §10.6): whole-system
 * scenarios with small test programs in the boot image. Every scenario ends with the kernel's
 * invariant check.
 */
import { describe, expect, test } from "vitest";
import { unmapPage } from "../src/boot/loader.ts";
import {
  ANY,
  CLOCK,
  makeEndpoint,
  NONE,
  SELF,
  SYSTEM,
  type Endpoint,
} from "../src/include/endpoint.ts";
import {
  EBADCALL,
  ECALLDENIED,
  EDEADSRCDST,
  EFAULT,
  EINVAL,
  ELOCKED,
  ENOTREADY,
  ETRAPDENIED,
  OK,
} from "../src/include/errno.ts";
import {
  ipcStatusCall,
  ipcStatusFromKernel,
  isIpcNotify,
  NOTIFY,
  NOTIFY_LAYOUT,
  notifyFrom,
  SEND,
  SENDNB,
  SENDREC,
} from "../src/include/ipc.ts";
import { M_PAYLOAD } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { PhysAddr } from "../src/include/types.ts";
import { MF_DELIVERMSG, MF_REPLY_PEND } from "../src/kernel/proc.ts";
import {
  notify,
  receive,
  send,
  sendnb,
  sendrec,
  type IpcStatus,
  type Syscall,
} from "../src/lib/ipc.ts";
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
  L,
  park,
  proc,
  put,
  rawIpc,
  recv,
  runToIdle,
  runUntil,
  sendrecV,
  sendOnce,
  sendV,
  T_DATA,
  T_GO,
  T_REPLY,
  T_REQ,
  type Got,
} from "./fixtures/ipc.ts";

// ---------------------------------------------------------------------------------------------

describe("notifications (§2.5, §2.7)", () => {
  test("RECEIVE(ANY) with a pending notification and a queued sender: the notification wins", () => {
    const seen: Got[] = [];
    const sendResult: number[] = [];
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          seen.push(yield* recv(um, D));
          seen.push(yield* recv(um, ANY));
          seen.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "s",
        slot: B,
        program: function* (ctx) {
          sendResult.push(yield* sendV(box(ctx), A, T_DATA, 7));
          return 0;
        },
      },
      {
        name: "n",
        slot: C,
        program: function* (ctx) {
          sendResult.push(yield* notify(A));
          return yield* park(ctx);
        },
      },
      { name: "x", slot: D, program: sendOnce(A, T_GO, 1) },
    ]);
    runUntil(m, () => proc(m, C).rts === "RECEIVING", "n notified, x not yet run");
    expect(proc(m, A).callerQ).toEqual([B]);
    expect(proc(m, A).notifyPending).toEqual([proc(m, C).privId]);
    runToIdle(m);
    expect(sendResult).toEqual([OK, OK]);
    expect(seen.map((g) => [g.source, g.type])).toEqual([
      [D, T_GO],
      [C, notifyFrom(C)],
      [B, T_DATA],
    ]);
    expect(seen.map((g) => ipcStatusCall(g.status))).toEqual([SEND, NOTIFY, SEND]);
  });

  test("notifications from several sources are delivered lowest privilege id first", () => {
    const sources: number[] = [];
    const notifier = (dst: Endpoint) =>
      function* (ctx: ProcessContext): Syscall {
        yield* notify(dst);
        return yield* park(ctx);
      };
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, B);
          for (let i = 0; i < 3; i++) sources.push((yield* recv(um, ANY)).source);
          return 0;
        },
      },
      // They notify in this order: dynamic id first, then static ids 9 and 7.
      { name: "n24", slot: E, program: notifier(A) },
      { name: "n5", slot: 5, program: notifier(A) },
      { name: "n3", slot: 3, program: notifier(A) },
      { name: "go", slot: B, program: sendOnce(A, T_GO, 0) },
    ]);
    const ids = [E, 5, 3].map((s) => proc(m, s).privId);
    expect(ids[1]).toBe(9);
    expect(ids[2]).toBe(7);
    expect(ids[0]).toBeGreaterThan(14);
    runUntil(m, () => proc(m, A).notifyPending.length === 3, "three pending notifications");
    expect(proc(m, A).notifyPending).toEqual([7, 9, ids[0]]);
    runToIdle(m);
    expect(sources).toEqual([3, 5, E]);
  });

  test("repeated notifications from one source before delivery collapse into one", () => {
    const seen: Got[] = [];
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, D);
          seen.push(yield* recv(um, ANY));
          seen.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "n",
        slot: B,
        program: function* (ctx) {
          for (let i = 0; i < 3; i++) yield* notify(A);
          return yield* park(ctx);
        },
      },
      { name: "s", slot: C, program: sendOnce(A, T_DATA, 5) },
      { name: "go", slot: D, program: sendOnce(A, T_GO, 0) },
    ]);
    runToIdle(m);
    expect(seen.map((g) => [g.source, ipcStatusCall(g.status)])).toEqual([
      [B, NOTIFY],
      [C, SEND],
    ]);
    expect(proc(m, B).rts).toBe("RECEIVING");
  });

  test("a SENDREC caller sees no notification until after the reply; the bits stay pending", () => {
    const client: Got[] = [];
    let serverGot: Got | undefined;
    const m = boot([
      {
        name: "client",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          client.push(yield* sendrecV(um, B, T_REQ, 20));
          client.push(yield* recv(um, ANY));
          client.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "server",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          serverGot = yield* recv(um, ANY);
          yield* notify(A);
          yield* recv(um, C);
          yield* sendV(um, A, T_REPLY, 40);
          return yield* park(ctx);
        },
      },
      {
        name: "n",
        slot: C,
        program: function* (ctx) {
          yield* notify(A);
          yield* sendV(box(ctx), B, T_GO, 0);
          return yield* park(ctx);
        },
      },
    ]);
    runUntil(m, () => proc(m, C).rts === "RECEIVING", "both notifications sent");
    const a = proc(m, A);
    expect(a.rts).toBe("RECEIVING");
    expect(a.getfrom).toBe(String(B));
    expect(a.miscFlags & MF_REPLY_PEND).toBe(MF_REPLY_PEND);
    expect(a.miscFlags & MF_DELIVERMSG).toBe(0);
    expect(a.notifyPending).toEqual([proc(m, B).privId, proc(m, C).privId]);
    runToIdle(m);
    expect(serverGot?.type).toBe(T_REQ);
    expect(client.map((g) => [g.r, g.source, g.type])).toEqual([
      [OK, B, T_REPLY],
      [OK, B, notifyFrom(B)],
      [OK, C, notifyFrom(C)],
    ]);
    expect(client[0]!.v).toBe(40);
    expect(proc(m, B).notifyPending).toEqual([]);
  });

  test("a notification from the server pending before a SENDREC is not taken as the reply", () => {
    const client: Got[] = [];
    const m = boot([
      {
        name: "server",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          yield* notify(A);
          const g = yield* recv(um, ANY);
          yield* sendV(um, g.source as Endpoint, T_REPLY, g.v + 1);
          return yield* park(ctx);
        },
      },
      {
        name: "client",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          client.push(yield* sendrecV(um, B, T_REQ, 1));
          client.push(yield* recv(um, B));
          return 0;
        },
      },
    ]);
    runUntil(m, () => proc(m, B).rts === "RECEIVING", "server notified, then waits");
    expect(proc(m, A).notifyPending).toEqual([proc(m, B).privId]);
    runToIdle(m);
    expect(client.map((g) => [g.source, g.type, ipcStatusCall(g.status)])).toEqual([
      [B, T_REPLY, SEND],
      [B, notifyFrom(B), NOTIFY],
    ]);
    expect(client[0]!.v).toBe(2);
  });

  test("NOTIFY to a process blocked in SENDREC sets a pending bit and does not deliver", () => {
    const order: string[] = [];
    let notifyResult = -1;
    const m = boot([
      {
        name: "client",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          const reply = yield* sendrecV(um, B, T_REQ, 1);
          order.push(`reply ${reply.type.toString(16)}`);
          const n = yield* recv(um, B);
          order.push(`${isIpcNotify(n.status) ? "notify" : "?"} ${n.type.toString(16)}`);
          return 0;
        },
      },
      {
        name: "server",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, A);
          notifyResult = yield* notify(A);
          yield* recv(um, C);
          yield* sendV(um, A, T_REPLY, 0);
          return yield* park(ctx);
        },
      },
      { name: "go", slot: C, program: sendOnce(B, T_GO, 0) },
    ]);
    runUntil(m, () => notifyResult !== -1, "server notified its SENDREC client");
    expect(notifyResult).toBe(OK);
    const a = proc(m, A);
    expect(a.rts).toBe("RECEIVING");
    expect(a.miscFlags & MF_DELIVERMSG).toBe(0);
    expect(a.notifyPending).toEqual([proc(m, B).privId]);
    runToIdle(m);
    expect(order).toEqual([
      `reply ${T_REPLY.toString(16)}`,
      `notify ${notifyFrom(B).toString(16)}`,
    ]);
  });

  test("notification message: status NOTIFY, m_type NOTIFY_FROM(slot), m_source, arg and timestamp", () => {
    const seen: { g: Got; arg: number; timestamp: number }[] = [];
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          for (const src of [ANY, D]) {
            const g = yield* recv(um, src);
            const f = um.m.get(NOTIFY_LAYOUT);
            seen.push({ g, arg: f.arg, timestamp: f.timestamp });
          }
          return 0;
        },
      },
      {
        name: "n",
        slot: D,
        program: function* (ctx) {
          yield* notify(A); // A waits for ANY: delivered at once
          yield* notify(A); // A is runnable: pending, taken by RECEIVE(D)
          return yield* park(ctx);
        },
      },
    ]);
    runToIdle(m);
    expect(seen).toHaveLength(2);
    for (const { g, arg, timestamp } of seen) {
      expect(g.r).toBe(OK);
      expect(isIpcNotify(g.status)).toBe(true);
      expect(ipcStatusCall(g.status)).toBe(NOTIFY);
      expect(ipcStatusFromKernel(g.status)).toBe(false);
      expect(g.source).toBe(D);
      expect(g.type).toBe(notifyFrom(D));
      expect(g.type).toBe(0x1000 | (D + 4));
      expect(arg).toBe(0);
      expect(timestamp).toBeLessThanOrEqual(m.kernel.ticks);
    }
  });
});

describe("queueing and non-blocking sends (§2.4)", () => {
  test("SEND to a process receiving from a different specific source queues the caller", () => {
    const seen: Got[] = [];
    let sendResult = -1;
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          seen.push(yield* recv(um, C));
          seen.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "s",
        slot: B,
        program: function* (ctx) {
          sendResult = yield* sendV(box(ctx), A, T_DATA, 3);
          return 0;
        },
      },
      { name: "x", slot: C, program: sendOnce(A, T_GO, 0) },
    ]);
    runUntil(m, () => proc(m, B).rts === "SENDING", "s blocked");
    expect(proc(m, A)).toMatchObject({ rts: "RECEIVING", getfrom: String(C), callerQ: [B] });
    expect(proc(m, B).sendto).toBe(String(A));
    runToIdle(m);
    expect(sendResult).toBe(OK);
    expect(seen.map((g) => [g.source, g.type, g.v])).toEqual([
      [C, T_GO, 0],
      [B, T_DATA, 3],
    ]);
  });

  test("queued senders are served in FIFO order, and RECEIVE(src) skips the others", () => {
    const sources: number[] = [];
    const sender = (v: number) => sendOnce(A, T_DATA, v);
    const m = boot([
      { name: "s1", slot: B, program: sender(1) },
      { name: "s2", slot: C, program: sender(2) },
      { name: "s3", slot: D, program: sender(3) },
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          sources.push((yield* recv(um, C)).source);
          sources.push((yield* recv(um, ANY)).source);
          sources.push((yield* recv(um, ANY)).source);
          return 0;
        },
      },
    ]);
    runUntil(m, () => proc(m, A).callerQ.length === 3, "three senders queued");
    expect(proc(m, A).callerQ).toEqual([B, C, D]);
    runToIdle(m);
    expect(sources).toEqual([C, B, D]);
  });

  test("SENDNB to a process that is not receiving gives ENOTREADY and queues nothing", () => {
    const results: number[] = [];
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, C);
          yield* recv(um, ANY);
          return 0;
        },
      },
      {
        name: "s",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          yield* put(um, T_DATA, 9);
          results.push(yield* sendnb(A, um.va));
          results.push(yield* sendnb(A, um.va));
          return 0;
        },
      },
      { name: "x", slot: C, program: sendOnce(A, T_GO, 0) },
    ]);
    runToIdle(m);
    expect(results).toEqual([ENOTREADY, ENOTREADY]);
    expect(alive(m, B)).toBe(false);
    // r got x's message and now waits: nothing of s was queued.
    expect(proc(m, A)).toMatchObject({ rts: "RECEIVING", getfrom: "ANY", callerQ: [] });
  });
});

describe("deadlocks (§2.9)", () => {
  test("two processes SEND to each other: the second gets ELOCKED and does not block", () => {
    const log: string[] = [];
    const m = boot([
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
    runToIdle(m);
    expect(log).toEqual([`b send ${ELOCKED}`, `b got 1 from ${A}`, `a send ${OK}`]);
  });

  test("SENDREC A→B while B is in RECEIVE(A) is not a deadlock", () => {
    let reply: Got | undefined;
    const m = boot([
      {
        name: "b",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          const g = yield* recv(um, A);
          yield* sendV(um, A, T_REPLY, g.v * 2);
          return 0;
        },
      },
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          reply = yield* sendrecV(box(ctx), B, T_REQ, 21);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(reply).toMatchObject({ r: OK, source: B, type: T_REPLY, v: 42 });
  });

  test("A RECEIVE(B) while B RECEIVE(A): the second gets ELOCKED", () => {
    const log: string[] = [];
    const m = boot([
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
          const st: IpcStatus = { value: 0 };
          log.push(`b receive ${yield* receive(A, um.va, st)}`);
          log.push(`b send ${yield* sendV(um, A, T_DATA, 8)}`);
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(log).toEqual([`b receive ${ELOCKED}`, `b send ${OK}`, `a got ${OK}/8`]);
  });
});

describe("endpoint validity (§1.2, §2.3)", () => {
  test("a stale endpoint (another generation of a live slot) gives EDEADSRCDST", () => {
    const results: number[] = [];
    const stale = makeEndpoint(1, B);
    const m = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* put(um, T_DATA, 0);
          results.push(yield* send(stale, um.va));
          results.push(yield* sendnb(stale, um.va));
          results.push(yield* sendrec(stale, um.va));
          results.push(yield* notify(stale));
          results.push(yield* receive(stale, um.va));
          results.push(yield* send(B, um.va));
          return 0;
        },
      },
      { name: "b", slot: B, program: park },
    ]);
    expect(m.kernel.isokendpt(stale)).toBeUndefined();
    expect(m.kernel.isokendpt(B)?.nr).toBe(B);
    runToIdle(m);
    expect(results).toEqual([EDEADSRCDST, EDEADSRCDST, EDEADSRCDST, EDEADSRCDST, EDEADSRCDST, OK]);
  });

  test("the endpoint of an exited process, a free slot and out-of-range slots give EDEADSRCDST", () => {
    const results: number[] = [];
    const m = boot([
      { name: "gone", slot: B, program: exitAtOnce },
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          for (const dst of [B, 200, 5000, -9]) {
            results.push(yield* send(dst as Endpoint, um.va));
            results.push(yield* receive(dst as Endpoint, um.va));
            results.push(yield* notify(dst as Endpoint));
          }
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(results).toEqual(new Array<number>(12).fill(EDEADSRCDST));
  });

  test("ANY, NONE and SELF are never valid endpoints", () => {
    const m = boot([{ name: "a", slot: A, program: park }]);
    for (const magic of [ANY, NONE, SELF]) expect(m.kernel.isokendpt(magic)).toBeUndefined();
    runToIdle(m);
  });

  test("ANY is only accepted by RECEIVE: SEND, SENDNB, SENDREC and NOTIFY give EINVAL", () => {
    const results: number[] = [];
    const m = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          results.push(yield* send(ANY, um.va));
          results.push(yield* sendnb(ANY, um.va));
          results.push(yield* sendrec(ANY, um.va));
          results.push(yield* notify(ANY));
          results.push((yield* recv(um, ANY)).r);
          return 0;
        },
      },
      { name: "b", slot: B, program: sendOnce(A, T_DATA, 0) },
    ]);
    runToIdle(m);
    expect(results).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, OK]);
  });

  test("a peer that dies while the caller is queued or blocked on it gives EDEADSRCDST", () => {
    const results: string[] = [];
    const m = boot([
      {
        name: "s",
        slot: A,
        program: function* (ctx) {
          results.push(`send ${yield* sendV(box(ctx), C, T_DATA, 0)}`);
          return 0;
        },
      },
      {
        name: "r",
        slot: B,
        program: function* (ctx) {
          results.push(`receive ${(yield* recv(box(ctx), C)).r}`);
          return 0;
        },
      },
      { name: "victim", slot: C, program: exitAtOnce },
    ]);
    runUntil(m, () => proc(m, B).rts === "RECEIVING", "both peers blocked");
    expect(proc(m, C).callerQ).toEqual([A]);
    runToIdle(m);
    expect(results.sort()).toEqual([`receive ${EDEADSRCDST}`, `send ${EDEADSRCDST}`]);
    expect(alive(m, A) || alive(m, B) || alive(m, C)).toBe(false);
  });
});

describe("permission checks (§2.3)", () => {
  test("sending outside s_ipc_to gives ECALLDENIED; RECEIVE is not checked against the mask", () => {
    const results: number[] = [];
    let got: Got | undefined;
    const m = boot([
      {
        name: "a",
        slot: A,
        priv: { ipcTo: [] },
        program: function* (ctx) {
          const um = box(ctx);
          yield* put(um, T_DATA, 0);
          results.push(yield* send(B, um.va));
          results.push(yield* sendnb(B, um.va));
          results.push(yield* sendrec(B, um.va));
          results.push(yield* notify(B));
          got = yield* recv(um, B);
          return 0;
        },
      },
      { name: "b", slot: B, program: sendOnce(A, T_DATA, 77) },
    ]);
    runToIdle(m);
    expect(results).toEqual([ECALLDENIED, ECALLDENIED, ECALLDENIED, ECALLDENIED]);
    expect(got).toMatchObject({ r: OK, source: B, v: 77 });
  });

  test("a process whose trap mask has only RECEIVE cannot SEND (ETRAPDENIED)", () => {
    const results: number[] = [];
    let got: Got | undefined;
    const m = boot([
      {
        name: "a",
        slot: A,
        priv: { traps: ["RECEIVE"] },
        program: function* (ctx) {
          const um = box(ctx);
          yield* put(um, T_DATA, 0);
          results.push(yield* send(B, um.va));
          results.push(yield* sendnb(B, um.va));
          results.push(yield* sendrec(B, um.va));
          results.push(yield* notify(B));
          got = yield* recv(um, B);
          return 0;
        },
      },
      { name: "b", slot: B, program: sendOnce(A, T_DATA, 5) },
    ]);
    runToIdle(m);
    expect(results).toEqual([ETRAPDENIED, ETRAPDENIED, ETRAPDENIED, ETRAPDENIED]);
    expect(got).toMatchObject({ r: OK, source: B, v: 5 });
  });

  test("SEND, SENDNB and NOTIFY to a kernel task give ETRAPDENIED; SENDREC to CLOCK is allowed", () => {
    const results: number[] = [];
    const m = boot([
      {
        name: "a",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* put(um, T_REQ, 0);
          results.push(yield* send(CLOCK, um.va));
          results.push(yield* sendnb(CLOCK, um.va));
          results.push(yield* notify(CLOCK));
          results.push(yield* send(SYSTEM, um.va));
          results.push(yield* notify(SYSTEM));
          results.push(yield* sendrec(CLOCK, um.va));
          return 0;
        },
      },
    ]);
    runToIdle(m);
    expect(results).toEqual([ETRAPDENIED, ETRAPDENIED, ETRAPDENIED, ETRAPDENIED, ETRAPDENIED]);
    // The SENDREC passed every check: the caller is queued on CLOCK (which never receives).
    expect(proc(m, A)).toMatchObject({ rts: "SENDING|RECEIVING", sendto: "CLOCK" });
    expect(proc(m, CLOCK).callerQ).toEqual([A]);
  });

  test("call numbers: out of 0..31 → ETRAPDENIED, unknown with the mask bit → EBADCALL", () => {
    const results: number[] = [];
    const caller = function* (ctx: ProcessContext): Syscall {
      const um = box(ctx);
      for (const call of [99, 40, 32, -1, 7, 0, 31]) results.push(yield* rawIpc(call, B, um.va));
      return 0;
    };
    const m = boot([
      { name: "full", slot: A, program: caller },
      { name: "named", slot: C, program: caller },
      { name: "b", slot: B, program: park },
    ]);
    // "full" may use every trap number 0..31; "named" only the IPC primitives.
    m.kernel.procAddr(A)!.priv!.trapMask = 0xffffffff;
    runToIdle(m);
    const denied = [ETRAPDENIED, ETRAPDENIED, ETRAPDENIED, ETRAPDENIED];
    expect(results.slice(0, 7)).toEqual([...denied, EBADCALL, EBADCALL, EBADCALL]);
    expect(results.slice(7)).toEqual([...denied, ETRAPDENIED, ETRAPDENIED, ETRAPDENIED]);
  });
});

describe("messages and the IPC status word (§2.1, §2.4, §2.11)", () => {
  test("status word: the server sees SENDREC; the client's reply shows how the server sent it", () => {
    const server: Got[] = [];
    const client: Got[] = [];
    const m = boot([
      {
        name: "server",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          for (let i = 0; i < 3; i++) {
            const g = yield* recv(um, ANY);
            server.push(g);
            if (g.type !== T_REQ) continue;
            yield* put(um, T_REPLY, g.v + 1);
            if (g.v === 1) yield* send(g.source as Endpoint, um.va);
            else yield* sendnb(g.source as Endpoint, um.va);
          }
          return 0;
        },
      },
      {
        name: "c1",
        slot: B,
        program: function* (ctx) {
          client.push(yield* sendrecV(box(ctx), A, T_REQ, 1));
          return 0;
        },
      },
      {
        name: "c2",
        slot: C,
        program: function* (ctx) {
          client.push(yield* sendrecV(box(ctx), A, T_REQ, 2));
          return 0;
        },
      },
      { name: "plain", slot: D, program: sendOnce(A, T_DATA, 0) },
    ]);
    runToIdle(m);
    expect(server.map((g) => [g.source, ipcStatusCall(g.status)])).toEqual([
      [B, SENDREC],
      [C, SENDREC],
      [D, SEND],
    ]);
    // The status names the primitive that delivered the reply (the server's, §2.4).
    expect(client.map((g) => [g.r, g.type, g.v, ipcStatusCall(g.status)])).toEqual([
      [OK, T_REPLY, 2, SEND],
      [OK, T_REPLY, 3, SENDNB],
    ]);
    expect([...server, ...client].some((g) => ipcStatusFromKernel(g.status))).toBe(false);
  });

  test("a SENDREC ends with its reply: the caller's next plain SEND arrives with status SEND", () => {
    const seen: Got[] = [];
    const m = boot([
      {
        name: "server",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          const req = yield* recv(um, ANY);
          yield* put(um, T_REPLY, 0);
          yield* send(req.source as Endpoint, um.va);
          seen.push(yield* recv(um, ANY));
          return 0;
        },
      },
      {
        name: "client",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          yield* sendrecV(um, A, T_REQ, 1);
          return yield* sendV(um, A, T_DATA, 2);
        },
      },
    ]);
    runToIdle(m);
    expect(seen.map((g) => [g.r, g.type, g.v, ipcStatusCall(g.status)])).toEqual([
      [OK, T_DATA, 2, SEND],
    ]);
  });

  test("m_source is always set by the kernel, whatever the sender wrote", () => {
    const sources: number[] = [];
    const forger = (fake: number) =>
      function* (ctx: ProcessContext): Syscall {
        const um = box(ctx);
        um.m.set(T_DATA, L, { v: fake });
        um.m.source = fake as Endpoint;
        yield* um.put();
        return yield* send(A, um.va);
      };
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          sources.push((yield* recv(um, ANY)).source); // b delivers directly
          yield* recv(um, D);
          sources.push((yield* recv(um, ANY)).source); // c was queued
          return 0;
        },
      },
      { name: "b", slot: B, program: forger(C) },
      { name: "c", slot: C, program: forger(CLOCK) },
      { name: "d", slot: D, program: forger(B) },
    ]);
    runToIdle(m);
    expect(sources).toEqual([B, C]);
  });

  test("a message is captured at send time: later changes to the sender's buffer are not seen", () => {
    let bufVa = 0;
    let got: Got | undefined;
    let afterwards = 0;
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const um = box(ctx);
          yield* recv(um, C);
          got = yield* recv(um, B);
          return 0;
        },
      },
      {
        name: "s",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          bufVa = um.va;
          yield* sendV(um, A, T_DATA, 111);
          afterwards = (yield* um.get()).get(L).v;
          return 0;
        },
      },
      { name: "x", slot: C, program: sendOnce(A, T_GO, 0) },
    ]);
    runUntil(m, () => proc(m, B).rts === "SENDING", "sender blocked");
    // Overwrite the payload in the blocked sender's memory, as another CPU or DMA could.
    const s = m.kernel.procAddr(B)!;
    const pa = m.hw.mmu.translate(s.cr3, bufVa + M_PAYLOAD, true, true);
    expect(pa).toBeGreaterThanOrEqual(0);
    m.hw.mem.write32(pa as PhysAddr, 999);
    runToIdle(m);
    expect(got).toMatchObject({ r: OK, source: B, type: T_DATA, v: 111 });
    expect(afterwards).toBe(999);
  });

  test("a message for a receiver whose buffer page was unmapped (no VM): RECEIVE returns EFAULT", () => {
    let bufVa = 0;
    const seen: Got[] = [];
    const sends: number[] = [];
    const m = boot([
      {
        name: "r",
        slot: A,
        program: function* (ctx) {
          const page = malloc(ctx, 4096, 4096);
          bufVa = page;
          const st: IpcStatus = { value: 0 };
          seen.push({ r: yield* receive(ANY, page, st), status: 0, source: 0, type: 0, v: 0 });
          seen.push(yield* recv(box(ctx), ANY));
          return 0;
        },
      },
      {
        name: "s",
        slot: B,
        program: function* (ctx) {
          const um = box(ctx);
          sends.push(yield* sendV(um, A, T_DATA, 1));
          sends.push(yield* sendV(um, A, T_DATA, 2));
          return 0;
        },
      },
    ]);
    runUntil(m, () => proc(m, A).rts === "RECEIVING", "receiver blocked");
    unmapPage(m.hw, m.kernel.procAddr(A)!.cr3, bufVa);
    runToIdle(m);
    expect(sends).toEqual([OK, OK]);
    expect(seen.map((g) => g.r)).toEqual([EFAULT, OK]);
    expect(seen[1]).toMatchObject({ source: B, type: T_DATA, v: 2 });
    expect(alive(m, A) || alive(m, B)).toBe(false);
  });
});
