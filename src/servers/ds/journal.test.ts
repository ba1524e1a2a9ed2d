import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import {
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
} from "../../include/ds.ts";
import { decodeOps, encodeOp, type JournalOp } from "./journal.ts";

const str = fc.string({ maxLength: 20 });
const type = fc.constantFrom(
  DSF_TYPE_U32,
  DSF_TYPE_STR,
  DSF_TYPE_MEM,
  DSF_TYPE_MAP,
  DSF_TYPE_LABEL,
);
const u32 = fc.nat({ max: 0xffff_ffff });
const bytes = fc.uint8Array({ maxLength: 64 });
/** A publish's fields (a U32/LABEL value; STR/MEM add data, MAP a grant). */
const numPublish = {
  op: fc.constant("publish" as const),
  caller: str,
  key: str,
  type,
  flags: u32,
  num: u32,
};

const op: fc.Arbitrary<JournalOp> = fc.oneof(
  fc.record({
    op: fc.constant("limits" as const),
    limits: fc.record({
      maxKeyLen: u32,
      maxEntries: u32,
      maxSubs: u32,
      maxBlob: u32,
      nrSnapshots: u32,
    }),
  }),
  fc.record(numPublish),
  fc.record({ ...numPublish, data: bytes }),
  fc.record({
    ...numPublish,
    map: fc.record({
      grantor: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => n as Endpoint),
      gid: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      len: u32,
    }),
  }),
  fc.record({ op: fc.constant("delete" as const), caller: str, key: str, type }),
  fc.record({ op: fc.constant("pending" as const), caller: str, key: str, type }),
  fc.record({ op: fc.constant("subscribe" as const), caller: str, pattern: str, flags: u32 }),
  fc.record({ op: fc.constant("check" as const), caller: str }),
  fc.record({ op: fc.constant("snapshot" as const), key: str, index: u32, data: bytes }),
);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("journal records", () => {
  test("every record decodes to what was encoded, in order", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        const bytes = concat(ops.map((o) => encodeOp(o).slice()));
        expect(decodeOps(bytes)).toEqual(ops);
      }),
    );
  });

  test("decoding stops at a torn or corrupt record, keeping the ones before it", () => {
    const a = encodeOp({ op: "check", caller: "x" }).slice();
    const b = encodeOp({ op: "delete", caller: "y", key: "k", type: DSF_TYPE_U32 }).slice();
    const whole = concat([a, b]);
    expect(decodeOps(whole)).toHaveLength(2);
    expect(decodeOps(whole.subarray(0, whole.length - 1))).toEqual([{ op: "check", caller: "x" }]);
    const bad = whole.slice();
    bad[a.length + 4] = 99; // unknown op
    expect(decodeOps(bad)).toEqual([{ op: "check", caller: "x" }]);
    const badType = concat([
      a,
      encodeOp({ op: "delete", caller: "y", key: "k", type: 3 as never }),
    ]);
    expect(decodeOps(badType)).toHaveLength(1);
    expect(decodeOps(new Uint8Array(3))).toEqual([]);
  });
});
