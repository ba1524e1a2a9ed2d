import { describe, expect, test } from "vitest";
import { ANY, NONE, SYSTEM, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import { NOTIFY_LAYOUT } from "../../include/ipc.ts";
import { SIGKSIG, SIGTERM, SIGUSR1 } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import {
  bootImage,
  malloc,
  receive,
  recordEvents,
  runChecked,
  send,
  sendrec,
  sysEndksig,
  sysGetksig,
  sysKill,
  UMessage,
  type Syscall,
} from "../../../test/system_harness.ts";

const MGR = 11 as Endpoint;
const VICTIM = 12 as Endpoint;
const OTHER = 13 as Endpoint;
const SINK = 14 as Endpoint;

/** The victim counts how often it runs: it waits for messages until an IPC error. */
function victim(log: string[]) {
  return function* (ctx: ProcessContext): Syscall {
    const buf = malloc(ctx, 64, 64);
    for (;;) {
      log.push("victim runs");
      if ((yield* receive(ANY, buf)) !== OK) return 0;
    }
  };
}

function rtsOf(m: ReturnType<typeof bootImage>, slot: number): string | undefined {
  return m.snapshot().procs.find((p) => p.slot === slot)?.rts;
}

describe("SYS_GETKSIG / SYS_ENDKSIG", () => {
  test("the manager gets SIGKSIG, fetches the stopped process and its set once, then releases it", () => {
    const log: string[] = [];
    const mgrGot: unknown[] = [];
    const otherGot: unknown[] = [];
    const m = bootImage([
      { name: "victim", slot: VICTIM, priority: 5, priv: { sigMgr: MGR }, program: victim(log) },
      {
        name: "other",
        slot: OTHER,
        priority: 6,
        program: function* (ctx) {
          otherGot.push(yield* sysKill(ctx, VICTIM, SIGUSR1));
          otherGot.push(yield* sysKill(ctx, VICTIM, SIGTERM));
          otherGot.push(yield* sysKill(ctx, VICTIM, SIGUSR1));
          // Only the manager may fetch or end the signal handling.
          otherGot.push(yield* sysGetksig(ctx));
          otherGot.push(yield* sysEndksig(ctx, VICTIM));
          return 0;
        },
      },
      {
        name: "mgr",
        slot: MGR,
        priority: 7,
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, 64, 64));
          yield* receive(ANY, um.va);
          const n = yield* um.get();
          mgrGot.push(n.source, n.get(NOTIFY_LAYOUT).arg === (1 << SIGKSIG) >>> 0);
          mgrGot.push(rtsOf(m, VICTIM));
          mgrGot.push(yield* sysGetksig(ctx));
          mgrGot.push(yield* sysGetksig(ctx));
          mgrGot.push(rtsOf(m, VICTIM));
          mgrGot.push(yield* sysEndksig(ctx, VICTIM));
          mgrGot.push(rtsOf(m, VICTIM));
          mgrGot.push(yield* sysEndksig(ctx, VICTIM));
          mgrGot.push(yield* sysEndksig(ctx, 99 as Endpoint));
          return 0;
        },
      },
    ]);
    const exits = recordEvents(m, "exit");
    runChecked(m);
    expect(otherGot).toEqual([OK, OK, OK, { endpoint: NONE, sigs: 0 }, EPERM]);
    expect(mgrGot).toEqual([
      SYSTEM,
      true,
      "RECEIVING|SIGNALED|SIG_PENDING",
      { endpoint: VICTIM, sigs: ((1 << SIGUSR1) | (1 << SIGTERM)) >>> 0 },
      { endpoint: NONE, sigs: 0 },
      "RECEIVING|SIG_PENDING",
      OK,
      "RECEIVING",
      EINVAL,
      EINVAL,
    ]);
    expect(log).toEqual(["victim runs"]);
    expect(exits.map((e) => e.ep)).not.toContain(VICTIM);
  });

  test("a signal arriving between GETKSIG and ENDKSIG keeps the process stopped", () => {
    const got: unknown[] = [];
    const m = bootImage([
      {
        name: "mgr",
        slot: MGR,
        priority: 5,
        program: function* (ctx) {
          const buf = malloc(ctx, 64, 64);
          yield* receive(ANY, buf); // SIGKSIG
          got.push(yield* sysGetksig(ctx));
          yield* receive(OTHER, buf); // "other" signalled again
          got.push(yield* sysEndksig(ctx, VICTIM));
          got.push(rtsOf(m, VICTIM));
          got.push(yield* sysGetksig(ctx));
          got.push(yield* sysEndksig(ctx, VICTIM));
          got.push(rtsOf(m, VICTIM));
          return 0;
        },
      },
      { name: "victim", slot: VICTIM, priority: 6, priv: { sigMgr: MGR }, program: victim([]) },
      {
        name: "other",
        slot: OTHER,
        priority: 7,
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, 64, 64));
          yield* sysKill(ctx, VICTIM, SIGUSR1);
          yield* sysKill(ctx, VICTIM, SIGTERM);
          um.m.clear();
          yield* um.put();
          yield* send(MGR, um.va);
          return 0;
        },
      },
    ]);
    runChecked(m);
    expect(got).toEqual([
      { endpoint: VICTIM, sigs: (1 << SIGUSR1) >>> 0 },
      OK,
      "RECEIVING|SIGNALED|SIG_PENDING",
      { endpoint: VICTIM, sigs: (1 << SIGTERM) >>> 0 },
      OK,
      "RECEIVING",
    ]);
  });

  test("the process in PM's slot becomes the manager of user processes with its first GETKSIG", () => {
    const got: unknown[] = [];
    const m = bootImage([
      {
        name: "user",
        slot: VICTIM,
        priority: 4,
        priv: "user",
        program: function* (ctx) {
          // Users may only SENDREC: it waits on "sink", which never receives from it.
          yield* sendrec(SINK, malloc(ctx, 64, 64));
          return 0;
        },
      },
      {
        name: "sink",
        slot: SINK,
        priority: 3,
        program: function* (ctx) {
          yield* receive(OTHER, malloc(ctx, 64, 64));
          return 0;
        },
      },
      {
        name: "pm",
        slot: 0,
        priority: 5,
        program: function* (ctx) {
          const buf = malloc(ctx, 64, 64);
          got.push(yield* sysGetksig(ctx)); // claims the user processes
          yield* receive(ANY, buf); // SIGKSIG
          got.push(yield* sysGetksig(ctx));
          got.push(yield* sysEndksig(ctx, VICTIM));
          return 0;
        },
      },
      {
        name: "other",
        slot: OTHER,
        priority: 6,
        program: function* (ctx) {
          got.push(yield* sysKill(ctx, VICTIM, SIGUSR1));
          // pm has exited: no live manager, the kernel's default action applies again.
          got.push(yield* sysKill(ctx, VICTIM, SIGTERM));
          return 0;
        },
      },
    ]);
    const exits = recordEvents(m, "exit");
    runChecked(m);
    expect(got).toEqual([
      { endpoint: NONE, sigs: 0 },
      { endpoint: VICTIM, sigs: (1 << SIGUSR1) >>> 0 },
      OK, // pm's ENDKSIG
      OK, // other's first kill (pm ran first: it has the higher priority)
      OK,
    ]);
    expect(exits.map((e) => `${e.ep}:${e.reason}`)).toEqual([
      "0:exit",
      "12:signal 15",
      "13:exit",
      "14:exit",
    ]);
  });
});
