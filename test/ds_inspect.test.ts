/**
 * The inspector's view of DS (DESIGN §7): the snapshot lists DS's entries with their owners
 * and values, the subscriptions with their pending changes, and the journal's use; it follows
 * DS to its new endpoint after a restart.
 */
import { describe, expect, test } from "vitest";
import { initEntry, pmEntry } from "../src/boot/services.ts";
import { DS_PROC_NR } from "../src/include/endpoint.ts";
import { OK } from "../src/include/errno.ts";
import { DSF_TYPE_U32 } from "../src/include/ds.ts";
import { SIGKILL } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { receive, type Syscall } from "../src/lib/ipc.ts";
import { dsPublishMem, dsPublishU32, dsSubscribe } from "../src/lib/libsys/ds.ts";
import { kernelCall } from "../src/lib/libsys/kernel_call.ts";
import { malloc } from "../src/lib/runtime.ts";
import { sefStartup } from "../src/lib/sef.ts";
import { formatDs } from "../src/boot/inspect.ts";
import { bootDs, retrieveAfterRestart, service, settle, sleep } from "./fixtures/ds.ts";
import { runUntil } from "./fixtures/rs.ts";

describe("inspector: DS contents", () => {
  test("entries, owners, values, subscriptions with pending changes, journal use", () => {
    const done: number[] = [];
    // Subscribes to u32 keys under "app." and never checks: its changes stay pending.
    const lazy = {
      name: "lazy",
      slot: 12,
      priority: 5,
      program: function* (ctx: ProcessContext): Syscall {
        yield* sefStartup(ctx);
        done.push(yield* dsSubscribe(ctx, "app\\..*", DSF_TYPE_U32));
        const va = malloc(ctx, 64, 64);
        for (;;) yield* receive(DS_PROC_NR, va);
      },
    };
    const app = service("app", 11, function* (ctx) {
      yield* sleep(ctx, 10);
      const mem = malloc(ctx, 16, 8);
      done.push(yield* dsPublishU32(ctx, "app.count", 42));
      done.push(yield* dsPublishMem(ctx, "app.blob", mem, 16));
    });
    const m = bootDs([app, lazy]);
    settle(m);
    expect(done).toEqual([OK, OK, OK]);
    const ds = m.snapshot().ds!;
    expect(ds.entries).toContainEqual({
      key: "app.count",
      type: "u32",
      owner: "app",
      value: 42,
      length: undefined,
    });
    expect(ds.entries).toContainEqual({
      key: "app.blob",
      type: "mem",
      owner: "app",
      value: undefined,
      length: 16,
    });
    // Labels are RS's, valued with endpoints.
    expect(ds.entries).toContainEqual({
      key: "app",
      type: "label",
      owner: "rs",
      value: 11,
      length: undefined,
    });
    expect(ds.subscriptions).toEqual([
      { owner: "lazy", pattern: "app\\..*", types: ["u32"], pending: ["app.count (u32)"] },
    ]);
    expect(ds.journal!.used).toBeGreaterThan(0);
    expect(ds.journal!.used).toBeLessThanOrEqual(ds.journal!.capacity);
    const text = formatDs(ds).split("\n");
    expect(text).toContain("app.count             u32    app         42");
    expect(text).toContain("app.blob              mem    app         16 bytes");
    expect(text).toContain("subscription of lazy: app\\..* [u32], pending: app.count (u32)");
  });

  test("after DS is killed and restarted the snapshot shows the new DS's restored store", () => {
    const steps: unknown[] = [];
    const app = service("app", 11, function* (ctx) {
      steps.push(yield* dsPublishU32(ctx, "kept", 7));
      steps.push((yield* kernelCall(ctx, "SYS_KILL", { endpt: DS_PROC_NR, sig: SIGKILL })).status);
      steps.push(yield* retrieveAfterRestart(ctx, "kept"));
    });
    const m = bootDs([pmEntry, initEntry(), app]); // RS starts DS again through PM
    runUntil(m, () => steps.length === 3, 10_000_000);
    expect(m.halted).toBeNull();
    expect(steps).toEqual([OK, OK, { status: OK, value: 7 }]);
    const ds = m.snapshot().ds!;
    const label = ds.entries.find((e) => e.key === "ds")!;
    expect(label.value).not.toBe(DS_PROC_NR);
    expect(ds.entries.find((e) => e.key === "kept")?.value).toBe(7);
  });

  test("no view before DS has started; one once it runs", () => {
    const m = bootDs([]);
    expect(m.snapshot().ds).toBeUndefined();
    settle(m);
    expect(m.snapshot().ds).toBeDefined();
  });
});
