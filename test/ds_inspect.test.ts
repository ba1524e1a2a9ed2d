/**
 * The inspector's view of DS (DESIGN §7): the snapshot lists DS's entries with their owners
 * and values, the subscriptions with their pending changes, and the journal's use. That it
 * follows DS to its new endpoint after a restart: test/ds_restart.test.ts ("kill DS").
 */
import { describe, expect, test } from "vitest";
import { OK } from "../src/include/errno.ts";
import { DSF_TYPE_U32 } from "../src/include/ds.ts";
import { dsPublishMem, dsPublishU32, dsSubscribe } from "../src/lib/libsys/ds.ts";
import { malloc } from "../src/lib/runtime.ts";
import { formatDs } from "../src/boot/inspect.ts";
import { bootDs, service, settle, sleep } from "./fixtures/ds.ts";

describe("inspector: DS contents", () => {
  test("entries, owners, values, subscriptions with pending changes, journal use", () => {
    const done: number[] = [];
    // Subscribes to u32 keys under "app." and never checks: its changes stay pending.
    const lazy = service("lazy", 12, function* (ctx) {
      done.push(yield* dsSubscribe(ctx, "app\\..*", DSF_TYPE_U32));
    });
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

  test("no view before DS has started; one once it runs", () => {
    const m = bootDs([]);
    expect(m.snapshot().ds).toBeUndefined();
    settle(m);
    expect(m.snapshot().ds).toBeDefined();
  });
});
