/**
 * DS and restarts, through the whole system (RS, VM, PM, DS):
 * - a client finds a restarted service by subscribing to its label: RS overwrites the label
 *   with the new endpoint, DS notifies the subscriber, which retrieves the label again (the
 *   DS way of the RS recovery scenario, instead of polling RS_LOOKUP);
 * - a service brought down (RS_DOWN) loses its label, and DS drops what the label owned;
 * - DS itself is killed (SIGKILL through the kernel, RS restarts it): the new DS attaches the
 *   journal VM kept, so retrieves return the same values, a subscriber's unchecked change is
 *   still pending, and subscribers are notified of the next change; client libraries find DS
 *   again through RS_LOOKUP.
 */
import { describe, expect, test } from "vitest";
import { initEntry, pmEntry } from "../src/boot/services.ts";
import { ANY, DS_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import { ESRCH, OK } from "../src/include/errno.ts";
import {
  DSF_INITIAL,
  DSF_OVERWRITE,
  DSF_TYPE_LABEL,
  DSF_TYPE_U32,
  DSMF_COPY_MAPPED,
  DSMF_MAP_MAPPED,
} from "../src/include/ds.ts";
import type { VirAddr } from "../src/include/types.ts";
import { isIpcNotify } from "../src/include/ipc.ts";
import { SIGKILL } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { receive, send, sendrec, type IpcStatus, type Syscall } from "../src/lib/ipc.ts";
import {
  dsCheck,
  dsDeleteMap,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveLabelEndpt,
  dsRetrieveMap,
  dsRetrieveMem,
  dsRetrieveStr,
  dsRetrieveU32,
  dsSnapshotMap,
  dsSubscribe,
} from "../src/lib/libsys/ds.ts";
import { kernelCall } from "../src/lib/libsys/kernel_call.ts";
import { load, store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { sefReceive, sefStartup } from "../src/lib/sef.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { encodeLabel, rsCall } from "../src/lib/rs.ts";
import {
  bootDs,
  expectSteps,
  PAGE,
  pages,
  retrieveAfterRestart,
  service,
  sleep,
  subscriber,
  type Steps,
} from "./fixtures/ds.ts";
import { CRASH_KILL, driverEntry, ECHO, ECHO_LAYOUT, runUntil } from "./fixtures/rs.ts";

function full(entries: Parameters<typeof bootDs>[0], opts: Parameters<typeof bootDs>[1] = {}) {
  return bootDs([pmEntry, initEntry(), ...entries], opts);
}

describe("a client follows a restarted service through its DS label", () => {
  test("RS overwrites the label, DS notifies, the client talks to the new endpoint", () => {
    const log: string[] = [];
    const eps: number[] = [];
    const client = {
      name: "client",
      slot: 12,
      priority: 6,
      program: function* (ctx: ProcessContext): Syscall {
        yield* sefStartup(ctx);
        log.push(`subscribe ${yield* dsSubscribe(ctx, "driver", DSF_TYPE_LABEL | DSF_INITIAL)}`);
        const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
        const status: IpcStatus = { value: 0 };
        let value = 0;
        for (let round = 0; round < 3;) {
          if ((yield* sefReceive(ctx, um, status)) !== OK || !isIpcNotify(status.value)) continue;
          let ep = -1;
          for (let c = yield* dsCheck(ctx); c.status === OK; c = yield* dsCheck(ctx)) {
            const r = yield* dsRetrieveLabelEndpt(ctx, c.key);
            if (r.status === OK) ep = r.endpoint;
          }
          if (ep < 0) continue;
          eps.push(ep);
          um.m.set(ECHO, ECHO_LAYOUT, { value, incarnation: 0 });
          yield* um.put();
          const r = yield* sendrec(ep as Endpoint, um.va);
          const reply = (yield* um.get()).get(ECHO_LAYOUT);
          log.push(`echo via ${ep}: ${r} ${um.m.type} ${reply.value}`);
          value = reply.value;
          round++;
          if (round < 3) {
            um.m.set(CRASH_KILL, ECHO_LAYOUT, { value: 0, incarnation: 0 });
            yield* um.put();
            yield* send(ep as Endpoint, um.va);
          }
        }
        // A service does not return (RS would take that for a crash and restart it).
        for (;;) if ((yield* receive(ANY, um.va)) !== OK) return 1;
      },
    };
    const m = full([driverEntry(), client]);
    runUntil(m, () => log.length >= 4, 5_000_000);
    expect(m.halted).toBeNull();
    expect(log[0]).toBe("subscribe 0");
    expect(log.slice(1).map((l) => l.split(": ")[1])).toEqual(["0 0 1", "0 0 2", "0 0 3"]);
    expect(new Set(eps).size).toBe(3);
    expect(eps[0]).toBe(11);
  });
});

describe("RS unpublishes a service that goes down", () => {
  test("RS_DOWN deletes the label; DS drops what the label owned and tells subscribers", () => {
    const steps: Steps = [];
    const log: string[] = [];
    const owner = {
      name: "own",
      slot: 11,
      priority: 6,
      program: function* (ctx: ProcessContext): Syscall {
        yield* sefStartup(ctx);
        steps.push(["own publish", yield* dsPublishU32(ctx, "own.data", 5), OK]);
        const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
        const status: IpcStatus = { value: 0 };
        for (;;) yield* sefReceive(ctx, um, status);
      },
    };
    const watch = {
      name: "watch",
      slot: 12,
      priority: 6,
      program: function* (ctx: ProcessContext): Syscall {
        yield* sefStartup(ctx);
        log.push(`subscribe ${yield* dsSubscribe(ctx, "own(\\..*)?", DSF_INITIAL)}`);
        const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
        const status: IpcStatus = { value: 0 };
        for (;;) {
          if ((yield* sefReceive(ctx, um, status)) !== OK || !isIpcNotify(status.value)) continue;
          let n = 0;
          for (let c = yield* dsCheck(ctx); c.status === OK; c = yield* dsCheck(ctx)) n++;
          if (n === 0) log.push("deleted");
        }
      },
    };
    const downer = service("downer", 13, function* (ctx) {
      yield* sleep(ctx, 30);
      steps.push(["label before", (yield* dsRetrieveLabelEndpt(ctx, "own")).status, OK]);
      const r = yield* rsCall(ctx, "RS_DOWN", { label: encodeLabel("own") });
      steps.push(["down", r.status, OK]);
      steps.push(["label after", (yield* dsRetrieveLabelEndpt(ctx, "own")).status, ESRCH]);
      steps.push(["data after", (yield* dsRetrieveU32(ctx, "own.data")).status, ESRCH]);
    });
    const m = full([owner, watch, downer]);
    runUntil(m, () => steps.length >= 5 && log.includes("deleted"), 10_000_000);
    expect(m.halted).toBeNull();
    expectSteps(steps, 5);
    expect(log[0]).toBe("subscribe 0");
    expect(log).toContain("deleted");
  });
});

describe("DS survives its own crash", () => {
  test("kill DS: values, subscriptions and pending changes are back, notifications go on", () => {
    const steps: Steps = [];
    const subLog: string[] = [];
    const lazyLog: string[] = [];
    let dsKilled = false;
    const bytes = new TextEncoder().encode("kept across a restart");
    const publisher = service("pub", 11, function* (ctx) {
      yield* sleep(ctx, 30); // let both subscribers subscribe
      const mem = malloc(ctx, 64, 8);
      yield* store(ctx, mem, bytes);
      steps.push(["publish a", yield* dsPublishU32(ctx, "state.a", 7), OK]);
      steps.push(["publish s", yield* dsPublishStr(ctx, "state.s", "hello"), OK]);
      steps.push(["publish m", yield* dsPublishMem(ctx, "state.m", mem, bytes.length), OK]);
      yield* sleep(ctx, 30); // the subscriber checks
      const r = yield* kernelCall(ctx, "SYS_KILL", { endpt: DS_PROC_NR, sig: SIGKILL });
      steps.push(["kill ds", r.status, OK]);
      dsKilled = true;
      const got = yield* retrieveAfterRestart(ctx, "state.a");
      steps.push(["retrieve a", got, { status: OK, value: 7 }]);
      steps.push([
        "retrieve s",
        yield* dsRetrieveStr(ctx, "state.s"),
        { status: OK, value: "hello" },
      ]);
      const out = malloc(ctx, 64, 8);
      const rm = yield* dsRetrieveMem(ctx, "state.m", out, 64);
      const back = new Uint8Array(rm.len);
      yield* load(ctx, out, back);
      steps.push(["retrieve m", [rm.status, back], [OK, bytes]]);
      steps.push([
        "new ds",
        (yield* dsRetrieveLabelEndpt(ctx, "ds")).endpoint !== DS_PROC_NR,
        true,
      ]);
      steps.push(["overwrite a", yield* dsPublishU32(ctx, "state.a", 8, DSF_OVERWRITE), OK]);
      yield* sleep(ctx, 30);
      steps.push(["wake lazy", yield* send(13 as Endpoint, malloc(ctx, 64, 64)), OK]);
    });
    const sub = {
      name: "sub",
      slot: 12,
      priority: 6,
      program: function* (ctx: ProcessContext): Syscall {
        yield* sefStartup(ctx);
        subLog.push(`subscribe ${yield* dsSubscribe(ctx, "state\\..*", DSF_TYPE_U32)}`);
        const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
        const status: IpcStatus = { value: 0 };
        for (;;) {
          if ((yield* sefReceive(ctx, um, status)) !== OK || !isIpcNotify(status.value)) continue;
          for (let c = yield* dsCheck(ctx); c.status === OK; c = yield* dsCheck(ctx)) {
            const v = yield* dsRetrieveU32(ctx, c.key);
            subLog.push(`${dsKilled ? "after" : "before"}: ${c.key} = ${v.value}`);
          }
        }
      },
    };
    // Subscribes, then checks only when the publisher says so (after DS's restart).
    const lazy = {
      name: "lazy",
      slot: 13,
      priority: 6,
      program: function* (ctx: ProcessContext): Syscall {
        yield* sefStartup(ctx);
        lazyLog.push(`subscribe ${yield* dsSubscribe(ctx, "state\\.[as]")}`);
        const va = malloc(ctx, 64, 64);
        while ((yield* receive(11 as Endpoint, va)) !== OK);
        for (let c = yield* dsCheck(ctx); c.status === OK; c = yield* dsCheck(ctx)) {
          lazyLog.push(c.key);
        }
        lazyLog.push("done");
        for (;;) yield* receive(0x7ffe as Endpoint, va);
      },
    };
    const m = full([publisher, sub, lazy]);
    runUntil(m, () => lazyLog.includes("done"), 10_000_000);
    expect(m.halted).toBeNull();
    expectSteps(steps, 10);
    const newDs = Number(/restarted ds: endpoint 6 -> (\d+)/.exec(m.console)?.[1]);
    expect(m.console).toMatch(/ds: restored \d+ entries and 2 subscriptions/);
    expect(subLog).toEqual(["subscribe 0", "before: state.a = 7", "after: state.a = 8"]);
    // The inspector follows DS to its new endpoint: the restored store and the later change.
    const ds = m.snapshot().ds!;
    const entry = (key: string) => ds.entries.find((e) => e.key === key);
    expect(entry("ds")).toMatchObject({ type: "label", owner: "rs", value: newDs });
    expect(entry("state.m")).toMatchObject({ type: "mem", owner: "pub", length: bytes.length });
    expect(entry("state.a")).toMatchObject({ type: "u32", owner: "pub", value: 8 });
    // Changes the lazy subscriber never checked before the crash are still pending, lowest
    // entry first, each once.
    expect(lazyLog).toEqual(["subscribe 0", "state.a", "state.s", "done"]);
  });

  test("one value published again and again: its record is rewritten in place, the last value survives", () => {
    const steps: Steps = [];
    const pub = service("pub", 11, function* (ctx) {
      // 3000 records would not fit a 1 KiB journal without compaction; rewritten in place
      // they take one record per key. Other operations in between start a new record.
      let failed = 0;
      for (let i = 0; i < 3000; i++) {
        if ((yield* dsPublishU32(ctx, "hot", i, DSF_OVERWRITE)) !== OK) failed++;
        if (i % 1000 === 500 && (yield* dsPublishU32(ctx, `cold${i}`, i)) !== OK) failed++;
      }
      steps.push(["publishes failed", failed, 0]);
      const r = yield* kernelCall(ctx, "SYS_KILL", { endpt: DS_PROC_NR, sig: SIGKILL });
      steps.push(["kill ds", r.status, OK]);
      steps.push(["hot", yield* retrieveAfterRestart(ctx, "hot"), { status: OK, value: 2999 }]);
      for (const i of [500, 1500, 2500]) {
        steps.push([`cold${i}`, yield* dsRetrieveU32(ctx, `cold${i}`), { status: OK, value: i }]);
      }
    });
    const m = full([pub], { ds: { journalBytes: 1024 } });
    runUntil(m, () => steps.length >= 6, 20_000_000);
    expect(m.halted).toBeNull();
    expectSteps(steps, 6);
    expect(m.console).toMatch(/ds: restored \d+ entries/);
    expect(m.console).not.toContain("journal full");
  });

  test("a mapped entry the restarted DS cannot map again is announced like a delete", () => {
    const log: string[] = [];
    let beforeKill = -1;
    const steps: Steps = [];
    const pub = service("pub", 11, function* (ctx) {
      yield* sleep(ctx, 20); // the subscriber subscribes
      const p = yield* pages(ctx, 1);
      steps.push(["map", yield* dsPublishMap(ctx, "map.a", p, PAGE), OK]);
      steps.push(["u32", yield* dsPublishU32(ctx, "map.b", 1), OK]);
      yield* sleep(ctx, 20); // the subscriber checks both
      beforeKill = log.length;
      const r = yield* kernelCall(ctx, "SYS_KILL", { endpt: DS_PROC_NR, sig: SIGKILL });
      steps.push(["kill ds", r.status, OK]);
      steps.push(["b back", yield* retrieveAfterRestart(ctx, "map.b"), { status: OK, value: 1 }]);
      const buf = yield* pages(ctx, 1);
      const g = yield* dsRetrieveMap(ctx, "map.a", buf, PAGE, DSMF_COPY_MAPPED);
      steps.push(["a gone", g.status, ESRCH]);
    });
    const m = full([pub, subscriber("sub", 12, "map\\..*", log)]);
    runUntil(m, () => steps.length >= 5 && log.length > beforeKill && beforeKill > 0, 10_000_000);
    expect(m.halted).toBeNull();
    expectSteps(steps, 5);
    expect(m.console).toMatch(/ds: restored \d+ entries .*; 1 mapped entries dropped/);
    // Both changes were checked before the crash; after it only the lost entry is announced.
    expect(log.slice(0, 3)).toEqual(["subscribe 0", "map.a = map", "map.b = 1"]);
    expect(log.slice(beforeKill)).toEqual(["key was deleted"]);
  });

  test("a compacted journal survives; a mapped entry does not (its grant names the old DS)", () => {
    const steps: Steps = [];
    const pub = service("pub", 11, function* (ctx) {
      // Two keys in turn: each publish appends a record (one key again and again would
      // rewrite its record in place), so the small journal is compacted several times.
      for (let i = 0; i < 400; i++) {
        yield* dsPublishU32(ctx, i % 2 === 0 ? "other" : "count", i, DSF_OVERWRITE);
      }
      const p = yield* pages(ctx, 1);
      const buf = yield* pages(ctx, 1);
      const buf2 = yield* pages(ctx, 1);
      yield* store(ctx, p, new Uint8Array(PAGE).fill(1));
      steps.push(["map", yield* dsPublishMap(ctx, "map", p, PAGE), OK]);
      steps.push(["snapshot", (yield* dsSnapshotMap(ctx, "map")).index, 0]);
      yield* store(ctx, p, new Uint8Array(PAGE).fill(2));
      const r = yield* kernelCall(ctx, "SYS_KILL", { endpt: DS_PROC_NR, sig: SIGKILL });
      steps.push(["kill ds", r.status, OK]);
      steps.push(["count", yield* retrieveAfterRestart(ctx, "count"), { status: OK, value: 399 }]);
      steps.push(["other", yield* dsRetrieveU32(ctx, "other"), { status: OK, value: 398 }]);
      yield* store(ctx, p, new Uint8Array(PAGE).fill(3));
      const uniform = function* (at: number) {
        const b = new Uint8Array(PAGE);
        yield* load(ctx, at as VirAddr, b);
        return [...new Set(b)];
      };
      // The grant named the old DS: the entry could not be mapped again and is gone.
      let g = yield* dsRetrieveMap(ctx, "map", buf, PAGE, DSMF_COPY_MAPPED);
      steps.push(["map dropped", g.status, ESRCH]);
      steps.push(["publish again", yield* dsPublishMap(ctx, "map", p, PAGE), OK]);
      g = yield* dsRetrieveMap(ctx, "map", buf, PAGE, DSMF_COPY_MAPPED);
      steps.push(["copy mapped", [g, yield* uniform(buf)], [{ status: OK, len: PAGE }, [3]]]);
      g = yield* dsRetrieveMap(ctx, "map", buf2, PAGE, DSMF_MAP_MAPPED);
      yield* store(ctx, p, new Uint8Array(PAGE).fill(4));
      steps.push(["map mapped", [g, yield* uniform(buf2)], [{ status: OK, len: PAGE }, [4]]]);
      steps.push(["delete", yield* dsDeleteMap(ctx, "map"), OK]);
    });
    const m = full([pub], { ds: { journalBytes: 8192 }, vmSanity: true });
    runUntil(m, () => steps.length >= 10, 10_000_000);
    expect(m.halted).toBeNull();
    expectSteps(steps, 10);
    expect(m.console).not.toContain("journal full");
    expect(m.console).toMatch(/ds: restored \d+ entries .*; 1 mapped entries dropped/);
    m.check();
  });

  test("a store too big for its journal: DS goes on without it; after a restart RS names everyone again", () => {
    const steps: Steps = [];
    const pub = service("pub", 11, function* (ctx) {
      const big = malloc(ctx, 6000, 8);
      steps.push(["small", yield* dsPublishU32(ctx, "small", 1), OK]);
      steps.push(["big", yield* dsPublishMem(ctx, "big", big, 6000), OK]);
      steps.push(["retrieve", yield* dsRetrieveU32(ctx, "small"), { status: OK, value: 1 }]);
      const r = yield* kernelCall(ctx, "SYS_KILL", { endpt: DS_PROC_NR, sig: SIGKILL });
      steps.push(["kill ds", r.status, OK]);
      // A fresh DS: the entries are gone, but RS published the labels again, so pub still has
      // a name and may publish.
      steps.push(["gone", (yield* retrieveAfterRestart(ctx, "small")).status, ESRCH]);
      steps.push(["own label", (yield* dsRetrieveLabelEndpt(ctx, "pub")).endpoint, 11]);
      steps.push(["publish", yield* dsPublishU32(ctx, "small", 2), OK]);
    });
    const m = full([pub], { ds: { journalBytes: 4096 } });
    runUntil(m, () => steps.length >= 7, 10_000_000);
    expect(m.halted).toBeNull();
    expectSteps(steps, 7);
    expect(m.console).toContain("journal full (4088 bytes): DS will not survive a restart");
    expect(m.console).not.toContain("ds: restored");
  });
});
