import { describe, expect, test } from "vitest";
import { SELF, type Endpoint } from "../../include/endpoint.ts";
import { EFAULT, EINVAL, EPERM, OK } from "../../include/errno.ts";
import { CPF_READ, CPF_WRITE, GRANT_INVALID, SCPVEC_NR } from "../../include/grant.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import {
  cpfGrantDirect,
  malloc,
  PAGE_SIZE,
  sysVsafecopy,
  sysVsafecopyAt,
  type VscpElement,
  type VsafecopyResult,
} from "../../../test/system_harness.ts";
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

const LEN = 2 * PAGE_SIZE;

/**
 * The grantor grants LEN bytes (pattern 1) for reading and LEN bytes (zeros) for writing; the
 * requestor runs `vec(...)` and the test sees the result, the requestor's buffer and the
 * grantor's writable buffer afterwards.
 */
function run(
  vec: (gRead: number, gWrite: number, dst: VirAddr, src: VirAddr) => VscpElement[] | null,
): { res: VsafecopyResult; dst: Uint8Array; written: Uint8Array } {
  let gRead = GRANT_INVALID;
  let gWrite = GRANT_INVALID;
  let wbuf = virAddr(0);
  let res: VsafecopyResult = { status: -1, done: -1 };
  let dst = new Uint8Array(0);
  let written = new Uint8Array(0);
  grantPair({
    *grantor(ctx) {
      const rbuf = malloc(ctx, LEN, PAGE_SIZE);
      wbuf = malloc(ctx, LEN, PAGE_SIZE);
      yield* fill(ctx, rbuf, LEN, 1);
      gRead = yield* cpfGrantDirect(ctx, REQUESTOR, rbuf, LEN, CPF_READ);
      gWrite = yield* cpfGrantDirect(ctx, REQUESTOR, wbuf, LEN, CPF_WRITE);
    },
    *requestor(ctx) {
      const d = malloc(ctx, LEN, PAGE_SIZE);
      const s = malloc(ctx, LEN, PAGE_SIZE);
      yield* fill(ctx, s, LEN, 2);
      const v = vec(gRead, gWrite, d, s);
      res =
        v === null
          ? yield* sysVsafecopyAt(ctx, virAddr(0x3000_0000), 2)
          : yield* sysVsafecopy(ctx, v);
      dst = yield* read(ctx, d, LEN);
    },
    *after(ctx) {
      written = yield* read(ctx, wbuf, LEN);
    },
  });
  return { res, dst, written };
}

const from = (gid: number, offset: number, addr: VirAddr, bytes: number): VscpElement => ({
  from: GRANTOR,
  to: SELF,
  gid,
  offset,
  addr,
  bytes,
});
const to = (gid: number, offset: number, addr: VirAddr, bytes: number): VscpElement => ({
  from: SELF,
  to: GRANTOR,
  gid,
  offset,
  addr,
  bytes,
});
const at = (va: VirAddr, off: number) => virAddr(va + off);

describe("SYS_VSAFECOPY", () => {
  test("every element is done, in both directions", () => {
    const { res, dst, written } = run((gr, gw, d, s) => [
      from(gr, 0, d, 100),
      from(gr, PAGE_SIZE, at(d, PAGE_SIZE), PAGE_SIZE),
      to(gw, 10, s, LEN - 10),
    ]);
    expect(res).toEqual({ status: OK, done: 3 });
    const want = new Uint8Array(LEN);
    want.set(pattern(LEN, 1).subarray(0, 100), 0);
    want.set(pattern(LEN, 1).subarray(PAGE_SIZE), PAGE_SIZE);
    expectSameBytes(dst, want);
    const w = new Uint8Array(LEN);
    w.set(pattern(LEN, 2).subarray(0, LEN - 10), 10);
    expectSameBytes(written, w);
  });

  test("stops at the first failing element; earlier ones stay done, later ones are not", () => {
    const { res, dst, written } = run((gr, gw, d, s) => [
      from(gr, 0, d, 64),
      to(gw, 0, s, 64),
      from(gw, 0, at(d, 64), 64), // no CPF_READ
      from(gr, 0, at(d, 128), 64),
    ]);
    expect(res).toEqual({ status: EPERM, done: 2 });
    const want = new Uint8Array(LEN);
    want.set(pattern(LEN, 1).subarray(0, 64));
    expectSameBytes(dst, want);
    const w = new Uint8Array(LEN);
    w.set(pattern(LEN, 2).subarray(0, 64));
    expectSameBytes(written, w);
  });

  test("an element with neither side SELF (or both) is EINVAL", () => {
    const bad =
      (f: Endpoint, t: Endpoint) =>
      (gr: number, _gw: number, d: VirAddr): VscpElement[] => [
        from(gr, 0, d, 8),
        { from: f, to: t, gid: gr, offset: 0, addr: at(d, 8), bytes: 8 },
      ];
    expect(run(bad(GRANTOR, REQUESTOR)).res).toEqual({ status: EINVAL, done: 1 });
    expect(run(bad(REQUESTOR, REQUESTOR)).res).toEqual({ status: EINVAL, done: 1 });
    expect(run(bad(SELF, SELF)).res).toEqual({ status: EINVAL, done: 1 });
  });

  test("SCPVEC_NR elements are fine; one more is EINVAL and copies nothing", () => {
    const many = (n: number) => (gr: number, _gw: number, d: VirAddr) =>
      Array.from({ length: n }, (_, i) => from(gr, i, at(d, i), 1));
    const ok = run(many(SCPVEC_NR));
    expect(ok.res).toEqual({ status: OK, done: SCPVEC_NR });
    const want = new Uint8Array(LEN);
    want.set(pattern(LEN, 1).subarray(0, SCPVEC_NR));
    expectSameBytes(ok.dst, want);
    const tooMany = run(many(SCPVEC_NR + 1));
    expect(tooMany.res.status).toBe(EINVAL);
    expectSameBytes(tooMany.dst, new Uint8Array(LEN));
  });

  test("an empty vector is OK; an unreadable vector is EFAULT", () => {
    expect(run(() => []).res).toEqual({ status: OK, done: 0 });
    expect(run(() => null).res.status).toBe(EFAULT);
  });

  test("elements into untouched memory are completed through VM", () => {
    let gRead = GRANT_INVALID;
    let res: VsafecopyResult = { status: -1, done: -1 };
    let dst = new Uint8Array(0);
    const SPACE = 6 * PAGE_SIZE;
    grantPair({
      vm: true,
      *grantor(ctx) {
        const rbuf = malloc(ctx, LEN, PAGE_SIZE);
        yield* fill(ctx, rbuf, LEN, 5);
        gRead = yield* cpfGrantDirect(ctx, REQUESTOR, rbuf, LEN, CPF_READ);
      },
      *requestor(ctx) {
        const space = yield* untouched(ctx, SPACE);
        res = yield* sysVsafecopy(ctx, [
          from(gRead, 0, space, 100),
          from(gRead, 100, at(space, 3 * PAGE_SIZE), LEN - 100),
        ]);
        dst = yield* read(ctx, space, SPACE);
      },
    });
    expect(res).toEqual({ status: OK, done: 2 });
    const want = new Uint8Array(SPACE);
    const src = pattern(LEN, 5);
    want.set(src.subarray(0, 100));
    want.set(src.subarray(100), 3 * PAGE_SIZE);
    expectSameBytes(dst, want);
  });
});
