import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeKey, KeyCache } from "./server.ts";

describe("KeyCache: decodeKey remembering the last key", () => {
  const enc = new TextEncoder();
  const keyBuf = (key: string, len: number, tail: number): Uint8Array => {
    const b = new Uint8Array(len).fill(tail);
    const k = enc.encode(key);
    b.set(k.subarray(0, len - 1));
    b[Math.min(k.length, len - 1)] = 0;
    return b;
  };

  test("a repeated key gives the same string; prefixes, extensions and new keys are decoded", () => {
    const c = new KeyCache();
    const seq = ["a.b", "a.b", "a.bc", "a.b", "a", "", "é.x", "é.x", "a.b"];
    for (const k of seq) expect(c.decode(keyBuf(k, 16, 0x41))).toBe(k);
  });

  test("bytes after the NUL do not matter; a buffer without NUL is taken whole", () => {
    const c = new KeyCache();
    expect(c.decode(keyBuf("key", 8, 0x7a))).toBe("key");
    expect(c.decode(keyBuf("key", 8, 0x00))).toBe("key");
    expect(c.decode(enc.encode("keyz"))).toBe("keyz");
    expect(c.decode(enc.encode("key"))).toBe("key");
  });

  test("property: always equals decodeKey of the same bytes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: 0, max: 3 }))),
        (bufs) => {
          const c = new KeyCache();
          for (const [b, pick] of bufs) {
            // Reuse earlier buffers often so cache hits are exercised.
            const bytes = pick === 0 || bufs.length === 0 ? b : bufs[pick % bufs.length]![0];
            expect(c.decode(bytes)).toBe(decodeKey(bytes));
          }
        },
      ),
    );
  });
});
