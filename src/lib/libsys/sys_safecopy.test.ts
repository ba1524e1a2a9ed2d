import { describe, expect, test } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import { CPF_READ, CPF_WRITE } from "../../include/grant.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import { cpfGrantDirect, malloc, PAGE_SIZE } from "../../../test/system_harness.ts";
import {
  expectSameBytes,
  fill,
  grantPair,
  GRANTOR,
  pattern,
  read,
  REQUESTOR,
} from "../../../test/fixtures/grants.ts";
import { sysSafecopyFrom, sysSafecopyTo } from "./sys_safecopy.ts";

const SIZE = 3 * PAGE_SIZE;

describe("sys_safecopyfrom / sys_safecopyto (pooled trap records)", () => {
  test("calls made before they run keep their own arguments; results and bytes are right", () => {
    const shared = { gid: 0, buf: 0 as VirAddr };
    const statuses: number[] = [];
    const checks: [Uint8Array, Uint8Array][] = [];
    grantPair({
      *grantor(ctx) {
        shared.buf = malloc(ctx, SIZE, PAGE_SIZE);
        yield* fill(ctx, shared.buf, SIZE, 1);
        shared.gid = yield* cpfGrantDirect(ctx, REQUESTOR, shared.buf, SIZE, CPF_READ | CPF_WRITE);
      },
      *requestor(ctx) {
        const own = malloc(ctx, SIZE, PAGE_SIZE);
        const g = GRANTOR;
        // Sizes and offsets that cross pages, one after the other (records are reused).
        for (const [off, len] of [
          [0, 16],
          [PAGE_SIZE - 8, 24],
          [5, SIZE - 5],
          [SIZE - 1, 1],
        ] as const) {
          statuses.push(yield* sysSafecopyFrom(ctx, g, shared.gid, off, virAddr(own), len));
          checks.push([yield* read(ctx, own, len), pattern(SIZE, 1).subarray(off, off + len)]);
        }
        // Two calls made first, run in the other order: each copies what it was asked.
        yield* fill(ctx, own, 64, 9);
        const a = sysSafecopyTo(ctx, g, shared.gid, 100, virAddr(own), 32);
        const b = sysSafecopyTo(ctx, g, shared.gid, 200, virAddr(own + 32), 32);
        statuses.push(yield* b, yield* a);
        const back = malloc(ctx, 64, 8);
        statuses.push(yield* sysSafecopyFrom(ctx, g, shared.gid, 100, virAddr(back), 32));
        checks.push([yield* read(ctx, back, 32), pattern(64, 9).subarray(0, 32)]);
        statuses.push(yield* sysSafecopyFrom(ctx, g, shared.gid, 200, virAddr(back), 32));
        checks.push([yield* read(ctx, back, 32), pattern(64, 9).subarray(32, 64)]);
        // A call given up before it ran leaves the next one intact.
        sysSafecopyFrom(ctx, g, shared.gid, 0, virAddr(own), 8).return(0);
        // Errors come back as the kernel's status.
        statuses.push(yield* sysSafecopyFrom(ctx, g, shared.gid + 1000, 0, virAddr(own), 8));
        statuses.push(yield* sysSafecopyFrom(ctx, 999 as Endpoint, shared.gid, 0, virAddr(own), 8));
        statuses.push(yield* sysSafecopyFrom(ctx, g, shared.gid, 0, virAddr(own), 8));
        // From a grant of its own memory onto an overlapping range: moved as memmove does.
        const mine = malloc(ctx, 128, 8);
        const self = yield* cpfGrantDirect(ctx, REQUESTOR, mine, 128, CPF_READ);
        const p = pattern(128, 4);
        yield* fill(ctx, mine, 128, 4);
        statuses.push(yield* sysSafecopyFrom(ctx, REQUESTOR, self, 0, virAddr(mine + 5), 40));
        const forward = Uint8Array.from(p);
        forward.set(p.subarray(0, 40), 5);
        checks.push([yield* read(ctx, mine, 128), forward]);
        statuses.push(yield* sysSafecopyFrom(ctx, REQUESTOR, self, 9, virAddr(mine + 2), 50));
        const backward = Uint8Array.from(forward);
        backward.set(forward.subarray(9, 59), 2);
        checks.push([yield* read(ctx, mine, 128), backward]);
      },
    });
    expect(statuses).toEqual([OK, OK, OK, OK, OK, OK, OK, OK, EPERM, EINVAL, OK, OK, OK]);
    expect(checks.length).toBe(8);
    for (const [got, want] of checks) expectSameBytes(got, want);
  });
});
