import { describe, expect, test } from "vitest";
import { CLOCK, makeEndpoint, MAX_GEN, type Endpoint } from "./endpoint.ts";
import { PRIV_ARG } from "./kcall.ts";
import {
  cString,
  defineLayout,
  defineStruct,
  Message,
  MESSAGE_SIZE,
  M_PAYLOAD,
  PAYLOAD_SIZE,
  type FieldKind,
} from "./message.ts";
import type { VirAddr } from "./types.ts";

const sizeOf = (k: FieldKind): number =>
  typeof k === "object"
    ? k.bytes
    : ({ i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, endpoint: 4, vir: 4 } as const)[k];

const EVERY_KIND = defineLayout({
  a: "u8",
  b: "i32",
  c: "i16",
  d: "i8",
  e: "endpoint",
  f: { bytes: 3 },
  g: "u16",
  h: "vir",
  i: "u32",
  j: "endpoint",
});

describe("defineLayout", () => {
  test("places fields in order from offset 8, each at its natural alignment", () => {
    expect(EVERY_KIND.offsets).toEqual({
      a: 8,
      b: 12,
      c: 16,
      d: 18,
      e: 20,
      f: 24,
      g: 28,
      h: 32,
      i: 36,
      j: 40,
    });
    let end = M_PAYLOAD;
    for (const [name, kind] of Object.entries(EVERY_KIND.fields)) {
      const off = EVERY_KIND.offsets[name as keyof typeof EVERY_KIND.offsets];
      const size = sizeOf(kind);
      if (typeof kind !== "object") expect(off % size, name).toBe(0);
      expect(off, name).toBeGreaterThanOrEqual(end);
      expect(off - end, `${name} padding`).toBeLessThan(typeof kind === "object" ? 1 : size);
      end = off + size;
    }
  });

  test("an empty layout is allowed", () => {
    expect(defineLayout({}).offsets).toEqual({});
  });

  test("a payload of exactly 56 bytes fits; one more byte throws", () => {
    expect(defineLayout({ x: { bytes: PAYLOAD_SIZE } }).offsets.x).toBe(8);
    expect(defineLayout({ a: "u32", x: { bytes: 52 } }).offsets.x).toBe(12);
    expect(() => defineLayout({ x: { bytes: PAYLOAD_SIZE + 1 } })).toThrow(RangeError);
    expect(() => defineLayout({ a: "u8", b: { bytes: 52 }, c: "u32" })).toThrow(/too large/);
    const fourteen: Record<string, FieldKind> = Object.fromEntries(
      Array.from({ length: 14 }, (_, i) => [`w${i}`, "u32"]),
    );
    expect(() => defineLayout(fourteen)).not.toThrow();
    expect(() => defineLayout({ ...fourteen, extra: "u8" })).toThrow(RangeError);
  });
});

describe("round trips", () => {
  test("every field kind, with extreme and negative values", () => {
    const m = new Message();
    const values = {
      a: 255,
      b: -2147483648,
      c: -32768,
      d: -128,
      e: CLOCK,
      f: new Uint8Array([1, 2, 3]),
      g: 65535,
      h: 0xfffffff0 as VirAddr,
      i: 0xffffffff,
      j: makeEndpoint(MAX_GEN, 1000),
    };
    m.set(0x1234, EVERY_KIND, values);
    expect(m.type).toBe(0x1234);
    expect(m.get(EVERY_KIND)).toEqual(values);

    const small = { ...values, b: -1, c: -1, d: -1, e: -4 as Endpoint, h: 0 as VirAddr, i: 0 };
    m.set(-7, EVERY_KIND, small);
    expect(m.type).toBe(-7);
    expect(m.get(EVERY_KIND)).toEqual(small);
  });

  test("little-endian in memory, as the kernel copies it", () => {
    const L = defineLayout({ x: "u32", y: "i16" });
    const m = new Message().set(1, L, { x: 0x11223344, y: -2 });
    expect(Array.from(m.bytes.subarray(8, 14))).toEqual([0x44, 0x33, 0x22, 0x11, 0xfe, 0xff]);
  });

  test("integers are truncated to the field width", () => {
    const L = defineLayout({ a: "u8", b: "i8", c: "u16", d: "i32", e: "u32" });
    const m = new Message().set(0, L, { a: 0x1ff, b: 200, c: 0x12345, d: 2 ** 32 + 5, e: -1 });
    expect(m.get(L)).toEqual({ a: 0xff, b: -56, c: 0x2345, d: 5, e: 0xffffffff });
  });

  test("bytes fields truncate long values and zero-fill short ones", () => {
    const L = defineLayout({ s: { bytes: 4 }, t: "u8" });
    const m = new Message();
    m.set(0, L, { s: new Uint8Array([9, 9, 9, 9, 9, 9]), t: 7 });
    expect(m.get(L)).toEqual({ s: new Uint8Array([9, 9, 9, 9]), t: 7 });
    // A shorter value overwrites the whole field, not just its prefix.
    L.write(m.view, { s: new Uint8Array([1]), t: 8 });
    expect(m.get(L)).toEqual({ s: new Uint8Array([1, 0, 0, 0]), t: 8 });
    // What `get` returns is a copy.
    const got = m.get(L).s;
    got[0] = 99;
    expect(m.get(L).s[0]).toBe(1);
  });

  test("set zeroes the payload it does not name and keeps m_source", () => {
    const m = new Message();
    m.bytes.fill(0xaa);
    m.source = makeEndpoint(2, 11);
    m.set(5, defineLayout({ x: "u8" }), { x: 1 });
    expect(m.source).toBe(makeEndpoint(2, 11));
    expect(m.type).toBe(5);
    expect(m.bytes[8]).toBe(1);
    expect(m.bytes.subarray(9).every((b) => b === 0)).toBe(true);
    m.clear();
    expect(m.bytes.every((b) => b === 0)).toBe(true);
  });

  test("a message inside a larger buffer reads and writes only its own bytes", () => {
    const backing = new Uint8Array(3 * MESSAGE_SIZE).fill(0x55);
    const m = new Message(backing.subarray(MESSAGE_SIZE, 2 * MESSAGE_SIZE));
    const L = defineLayout({ s: { bytes: 2 }, x: "i32" });
    m.set(3, L, { s: new Uint8Array([1, 2]), x: -9 });
    expect(m.get(L)).toEqual({ s: new Uint8Array([1, 2]), x: -9 });
    expect(backing.subarray(0, MESSAGE_SIZE).every((b) => b === 0x55)).toBe(true);
    expect(backing.subarray(2 * MESSAGE_SIZE).every((b) => b === 0x55)).toBe(true);
    expect(new DataView(backing.buffer).getInt32(MESSAGE_SIZE + 4, true)).toBe(3);
  });

  test("a Message must be exactly 64 bytes", () => {
    expect(() => new Message(new Uint8Array(63))).toThrow(RangeError);
    expect(() => new Message(new Uint8Array(65))).toThrow(RangeError);
  });
});

describe("defineStruct", () => {
  test("fields start at 0; the size covers the last field, rounded up to 4", () => {
    const S = defineStruct({ a: "u8" });
    expect(S.offsets.a).toBe(0);
    expect(S.size).toBe(4);
    expect(defineStruct({ a: "u32", b: "u16" }).size).toBe(8);
    expect(defineStruct({ a: "u8", b: "u32" }).offsets).toEqual({ a: 0, b: 4 });
    expect(defineStruct({}).size).toBe(0);
  });

  test("is not limited to a message payload", () => {
    const S = defineStruct({ big: { bytes: 100 }, x: "u32" });
    expect(S.offsets.x).toBe(100);
    expect(S.size).toBe(104);
    const bytes = new Uint8Array(S.size);
    S.write(new DataView(bytes.buffer), { big: new Uint8Array(100).fill(3), x: 42 });
    expect(S.read(new DataView(bytes.buffer)).x).toBe(42);
  });

  test("PRIV_ARG is seven words", () => {
    expect(PRIV_ARG.size).toBe(28);
    expect(Object.values(PRIV_ARG.offsets)).toEqual([0, 4, 8, 12, 16, 20, 24]);
  });
});

describe("Layout.overlay: the fields read in place", () => {
  const L = defineLayout({ a: "i32", b: "u32", c: "u8", d: "endpoint", e: { bytes: 3 } });

  test("every field reads what `read` decodes, and follows later changes of the message", () => {
    const m = new Message();
    L.write(m.view, { a: -5, b: 0xffff_fff0, c: 200, d: 7 as Endpoint, e: Uint8Array.of(1, 2, 3) });
    const o = L.overlay(m.view);
    expect({ a: o.a, b: o.b, c: o.c, d: o.d, e: o.e }).toEqual(L.read(m.view));
    L.write(m.view, { a: 1, b: 2, c: 3, d: 4 as Endpoint, e: Uint8Array.of(9) });
    expect({ a: o.a, b: o.b, c: o.c, d: o.d, e: o.e }).toEqual(L.read(m.view));
    expect(L.overlay(m.view)).toBe(o);
    const other = new Message();
    expect(L.overlay(other.view)).not.toBe(o);
    expect(L.overlay(other.view).a).toBe(0);
  });
});

describe("cString", () => {
  test("the bytes before the first NUL, as UTF-8; the whole buffer without a NUL", () => {
    const enc = new TextEncoder();
    expect(cString(new Uint8Array([0x61, 0x62, 0, 0x63]))).toBe("ab");
    expect(cString(enc.encode("rs"))).toBe("rs");
    expect(cString(new Uint8Array([0, 0x61]))).toBe("");
    expect(cString(enc.encode("é\0x"))).toBe("é");
  });
});
