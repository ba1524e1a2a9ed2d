import { describe, expect, test } from "vitest";
import { EDOM, EPERM, OK } from "../../include/errno.ts";
import { CPF_READ, CPF_WRITE, GRANT_INVALID } from "../../include/grant.ts";
import { virAddr } from "../../include/types.ts";
import { cpfGrantDirect, malloc, PAGE_SIZE, sysSafememset } from "../../../test/system_harness.ts";
import {
  expectSameBytes,
  fill,
  grantPair,
  GRANTOR,
  pattern,
  read,
  REQUESTOR,
  untouched,
} from "../../../test/fixtures/grants.ts";

describe("SYS_SAFEMEMSET", () => {
  test("fills exactly the asked part of the grant with the low byte; needs CPF_WRITE", () => {
    const LEN = 70 * 1024; // more than one fill chunk
    let gw = GRANT_INVALID;
    let gr = GRANT_INVALID;
    let buf = virAddr(0);
    const got: number[] = [];
    let after = new Uint8Array(0);
    grantPair({
      dataPages: 64,
      *grantor(ctx) {
        buf = malloc(ctx, LEN + 2 * PAGE_SIZE, PAGE_SIZE);
        yield* fill(ctx, buf, LEN + 2 * PAGE_SIZE, 3);
        gw = yield* cpfGrantDirect(ctx, REQUESTOR, buf, LEN + 2 * PAGE_SIZE, CPF_WRITE);
        gr = yield* cpfGrantDirect(ctx, REQUESTOR, buf, LEN, CPF_READ);
      },
      *requestor(ctx) {
        got.push(yield* sysSafememset(ctx, GRANTOR, gw, 5, 0x1ab, LEN));
        got.push(yield* sysSafememset(ctx, GRANTOR, gr, 0, 0, 16));
        got.push(yield* sysSafememset(ctx, GRANTOR, gw, 0, 0, 0));
        got.push(yield* sysSafememset(ctx, GRANTOR, gw, 2 * PAGE_SIZE, 0, LEN + 1));
      },
      *after(ctx) {
        after = yield* read(ctx, buf, LEN + 2 * PAGE_SIZE);
      },
    });
    expect(got).toEqual([OK, EPERM, EDOM, EPERM]);
    const want = pattern(LEN + 2 * PAGE_SIZE, 3);
    want.fill(0xab, 5, 5 + LEN);
    expectSameBytes(after, want);
  });

  test("filling the grantor's untouched memory waits for VM and completes", () => {
    const LEN = 3 * PAGE_SIZE + 10;
    let g = GRANT_INVALID;
    let lazy = virAddr(0);
    let r = -1;
    let after = new Uint8Array(0);
    grantPair({
      vm: true,
      *grantor(ctx) {
        lazy = yield* untouched(ctx, 4 * PAGE_SIZE);
        g = yield* cpfGrantDirect(ctx, REQUESTOR, lazy, 4 * PAGE_SIZE, CPF_WRITE);
      },
      *requestor(ctx) {
        r = yield* sysSafememset(ctx, GRANTOR, g, 3, 0x5a, LEN);
      },
      *after(ctx) {
        after = yield* read(ctx, lazy, 4 * PAGE_SIZE);
      },
    });
    expect(r).toBe(OK);
    const want = new Uint8Array(4 * PAGE_SIZE);
    want.fill(0x5a, 3, 3 + LEN);
    expectSameBytes(after, want);
  });
});
