import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import {
  DSF_INITIAL,
  DSF_OVERWRITE,
  DSF_PRIV_RETRIEVE,
  DSF_PRIV_SUBSCRIBE,
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  DS_TYPES,
  type DsType,
} from "../../include/ds.ts";
import { E2BIG, EEXIST, EINVAL, ENOENT, ENOSPC, EPERM, ESRCH, OK } from "../../include/errno.ts";
import { DsStore, RS_LABEL, type DsLimits } from "./store.ts";

const LIMITS: DsLimits = {
  maxKeyLen: 80,
  maxEntries: 64,
  maxSubs: 8,
  maxBlob: 1024,
  nrSnapshots: 5,
};

/** A store where RS has published labels `a` (endpoint 20) and `b` (21). */
function fresh(limits: DsLimits = LIMITS): DsStore {
  const s = new DsStore(limits);
  const n = new Set<string>();
  expect(s.publish(RS_LABEL, "a", DSF_TYPE_LABEL, 0, 20, n)).toBe(OK);
  expect(s.publish(RS_LABEL, "b", DSF_TYPE_LABEL, 0, 21, n)).toBe(OK);
  return s;
}

const bytes = (t: string): Uint8Array => new TextEncoder().encode(t);

describe("DsStore publish and retrieve", () => {
  test("the test/ds U32 sequence: EEXIST without overwrite, ESRCH after delete", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.publish("a", "test_u32", DSF_TYPE_U32, 0, 1234, n)).toBe(OK);
    expect(s.retrieve("a", "test_u32", DSF_TYPE_U32)).toMatchObject({ num: 1234, owner: "a" });
    expect(s.publish("a", "test_u32", DSF_TYPE_U32, 0, 1, n)).toBe(EEXIST);
    expect(s.publish("a", "test_u32", DSF_TYPE_U32, DSF_OVERWRITE, 4321, n)).toBe(OK);
    expect(s.retrieve("a", "test_u32", DSF_TYPE_U32)).toMatchObject({ num: 4321 });
    expect(s.delete("a", "test_u32", DSF_TYPE_U32, n)).toBe(OK);
    expect(s.retrieve("a", "test_u32", DSF_TYPE_U32)).toBe(ESRCH);
  });

  test("entries are identified by key and type", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.publish("a", "k", DSF_TYPE_U32, 0, 7, n)).toBe(OK);
    expect(s.publish("a", "k", DSF_TYPE_MEM, 0, bytes("seven"), n)).toBe(OK);
    expect(s.retrieve("a", "k", DSF_TYPE_U32)).toMatchObject({ num: 7 });
    expect(s.retrieve("a", "k", DSF_TYPE_MEM)).toMatchObject({ data: bytes("seven") });
    expect(s.retrieve("a", "k", DSF_TYPE_STR)).toBe(ESRCH);
  });

  test("the store keeps the blob it is given and releases it when replaced or deleted", () => {
    const s = fresh();
    const v = bytes("ok, this is a string");
    const w = bytes("longer than before, much longer");
    expect(s.publish("a", "m", DSF_TYPE_MEM, 0, v, new Set())).toBe(OK);
    expect(s.get("m", DSF_TYPE_MEM)!.data).toBe(v);
    expect(s.released).toEqual([]);
    expect(s.publish("a", "m", DSF_TYPE_MEM, DSF_OVERWRITE, w, new Set())).toBe(OK);
    expect(s.released).toEqual([{ type: DSF_TYPE_MEM, blob: v }]);
    expect(s.delete("a", "m", DSF_TYPE_MEM, new Set())).toBe(OK);
    expect(s.released).toEqual([
      { type: DSF_TYPE_MEM, blob: v },
      { type: DSF_TYPE_MEM, blob: w },
    ]);
  });

  test("callers without a name cannot publish or delete; only RS publishes labels", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.publish(undefined, "x", DSF_TYPE_U32, 0, 1, n)).toBe(EPERM);
    expect(s.publish("a", "x", DSF_TYPE_LABEL, 0, 99, n)).toBe(EPERM);
    expect(s.publish("a", "x", DSF_TYPE_U32, 0, 1, n)).toBe(OK);
    expect(s.delete(undefined, "x", DSF_TYPE_U32, n)).toBe(EPERM);
    expect(s.delete("b", "x", DSF_TYPE_U32, n)).toBe(EPERM);
    expect(s.delete("a", "a", DSF_TYPE_LABEL, n)).toBe(EPERM);
    expect(s.get("x", DSF_TYPE_U32)).toBeDefined();
  });

  test("labels name endpoints both ways and are unique by value", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.endpointOf("a")).toBe(20);
    expect(s.nameOf(21 as Endpoint)).toBe("b");
    expect(s.publish(RS_LABEL, "hello", DSF_TYPE_LABEL, 0, 20, n)).toBe(EEXIST);
    expect(s.publish(RS_LABEL, "b", DSF_TYPE_LABEL, DSF_OVERWRITE, 20, n)).toBe(EEXIST);
    expect(s.nameOf(20 as Endpoint)).toBe("a");
    // A restart: the label keeps its name and names the new endpoint.
    expect(s.publish(RS_LABEL, "a", DSF_TYPE_LABEL, DSF_OVERWRITE, 30, n)).toBe(OK);
    expect(s.endpointOf("a")).toBe(30);
    expect(s.nameOf(20 as Endpoint)).toBeUndefined();
    expect(s.nameOf(30 as Endpoint)).toBe("a");
    // Overwriting through the endpoint renames the label.
    expect(s.publish(RS_LABEL, "c", DSF_TYPE_LABEL, DSF_OVERWRITE, 30, n)).toBe(OK);
    expect(s.endpointOf("a")).toBeUndefined();
    expect(s.nameOf(30 as Endpoint)).toBe("c");
    // Deleting the label (RS does, at a service's end) leaves the endpoint nameless.
    expect(s.delete(RS_LABEL, "c", DSF_TYPE_LABEL, n)).toBe(OK);
    expect(s.nameOf(30 as Endpoint)).toBeUndefined();
  });

  test("private entries are retrievable and overwritable by their owner only", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.publish("a", "p", DSF_TYPE_U32, DSF_PRIV_RETRIEVE, 5, n)).toBe(OK);
    expect(s.retrieve("b", "p", DSF_TYPE_U32)).toBe(EPERM);
    expect(s.retrieve(undefined, "p", DSF_TYPE_U32)).toBe(EPERM);
    expect(s.retrieve("a", "p", DSF_TYPE_U32)).toMatchObject({ num: 5 });
    expect(s.publish("a", "q", DSF_TYPE_U32, 0x004, 5, n)).toBe(OK);
    expect(s.publish("b", "q", DSF_TYPE_U32, DSF_OVERWRITE, 6, n)).toBe(EPERM);
    expect(s.publish("b", "p", DSF_TYPE_U32, DSF_OVERWRITE, 6, n)).toBe(OK);
  });

  test("limits: key length, value size, entries, MAP overwrite, value kinds", () => {
    const s = fresh({ ...LIMITS, maxEntries: 3, maxKeyLen: 8, maxBlob: 4 });
    const n = new Set<string>();
    expect(s.publish("a", "", DSF_TYPE_U32, 0, 1, n)).toBe(EINVAL);
    expect(s.publish("a", "1234567", DSF_TYPE_U32, 0, 1, n)).toBe(OK);
    expect(s.publish("a", "12345678", DSF_TYPE_U32, 0, 1, n)).toBe(EINVAL);
    expect(s.publish("a", "m", DSF_TYPE_MEM, 0, bytes("12345"), n)).toBe(E2BIG);
    expect(s.publish("a", "m", DSF_TYPE_MEM, 0, 5, n)).toBe(EINVAL);
    expect(s.publish("a", "u", DSF_TYPE_U32, 0, bytes("x"), n)).toBe(EINVAL);
    expect(s.publish("a", "map", DSF_TYPE_MAP, DSF_OVERWRITE, new Uint8Array(4096), n)).toBe(
      EINVAL,
    );
    expect(s.publish("a", "x", DSF_TYPE_U32, 0, 1, n)).toBe(ENOSPC);
    expect(s.size).toBe(3);
  });
});

describe("DsStore subscriptions", () => {
  test("a subscriber is woken on publish, overwrite and delete; check reports changes", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.subscribe("b", "test_u32", 0, n)).toBe(OK);
    expect(s.check("b")).toBe(ENOENT);
    s.publish("a", "test_u32", DSF_TYPE_U32, 0, 1234, n);
    expect([...n]).toEqual(["b"]);
    expect(s.check("b")).toEqual({ key: "test_u32", type: DSF_TYPE_U32, owner: "a" });
    expect(s.check("b")).toBe(ENOENT);
    n.clear();
    s.publish("a", "test_u32", DSF_TYPE_U32, DSF_OVERWRITE, 4321, n);
    s.delete("a", "test_u32", DSF_TYPE_U32, n);
    // The overwrite and the delete collapse: the delete cleared the pending change.
    expect([...n]).toEqual(["b"]);
    expect(s.check("b")).toBe(ENOENT);
  });

  test("patterns match whole keys; type filters; DSF_INITIAL flags existing entries", () => {
    const s = fresh();
    const n = new Set<string>();
    s.publish("a", "drv.1", DSF_TYPE_U32, 0, 1, n);
    s.publish("a", "xdrv.2", DSF_TYPE_U32, 0, 1, n);
    s.publish("a", "drv.3", DSF_TYPE_MEM, 0, bytes("m"), n);
    expect(s.subscribe("b", "drv\\.[0-9]+", DSF_INITIAL | DSF_TYPE_U32, n)).toBe(OK);
    expect([...n]).toEqual(["b"]);
    expect(s.check("b")).toMatchObject({ key: "drv.1" });
    expect(s.check("b")).toBe(ENOENT);
  });

  test("DSF_INITIAL reports changes lowest entry first", () => {
    const s = fresh();
    const n = new Set<string>();
    for (const k of ["k3", "k1", "k2"]) s.publish("a", k, DSF_TYPE_U32, 0, 1, n);
    s.subscribe("b", "k.", DSF_INITIAL, n);
    const seen: unknown[] = [];
    for (let r = s.check("b"); typeof r !== "number"; r = s.check("b")) seen.push(r.key);
    expect(seen).toEqual(["k3", "k1", "k2"]);
  });

  test("subscription errors: no name, duplicate, bad pattern, table full", () => {
    const s = fresh({ ...LIMITS, maxSubs: 1 });
    const n = new Set<string>();
    expect(s.subscribe(undefined, "x", 0, n)).toBe(ESRCH);
    expect(s.subscribe("a", "(", 0, n)).toBe(EINVAL);
    expect(s.subscribe("a", "x", 0, n)).toBe(OK);
    expect(s.subscribe("a", "y", 0, n)).toBe(EEXIST);
    expect(s.subscribe("a", "y", DSF_OVERWRITE, n)).toBe(OK);
    expect(s.subscribe("b", "y", 0, n)).toBe(ENOSPC);
    expect(s.check(undefined)).toBe(ESRCH);
    expect(s.check("b")).toBe(ESRCH);
  });

  test("a pattern that backtracks exponentially elsewhere runs in linear time", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.subscribe("b", "(a+)+$", 0, n)).toBe(OK);
    expect(s.publish("a", `${"a".repeat(70)}b`, DSF_TYPE_U32, 0, 1, n)).toBe(OK);
    expect(n.size).toBe(0);
  });

  test("DSF_PRIV_SUBSCRIBE entries wake only their owner", () => {
    const s = fresh();
    const n = new Set<string>();
    s.subscribe("b", ".*", 0, n);
    s.subscribe("a", ".*", 0, n);
    s.publish("a", "secret", DSF_TYPE_U32, DSF_PRIV_SUBSCRIBE, 1, n);
    expect([...n]).toEqual(["a"]);
  });

  test("deleting a label removes its owner's entries and subscription, waking subscribers", () => {
    const s = fresh();
    const n = new Set<string>();
    s.publish("a", "state", DSF_TYPE_U32, 0, 1, n);
    s.subscribe("a", ".*", 0, n);
    s.subscribe("b", "state", 0, n);
    n.clear();
    expect(s.delete(RS_LABEL, "a", DSF_TYPE_LABEL, n)).toBe(OK);
    expect(s.get("state", DSF_TYPE_U32)).toBeUndefined();
    expect([...n]).toEqual(["b"]);
    expect(s.check("a")).toBe(ESRCH);
    expect(s.subscribe("a", "x", 0, n)).toBe(OK);
  });
});

describe("DsStore snapshots", () => {
  test("a ring of nrSnapshots: the last five indices are valid", () => {
    const s = fresh();
    const n = new Set<string>();
    expect(s.publish("a", "map", DSF_TYPE_MAP, 0, new Uint8Array(4096), n)).toBe(OK);
    expect(s.snapshot("b", "nope", new Uint8Array(1))).toBe(ESRCH);
    for (let i = 0; i < 12; i++) expect(s.snapshot("a", "map", new Uint8Array([i]))).toBe(i);
    const e = s.get("map", DSF_TYPE_MAP)!;
    expect(s.snapshotAt(e, 6)).toBeUndefined();
    for (let i = 7; i < 12; i++) expect(s.snapshotAt(e, i)).toEqual(new Uint8Array([i]));
    expect(s.snapshotAt(e, 12)).toBeUndefined();
    expect(s.snapshotAt(e, -1)).toBeUndefined();
    expect(e.snapshots.length).toBe(5);
  });
});

describe("DsStore against a model (fast-check)", () => {
  const KEYS = ["k0", "k1", "k2", "lbl"];
  const NAMES = ["a", "b", undefined] as const;
  const op = fc.oneof(
    fc.record({
      kind: fc.constant("publish" as const),
      caller: fc.constantFrom(...NAMES),
      key: fc.constantFrom(...KEYS),
      type: fc.constantFrom<DsType>(DSF_TYPE_U32, DSF_TYPE_MEM),
      overwrite: fc.boolean(),
      value: fc.nat(1000),
    }),
    fc.record({
      kind: fc.constant("delete" as const),
      caller: fc.constantFrom(...NAMES),
      key: fc.constantFrom(...KEYS),
      type: fc.constantFrom<DsType>(...DS_TYPES),
    }),
    fc.record({
      kind: fc.constant("retrieve" as const),
      caller: fc.constantFrom(...NAMES),
      key: fc.constantFrom(...KEYS),
      type: fc.constantFrom<DsType>(...DS_TYPES),
    }),
    fc.record({ kind: fc.constant("check" as const), caller: fc.constantFrom(...NAMES) }),
  );

  test("publish/retrieve/delete/check agree with a model map", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const s = fresh({ ...LIMITS, maxEntries: 5 });
        const n = new Set<string>();
        s.subscribe("b", "k.", 0, n);
        const model = new Map<string, { owner: string; value: number }>();
        /** Keys the subscriber "b" has not checked yet, keyed like the model. */
        const pending = new Set<string>();
        for (const o of ops) {
          if (o.kind === "check") {
            const r = s.check(o.caller);
            if (o.caller !== "b") expect(r).toBe(ESRCH);
            else if (pending.size === 0) expect(r).toBe(ENOENT);
            else {
              if (typeof r === "number") throw new Error(`check failed with ${r}`);
              expect(pending.delete(`${r.type}:${r.key}`)).toBe(true);
            }
            continue;
          }
          const id = `${o.type}:${o.key}`;
          const have = model.get(id);
          if (o.kind === "publish") {
            const v = o.type === DSF_TYPE_U32 ? o.value : bytes(String(o.value));
            const full = have === undefined && s.size >= 5;
            const r = s.publish(o.caller, o.key, o.type, o.overwrite ? DSF_OVERWRITE : 0, v, n);
            const want =
              o.caller === undefined
                ? EPERM
                : have !== undefined && !o.overwrite
                  ? EEXIST
                  : full
                    ? ENOSPC
                    : OK;
            expect(r).toBe(want);
            if (r === OK) {
              model.set(id, { owner: o.caller!, value: o.value });
              if (o.key !== "lbl") pending.add(id);
            }
          } else if (o.kind === "delete") {
            const r = s.delete(o.caller, o.key, o.type, n);
            const want = have === undefined ? ESRCH : o.caller !== have.owner ? EPERM : OK;
            expect(r).toBe(want);
            if (r === OK) {
              model.delete(id);
              pending.delete(id);
            }
          } else {
            const r = s.retrieve(o.caller, o.key, o.type);
            if (have === undefined) expect(r).toBe(ESRCH);
            else if (o.type === DSF_TYPE_U32) expect(r).toMatchObject({ num: have.value });
            else expect(r).toMatchObject({ data: bytes(String(have.value)) });
          }
        }
        expect(s.size).toBe(model.size + 2);
      }),
    );
  });
});
