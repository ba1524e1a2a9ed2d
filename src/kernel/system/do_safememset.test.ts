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
});
