/**
 * DS through IPC and grants (machines without RS: a stand-in names the callers): subscription
 * patterns and type filters, delete notifications, ownership and private entries, callers
 * without a name, limits from the boot option `ds`, and malformed requests — each answered
 * with an error while DS keeps serving.
 */
import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import { DS_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import {
  E2BIG,
  EEXIST,
  EINVAL,
  ENOENT,
  ENOSPC,
  ENOSYS,
  EPERM,
  ESRCH,
  OK,
} from "../src/include/errno.ts";
import {
  DS_CALLS,
  DSF_INITIAL,
  DSF_OVERWRITE,
  DSF_PRIV_OVERWRITE,
  DSF_PRIV_RETRIEVE,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  DSMF_COPY_SNAPSHOT,
  type DsCallName,
  type DsReq,
} from "../src/include/ds.ts";
import { CPF_READ, CPF_WRITE } from "../src/include/grant.ts";
import { isIpcNotify } from "../src/include/ipc.ts";
import type { FieldKind, Layout } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { notify, receive, send, sendrec, type IpcStatus, type Syscall } from "../src/lib/ipc.ts";
import {
  dsCheck,
  dsDeleteU32,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveMap,
  dsRetrieveU32,
  dsSubscribe,
} from "../src/lib/libsys/ds.ts";
import { cpfGrantDirect } from "../src/lib/libsys/safecopies.ts";
import { store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { bootNamed, client, expectSteps, PAGE, pages, type Steps } from "./fixtures/ds.ts";

function settleAll(m: Machine, steps: Steps, expected: number): void {
  m.runUntilIdle(3_000_000);
  expect(m.halted).toBeNull();
  expectSteps(steps, expected);
  expect(m.snapshot().procs.find((p) => p.slot === DS_PROC_NR)?.rts).toBe("RECEIVING");
}

/** A subscriber that logs each change (key) and each empty wake-up ("-"). */
function watcher(slot: number, pattern: string, flags: number, log: string[]) {
  return client(`w${slot}`, slot, function* (ctx) {
    log.push(`subscribe ${yield* dsSubscribe(ctx, pattern, flags)}`);
    const va = malloc(ctx, 64, 64);
    const status: IpcStatus = { value: 0 };
    for (;;) {
      if ((yield* receive(DS_PROC_NR, va, status)) !== OK || !isIpcNotify(status.value)) continue;
      let n = 0;
      for (let c = yield* dsCheck(ctx); c.status === OK; c = yield* dsCheck(ctx)) {
        log.push(c.key);
        n++;
      }
      if (n === 0) log.push("-");
    }
  });
}

describe("subscriptions", () => {
  test("patterns match whole keys; type filters; DSF_INITIAL; deletes wake with nothing to check", () => {
    const all: string[] = [];
    const prefix: string[] = [];
    const strs: string[] = [];
    const steps: Steps = [];
    const pub = client("pub", 11, function* (ctx) {
      steps.push(["early", yield* dsPublishU32(ctx, "early", 1), OK]);
      // Let the watchers subscribe (they run after the stand-in's notification, as we do).
      yield* receive(20 as Endpoint, malloc(ctx, 64, 64));
      for (const key of ["test", "test_u32", "xtest", "test.1"]) {
        steps.push([key, yield* dsPublishU32(ctx, key, 1), OK]);
      }
      steps.push(["str", yield* dsPublishStr(ctx, "test_str", "s"), OK]);
      steps.push(["del", yield* dsDeleteU32(ctx, "test_u32"), OK]);
    });
    const go = client("go", 20, function* (ctx) {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      // Runs after the watchers (lower priority): hand the turn to the publisher.
      yield* sendrec(11 as Endpoint, um.va);
    });
    const m = bootNamed(
      [
        pub,
        watcher(12, ".*", DSF_INITIAL, all),
        watcher(13, "test", 0, prefix),
        watcher(14, "test.*", DSF_TYPE_STR, strs),
        { ...go, priority: 7 },
      ],
      { pub: 11, w12: 12, w13: 13, w14: 14, go: 20 },
    );
    settleAll(m, steps, 7);
    // ".*" with DSF_INITIAL saw the existing labels and "early" first (lowest entry first),
    // then each change once; the delete of test_u32 woke it with nothing left to check.
    expect(all).toEqual([
      "subscribe 0",
      ...["rs", "ds", "pub", "w12", "w13", "w14", "go", "early"],
      ...["test", "test_u32", "xtest", "test.1", "test_str"],
      "-",
    ]);
    // "test" is anchored: only the key "test" itself; never test_u32 or xtest.
    expect(prefix).toEqual(["subscribe 0", "test"]);
    // Type filter STR: only test_str.
    expect(strs).toEqual(["subscribe 0", "test_str"]);
  });

  test("one subscription per caller (EEXIST, DSF_OVERWRITE replaces); bad patterns are EINVAL", () => {
    const steps: Steps = [];
    const c = client("c", 11, function* (ctx) {
      steps.push(["first", yield* dsSubscribe(ctx, "a.*"), OK]);
      steps.push(["again", yield* dsSubscribe(ctx, "b.*"), EEXIST]);
      steps.push(["replace", yield* dsSubscribe(ctx, "b.*", DSF_OVERWRITE), OK]);
      // The replacement, not the first pattern, decides what is reported.
      steps.push(["pub a", yield* dsPublishU32(ctx, "a1", 1), OK]);
      steps.push(["pub b", yield* dsPublishU32(ctx, "b1", 1), OK]);
      steps.push(["check b", (yield* dsCheck(ctx)).key, "b1"]);
      steps.push(["check a", (yield* dsCheck(ctx)).status, ENOENT]);
      steps.push(["bad", yield* dsSubscribe(ctx, "(", DSF_OVERWRITE), EINVAL]);
      steps.push(["bad2", yield* dsSubscribe(ctx, "[z-a]", DSF_OVERWRITE), EINVAL]);
      steps.push(["hostile", yield* dsSubscribe(ctx, "(a+)+$", DSF_OVERWRITE), OK]);
      const long = "a".repeat(40) + "!";
      steps.push(["publish", yield* dsPublishU32(ctx, long, 1), OK]);
      steps.push(["check none", (yield* dsCheck(ctx)).status, ENOENT]);
    });
    settleAll(bootNamed([c], { c: 11 }), steps, 12);
  });
});

describe("DS_CHECK", () => {
  test("reports key, type and the owner's endpoint, lowest entry first, one change per call", () => {
    const steps: Steps = [];
    const c = client("c", 11, function* (ctx) {
      steps.push(["sub", yield* dsSubscribe(ctx, "o\\..*"), OK]);
      steps.push(["pub 1", yield* dsPublishU32(ctx, "o.1", 1), OK]);
      steps.push(["pub 2", yield* dsPublishStr(ctx, "o.2", "two"), OK]);
      steps.push(["pub 1 again", yield* dsPublishU32(ctx, "o.1", 3, DSF_OVERWRITE), OK]);
      const first = yield* dsCheck(ctx);
      steps.push(["first", first, { status: OK, key: "o.1", type: DSF_TYPE_U32, owner: 11 }]);
      const second = yield* dsCheck(ctx);
      steps.push(["second", second, { status: OK, key: "o.2", type: DSF_TYPE_STR, owner: 11 }]);
      steps.push(["none", (yield* dsCheck(ctx)).status, ENOENT]);
    });
    settleAll(bootNamed([c], { c: 11 }), steps, 7);
  });
});

describe("ownership and names", () => {
  test("private entries, overwrite and delete only by the owner; nameless callers refused", () => {
    const steps: Steps = [];
    const a = client("a", 11, function* (ctx) {
      steps.push(["a pub", yield* dsPublishU32(ctx, "mine", 1, DSF_PRIV_OVERWRITE), OK]);
      steps.push(["a priv", yield* dsPublishU32(ctx, "secret", 2, DSF_PRIV_RETRIEVE), OK]);
      steps.push(["a open", yield* dsPublishU32(ctx, "open", 3), OK]);
      const va = malloc(ctx, 64, 64);
      yield* send(12 as Endpoint, va);
      yield* receive(12 as Endpoint, va);
      steps.push(["a overwrite", yield* dsPublishU32(ctx, "mine", 5, DSF_OVERWRITE), OK]);
      steps.push(["a secret", yield* dsRetrieveU32(ctx, "secret"), { status: OK, value: 2 }]);
    });
    const b = client("b", 12, function* (ctx) {
      yield* receive(11 as Endpoint, malloc(ctx, 64, 64));
      steps.push(["b overwrite", yield* dsPublishU32(ctx, "mine", 9, DSF_OVERWRITE), EPERM]);
      steps.push(["b overwrite open", yield* dsPublishU32(ctx, "open", 9, DSF_OVERWRITE), OK]);
      steps.push(["b delete", yield* dsDeleteU32(ctx, "mine"), EPERM]);
      steps.push(["b secret", (yield* dsRetrieveU32(ctx, "secret")).status, EPERM]);
      steps.push(["b mine", yield* dsRetrieveU32(ctx, "mine"), { status: OK, value: 1 }]);
      const va = malloc(ctx, 64, 64);
      yield* send(11 as Endpoint, va);
      yield* send(13 as Endpoint, va);
    });
    // Not labelled: starts when b is done.
    const nameless = client(
      "anon",
      13,
      function* (ctx) {
        yield* receive(12 as Endpoint, malloc(ctx, 64, 64));
        steps.push(["anon publish", yield* dsPublishU32(ctx, "x", 1), EPERM]);
        steps.push(["anon delete", yield* dsDeleteU32(ctx, "open"), EPERM]);
        steps.push(["anon subscribe", yield* dsSubscribe(ctx, "x"), ESRCH]);
        steps.push(["anon check", (yield* dsCheck(ctx)).status, ESRCH]);
        steps.push(["anon retrieve", yield* dsRetrieveU32(ctx, "open"), { status: OK, value: 9 }]);
        steps.push(["anon secret", (yield* dsRetrieveU32(ctx, "secret")).status, EPERM]);
      },
      false,
    );
    settleAll(bootNamed([a, b, nameless], { a: 11, b: 12 }), steps, 16);
  });
});

/** A raw request to DS: `fields` encoded with the call's layout; DS's status. */
function* raw<K extends DsCallName>(
  ctx: ProcessContext,
  call: K,
  fields: DsReq<K>,
  type = DS_CALLS[call].nr,
): Syscall {
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const layout: Layout<Readonly<Record<string, FieldKind>>> = DS_CALLS[call].req;
  um.m.set(type, layout, fields);
  yield* um.put();
  const r = yield* sendrec(DS_PROC_NR, um.va);
  return r !== OK ? r : (yield* um.get()).type;
}

describe("limits and malformed requests", () => {
  test("key length, entries, blob size and subscriptions are bounded by the boot option ds", () => {
    const steps: Steps = [];
    const c = client("c", 11, function* (ctx) {
      steps.push(["key 7", yield* dsPublishU32(ctx, "k234567", 1), OK]);
      steps.push(["key 8", yield* dsPublishU32(ctx, "k2345678", 1), EINVAL]);
      // Four labels (rs, ds, c, d) and k234567 take five of the seven entries.
      steps.push(["e2", yield* dsPublishU32(ctx, "e2", 1), OK]);
      steps.push(["e3", yield* dsPublishU32(ctx, "e3", 1), OK]);
      steps.push(["full", yield* dsPublishU32(ctx, "e4", 1), ENOSPC]);
      steps.push(["overwrite ok", yield* dsPublishU32(ctx, "e3", 2, DSF_OVERWRITE), OK]);
      steps.push(["del", yield* dsDeleteU32(ctx, "e3"), OK]);
      const buf = malloc(ctx, 64, 8);
      steps.push(["blob 16", yield* dsPublishMem(ctx, "m", buf, 16), OK]);
      steps.push(["blob 17", yield* dsPublishMem(ctx, "m2", buf, 17), E2BIG]);
      steps.push(["str 17", yield* dsPublishStr(ctx, "s", "x".repeat(16)), E2BIG]);
      steps.push(["sub", yield* dsSubscribe(ctx, "k.*"), OK]);
      yield* send(12 as Endpoint, malloc(ctx, 64, 64));
    });
    const d = client("d", 12, function* (ctx) {
      yield* receive(11 as Endpoint, malloc(ctx, 64, 64));
      steps.push(["sub full", yield* dsSubscribe(ctx, "x"), ENOSPC]);
    });
    const m = bootNamed(
      [c, { ...d, priority: 7 }],
      { c: 11, d: 12 },
      {
        ds: { maxKeyLen: 8, maxEntries: 7, maxBlob: 16, maxSubs: 1 },
      },
    );
    settleAll(m, steps, 12);
  });

  test("bad boot option ds values are refused naming the option", () => {
    expect(() => Machine.boot({ ds: { maxKeyLen: 1 } })).toThrow(/ds\.maxKeyLen/);
    expect(() => Machine.boot({ ds: { maxEntries: 0 } })).toThrow(/ds\.maxEntries/);
    expect(() => Machine.boot({ ds: { nope: 1 } as never })).toThrow(/ds\.nope: unknown limit/);
  });

  test("malformed requests get errors; DS keeps serving", () => {
    const steps: Steps = [];
    const c = client("c", 11, function* (ctx) {
      const key = malloc(ctx, 16, 8);
      yield* store(ctx, key, new TextEncoder().encode("key\0"));
      const g = yield* cpfGrantDirect(ctx, DS_PROC_NR, key, 16, CPF_READ | CPF_WRITE);
      const pub = (f: Partial<DsReq<"DS_PUBLISH">>) =>
        raw(ctx, "DS_PUBLISH", {
          keyGrant: g,
          keyLen: 4,
          flags: DSF_TYPE_U32,
          val: 1,
          valLen: 0,
          ...f,
        });
      steps.push([
        "unknown type",
        yield* raw(ctx, "DS_CHECK", { keyGrant: g, keyLen: 4 }, 0x8ff),
        ENOSYS,
      ]);
      steps.push([
        "not ds",
        yield* raw(ctx, "DS_CHECK", { keyGrant: g, keyLen: 4 }, 0x1234),
        ENOSYS,
      ]);
      steps.push(["key len 0", yield* pub({ keyLen: 0 }), EINVAL]);
      steps.push(["key len 1", yield* pub({ keyLen: 1 }), EINVAL]);
      steps.push(["key len 81", yield* pub({ keyLen: 81 }), EINVAL]);
      steps.push(["key len -5", yield* pub({ keyLen: -5 }), EINVAL]);
      steps.push(["bad grant", yield* pub({ keyGrant: 999 }), EPERM]);
      steps.push(["past grant", yield* pub({ keyLen: 17 }), EPERM]);
      steps.push(["no type", yield* pub({ flags: 0 }), EINVAL]);
      steps.push(["two types", yield* pub({ flags: DSF_TYPE_U32 | DSF_TYPE_MEM }), EINVAL]);
      steps.push([
        "mem bad grant",
        yield* pub({ flags: DSF_TYPE_MEM, val: 777, valLen: 8 }),
        EPERM,
      ]);
      steps.push([
        "map unaligned",
        yield* pub({ flags: DSF_TYPE_MAP, val: 1, valLen: 100 }),
        EINVAL,
      ]);
      steps.push([
        "map bad grant",
        yield* pub({ flags: DSF_TYPE_MAP, val: 555, valLen: PAGE }),
        EPERM,
      ]);
      const p = yield* pages(ctx, 1);
      steps.push(["map", yield* dsPublishMap(ctx, "mp", p, PAGE), OK]);
      const buf = yield* pages(ctx, 1);
      const snap = yield* dsRetrieveMap(ctx, "mp", buf, PAGE, DSMF_COPY_SNAPSHOT, 0);
      steps.push(["no snapshot yet", snap.status, EINVAL]);
      steps.push(["map no mode", (yield* dsRetrieveMap(ctx, "mp", buf, PAGE, 0)).status, EINVAL]);
      steps.push([
        "retrieve label too small",
        yield* raw(ctx, "DS_RETRIEVE_LABEL", { keyGrant: g, keyLen: 2, val: DS_PROC_NR }),
        E2BIG,
      ]);
      // A notification from a client is no request: DS takes it and keeps serving.
      steps.push(["stray notification", yield* notify(DS_PROC_NR), OK]);
      steps.push(["still alive", yield* pub({ val: 42 }), OK]);
      steps.push(["value", yield* dsRetrieveU32(ctx, "key"), { status: OK, value: 42 }]);
    });
    settleAll(bootNamed([c], { c: 11 }), steps, 20);
  });
});
