import fc from "fast-check";
import { expect, test } from "vitest";
import type { Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { virAddr } from "../include/types.ts";
import { DATA_BASE, idler, Machine, settle } from "../../test/system_harness.ts";
import { copyBetween, copyFromProc, copyToProc } from "./memory.ts";

const A = 11 as Endpoint;
const B = 12 as Endpoint;

test("copyBetween copies exactly the bytes asked, whatever the alignment of either side", () => {
  const m = settle(Machine.boot({ image: [idler("a", A), idler("b", B)] }));
  const k = m.kernel;
  const a = k.procAddr(A)!;
  const b = k.procAddr(B)!;
  // Two pages in each process, so copies may also cross a page boundary.
  const base = DATA_BASE + 0x1000;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0x1000 }),
      fc.integer({ min: 0, max: 0x1000 }),
      fc.integer({ min: 1, max: 100 }),
      fc.uint8Array({ minLength: 100, maxLength: 100 }),
      (from, to, len, data) => {
        const before = new Uint8Array(0x1100).fill(0xee);
        expect(copyToProc(k, b, virAddr(base), before, 0, before.length)).toBe(OK);
        expect(copyToProc(k, a, virAddr(base + from), data, 0, len)).toBe(OK);
        expect(copyBetween(k, a, virAddr(base + from), b, virAddr(base + to), len)).toBe(OK);
        const after = new Uint8Array(before.length);
        expect(copyFromProc(k, b, virAddr(base), after, 0, after.length)).toBe(OK);
        const want = before.slice();
        want.set(data.subarray(0, len), to);
        expect(after).toEqual(want);
      },
    ),
  );
});
