import { describe, expect, test } from "vitest";
import { ANY, makeEndpoint } from "../../include/endpoint.ts";
import { EDOM, EFAULT, EINVAL, EPERM, OK } from "../../include/errno.ts";
import {
  CPF_READ,
  CPF_WRITE,
  grantGeneration,
  grantSlot,
  GRANT_INVALID,
} from "../../include/grant.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import {
  cpfGrantDirect,
  cpfGrantIndirect,
  cpfRevoke,
  malloc,
  PAGE_SIZE,
  type BootImageEntry,
  type MachineEvent,
  type Syscall,
  sysSafecopyFrom,
  sysSafecopyTo,
} from "../../../test/system_harness.ts";
import {
  expectSameBytes,
  fill,
  grantPair,
  GRANTOR,
  pattern,
  read,
  REQUESTOR,
  THIRD,
  untouched,
  waitMsg,
  wake,
} from "../../../test/fixtures/grants.ts";

const RW = CPF_READ | CPF_WRITE;
const SIZE = 3 * PAGE_SIZE + 100;

/** A third process (runs after the grantor and the requestor wait) that runs `body`, then exits. */
function third(body: (ctx: ProcessContext) => Syscall<void>): BootImageEntry {
  return {
    name: "third",
    slot: THIRD,
    priority: 7,
    program: function* (ctx) {
      yield* body(ctx);
      return 0;
    },
  };
}

describe("SYS_SAFECOPYFROM / SYS_SAFECOPYTO", () => {
  test("copy from moves the whole granted range, at every offset asked", () => {
    let gid = GRANT_INVALID;
    const got: [number, Uint8Array][] = [];
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, SIZE, PAGE_SIZE);
        yield* fill(ctx, buf, SIZE, 1);
        gid = yield* cpfGrantDirect(ctx, REQUESTOR, buf, SIZE, CPF_READ);
      },
      *requestor(ctx) {
        const dst = malloc(ctx, SIZE, PAGE_SIZE);
        for (const [off, n] of [
          [0, SIZE],
          [1, PAGE_SIZE],
          [PAGE_SIZE - 3, 7],
          [SIZE - 1, 1],
        ] as const) {
          const r = yield* sysSafecopyFrom(ctx, GRANTOR, gid, off, dst, n);
          got.push([r, yield* read(ctx, dst, n)]);
        }
      },
    });
    expect(gid).toBeGreaterThanOrEqual(0);
    const whole = pattern(SIZE, 1);
    const want = [
      whole,
      whole.subarray(1, 1 + PAGE_SIZE),
      whole.subarray(PAGE_SIZE - 3, PAGE_SIZE + 4),
      whole.subarray(SIZE - 1),
    ];
    expect(got.map((g) => g[0])).toEqual([OK, OK, OK, OK]);
    got.forEach(([, bytes], i) => expectSameBytes(bytes, want[i]!));
  });

  test("copy to writes exactly the asked bytes of the grantor's buffer", () => {
    let gid = GRANT_INVALID;
    let buf = virAddr(0);
    let status = -1;
    let after = new Uint8Array(0);
    grantPair({
      *grantor(ctx) {
        buf = malloc(ctx, SIZE, PAGE_SIZE);
        yield* fill(ctx, buf, SIZE, 2);
        gid = yield* cpfGrantDirect(ctx, REQUESTOR, buf, SIZE, CPF_WRITE);
      },
      *requestor(ctx) {
        const src = malloc(ctx, PAGE_SIZE * 2, PAGE_SIZE);
        yield* fill(ctx, src, PAGE_SIZE * 2, 3);
        status = yield* sysSafecopyTo(ctx, GRANTOR, gid, 50, src, PAGE_SIZE * 2);
      },
      *after(ctx) {
        after = yield* read(ctx, buf, SIZE);
      },
    });
    expect(status).toBe(OK);
    const want = pattern(SIZE, 2);
    want.set(pattern(PAGE_SIZE * 2, 3), 50);
    expectSameBytes(after, want);
  });

  test("the errors of §4.9 come back as the call's status and copy nothing", () => {
    let gids: number[] = [];
    const got: number[] = [];
    let dstAfter = new Uint8Array(0);
    let grantorAfter = new Uint8Array(0);
    let gbuf = virAddr(0);
    grantPair({
      *grantor(ctx) {
        gbuf = malloc(ctx, PAGE_SIZE, PAGE_SIZE);
        yield* fill(ctx, gbuf, PAGE_SIZE, 4);
        gids = [
          yield* cpfGrantDirect(ctx, REQUESTOR, gbuf, PAGE_SIZE, CPF_READ),
          yield* cpfGrantDirect(ctx, THIRD, gbuf, PAGE_SIZE, RW),
          yield* cpfGrantDirect(ctx, REQUESTOR, gbuf, PAGE_SIZE, CPF_WRITE),
        ];
      },
      *requestor(ctx) {
        const dst = malloc(ctx, PAGE_SIZE, PAGE_SIZE);
        const [readOnly, other, writeOnly] = gids as [number, number, number];
        const calls: [number, number, number, number][] = [
          [99, readOnly, 0, 16], // granter not a process
          [makeEndpoint(2, GRANTOR), readOnly, 0, 16], // stale granter
          [GRANTOR, -1, 0, 16], // negative id
          [GRANTOR, 40, 0, 16], // id beyond the table
          [GRANTOR, other, 0, 16], // grant for another grantee
          [GRANTOR, writeOnly, 0, 16], // no CPF_READ
          [GRANTOR, readOnly, 1, PAGE_SIZE], // past the end
          [GRANTOR, readOnly, 0xffff_ffff, 2], // offset + bytes wraps
          [REQUESTOR, readOnly, 0, 16], // requestor has no table
          [REQUESTOR, -1, 0, 16], // no table is checked before the id (§4.4 step 1)
          [GRANTOR, readOnly, 0, 0], // zero bytes: EDOM after verification
          [GRANTOR, other, 0, 0], // zero bytes of a bad grant: the grant's error
        ];
        for (const [granter, gid, off, n] of calls) {
          got.push(yield* sysSafecopyFrom(ctx, granter as typeof GRANTOR, gid, off, dst, n));
        }
        got.push(yield* sysSafecopyTo(ctx, GRANTOR, readOnly, 0, dst, 16)); // no CPF_WRITE
        dstAfter = yield* read(ctx, dst, PAGE_SIZE);
      },
      *after(ctx) {
        grantorAfter = yield* read(ctx, gbuf, PAGE_SIZE);
      },
    });
    expect(got).toEqual([
      EINVAL,
      EINVAL,
      EINVAL,
      EPERM,
      EPERM,
      EPERM,
      EPERM,
      EPERM,
      EPERM,
      EPERM,
      EDOM,
      EPERM,
      EPERM,
    ]);
    expectSameBytes(dstAfter, new Uint8Array(PAGE_SIZE));
    expectSameBytes(grantorAfter, pattern(PAGE_SIZE, 4));
  });

  test("without VM, unmapped memory on either side is EFAULT", () => {
    const got: number[] = [];
    let gid = GRANT_INVALID;
    let gidHole = GRANT_INVALID;
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, PAGE_SIZE, PAGE_SIZE);
        gid = yield* cpfGrantDirect(ctx, REQUESTOR, buf, PAGE_SIZE, RW);
        gidHole = yield* cpfGrantDirect(ctx, REQUESTOR, virAddr(0x1000_0000), PAGE_SIZE, RW);
      },
      *requestor(ctx) {
        const dst = malloc(ctx, PAGE_SIZE, PAGE_SIZE);
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, virAddr(0x2000_0000), 16));
        got.push(yield* sysSafecopyTo(ctx, GRANTOR, gid, 0, virAddr(0x2000_0000), 16));
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, gidHole, 0, dst, 16));
        got.push(yield* sysSafecopyTo(ctx, GRANTOR, gidHole, 0, dst, 16));
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, virAddr(0xffff_fff0), 0x20));
      },
    });
    expect(got).toEqual([EFAULT, EFAULT, EFAULT, EFAULT, EFAULT]);
  });

  test("a revoked grant is refused at once", () => {
    const got: number[] = [];
    let gid = GRANT_INVALID;
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, PAGE_SIZE, PAGE_SIZE);
        gid = yield* cpfGrantDirect(ctx, REQUESTOR, buf, PAGE_SIZE, RW);
        yield* waitMsg(ctx);
        expect(yield* cpfRevoke(ctx, gid)).toBe(OK);
        yield* wake(ctx, REQUESTOR);
      },
      *requestor(ctx) {
        const dst = malloc(ctx, 64, 64);
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, dst, 64));
        yield* wake(ctx, GRANTOR);
        yield* waitMsg(ctx);
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, dst, 64));
      },
    });
    expect(got).toEqual([OK, EPERM]);
  });

  /** Grant A, revoke it, grant B in the same slot; returns the stale id's copy result and bytes. */
  function staleId(grantGenerations: boolean): { ids: number[]; r: number; bytes: Uint8Array } {
    const ids: number[] = [];
    let r = -1;
    let bytes = new Uint8Array(0);
    grantPair({
      options: { grantGenerations },
      *grantor(ctx) {
        const a = malloc(ctx, 64, 64);
        const b = malloc(ctx, 64, 64);
        yield* fill(ctx, a, 64, 5);
        yield* fill(ctx, b, 64, 6);
        const ga = yield* cpfGrantDirect(ctx, REQUESTOR, a, 64, CPF_READ);
        expect(yield* cpfRevoke(ctx, ga)).toBe(OK);
        const gb = yield* cpfGrantDirect(ctx, REQUESTOR, b, 64, CPF_READ);
        ids.push(ga, gb);
      },
      *requestor(ctx) {
        const dst = malloc(ctx, 64, 64);
        r = yield* sysSafecopyFrom(ctx, GRANTOR, ids[0]!, 0, dst, 64);
        bytes = yield* read(ctx, dst, 64);
      },
    });
    return { ids, r, bytes };
  }

  test("generations: a stale id of a reused slot is EPERM", () => {
    const { ids, r, bytes } = staleId(true);
    expect(grantSlot(ids[0]!)).toBe(grantSlot(ids[1]!));
    expect(grantGeneration(ids[1]!)).toBe(grantGeneration(ids[0]!) + 1);
    expect(r).toBe(EPERM);
    expectSameBytes(bytes, new Uint8Array(64));
  });

  test("grantGenerations: false (MINIX): the stale id reaches the new grant's memory", () => {
    const { r, bytes } = staleId(false);
    expect(r).toBe(OK);
    expectSameBytes(bytes, pattern(64, 6));
  });

  test("an indirect grant copies from the final granter's memory", () => {
    let gDirect = GRANT_INVALID;
    let gIndirect = GRANT_INVALID;
    let r = -1;
    let bytes = new Uint8Array(0);
    grantPair({
      extra: [
        third(function* (ctx) {
          const dst = malloc(ctx, 128, 64);
          r = yield* sysSafecopyFrom(ctx, REQUESTOR, gIndirect, 8, dst, 100);
          bytes = yield* read(ctx, dst, 100);
        }),
      ],
      *grantor(ctx) {
        const buf = malloc(ctx, 256, 64);
        yield* fill(ctx, buf, 256, 7);
        gDirect = yield* cpfGrantDirect(ctx, REQUESTOR, buf, 256, CPF_READ);
      },
      *requestor(ctx) {
        gIndirect = yield* cpfGrantIndirect(ctx, THIRD, GRANTOR, gDirect);
        yield* waitMsg(ctx);
      },
    });
    expect(r).toBe(OK);
    expectSameBytes(bytes, pattern(256, 7).subarray(8, 108));
  });

  test("a grant to ANY serves every process", () => {
    const got: number[] = [];
    let gid = GRANT_INVALID;
    grantPair({
      extra: [
        third(function* (ctx) {
          got.push(yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, malloc(ctx, 16), 16));
        }),
      ],
      *grantor(ctx) {
        gid = yield* cpfGrantDirect(ctx, ANY, malloc(ctx, 16), 16, CPF_READ);
      },
      *requestor(ctx) {
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, malloc(ctx, 16), 16));
        yield* waitMsg(ctx);
      },
    });
    expect(got).toEqual([OK, OK]);
  });
});

describe("safecopy through the real VM: pages that are not present yet", () => {
  test("a copy into and out of untouched memory suspends for VM and completes", () => {
    const LEN = 5 * PAGE_SIZE + 300;
    let gid = GRANT_INVALID;
    let lazyG: VirAddr = virAddr(0);
    let results: number[] = [];
    let fromBytes = new Uint8Array(0);
    let toBytes = new Uint8Array(0);
    const m = grantPair({
      vm: true,
      *grantor(ctx) {
        const buf = malloc(ctx, LEN, PAGE_SIZE);
        yield* fill(ctx, buf, LEN, 8);
        lazyG = yield* untouched(ctx, 8 * PAGE_SIZE);
        gid = yield* cpfGrantDirect(ctx, REQUESTOR, buf, LEN, CPF_READ);
        const gid2 = yield* cpfGrantDirect(ctx, REQUESTOR, lazyG, 8 * PAGE_SIZE, CPF_WRITE);
        results.push(gid2);
      },
      *requestor(ctx) {
        const dst = yield* untouched(ctx, 8 * PAGE_SIZE);
        const r1 = yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, virAddr(dst + 100), LEN);
        fromBytes = yield* read(ctx, virAddr(dst + 100), LEN);
        const r2 = yield* sysSafecopyTo(ctx, GRANTOR, results[0]!, 7, virAddr(dst + 100), LEN);
        results = [r1, r2];
      },
      *after(ctx) {
        toBytes = yield* read(ctx, virAddr(lazyG + 7), LEN);
      },
    });
    expect(results).toEqual([OK, OK]);
    expectSameBytes(fromBytes, pattern(LEN, 8));
    expectSameBytes(toBytes, pattern(LEN, 8));
    expect(m.kernel.vmrequest).toBeNull();
  });

  test("the caller was suspended for VM (vmreq events) and the call was re-executed", () => {
    let gid = GRANT_INVALID;
    let r = -1;
    let bytes = new Uint8Array(0);
    const events: MachineEvent[] = [];
    grantPair({
      vm: true,
      onBoot(m) {
        m.onEvent((e) => {
          if (e.kind === "vmreq") events.push(e);
        });
      },
      *grantor(ctx) {
        const buf = malloc(ctx, 2 * PAGE_SIZE, PAGE_SIZE);
        yield* fill(ctx, buf, 2 * PAGE_SIZE, 9);
        gid = yield* cpfGrantDirect(ctx, REQUESTOR, buf, 2 * PAGE_SIZE, CPF_READ);
      },
      *requestor(ctx) {
        const dst = yield* untouched(ctx, 2 * PAGE_SIZE);
        r = yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, dst, 2 * PAGE_SIZE);
        bytes = yield* read(ctx, dst, 2 * PAGE_SIZE);
      },
    });
    expect(r).toBe(OK);
    expectSameBytes(bytes, pattern(2 * PAGE_SIZE, 9));
    expect(events.filter((e) => e.kind === "vmreq" && e.ep === REQUESTOR).length).toBeGreaterThan(
      0,
    );
  });
});
