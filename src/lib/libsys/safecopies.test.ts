import { describe, expect, test } from "vitest";
import { SELF, VFS_PROC_NR } from "../../include/endpoint.ts";
import { EINVAL, ENOSPC, EPERM, OK } from "../../include/errno.ts";
import {
  CPF_MAP,
  CPF_READ,
  CPF_WRITE,
  GRANT_INVALID,
  grantGeneration,
  grantSlot,
  makeGrantId,
} from "../../include/grant.ts";
import { virAddr } from "../../include/types.ts";
import {
  cpfErrno,
  cpfGetgrants,
  cpfGrantDirect,
  cpfGrantIndirect,
  cpfGrantMagic,
  cpfLookup,
  cpfReload,
  cpfRevoke,
  cpfSetgrantDirect,
  cpfSetgrantDisable,
  malloc,
  NR_STATIC_GRANTS,
  PAGE_SIZE,
  sysSafecopyFrom,
  type GrantLookup,
  type Machine,
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
  waitMsg,
  wake,
} from "../../../test/fixtures/grants.ts";

const RW = CPF_READ | CPF_WRITE;

describe("grant library: creating grants", () => {
  test("bad access bits and unaligned MAP grants give GRANT_INVALID with errno EINVAL", () => {
    const got: [number, number][] = [];
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, 2 * PAGE_SIZE, PAGE_SIZE);
        for (const [addr, len, access] of [
          [buf, 16, 0x8], // not READ/WRITE/MAP
          [buf, 16, CPF_READ | 0x100], // CPF_USED is not an access bit
          [buf, 16, -1],
          [buf + 1, PAGE_SIZE, CPF_MAP | CPF_READ], // unaligned address
          [buf, PAGE_SIZE + 1, CPF_MAP | CPF_READ], // unaligned length
          [buf, 2 * PAGE_SIZE, CPF_MAP | RW], // fine
          [buf, 16, 0], // no access at all is allowed (useless, as in MINIX)
        ] as const) {
          const g = yield* cpfGrantDirect(ctx, REQUESTOR, virAddr(addr), len, access);
          got.push([g === GRANT_INVALID ? GRANT_INVALID : grantSlot(g), cpfErrno(ctx)]);
        }
      },
      *requestor() {},
    });
    expect(got).toEqual([
      [GRANT_INVALID, EINVAL],
      [GRANT_INVALID, EINVAL],
      [GRANT_INVALID, EINVAL],
      [GRANT_INVALID, EINVAL],
      [GRANT_INVALID, EINVAL],
      [0, EINVAL],
      [1, EINVAL],
    ]);
  });

  test("the table starts with 2 entries and grows to (n+1)*2, keeping every grant", () => {
    const sizes: number[] = [];
    let m: Machine | null = null;
    const ids: number[] = [];
    const copies: number[] = [];
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, 64, 64);
        for (let i = 0; i < 15; i++) {
          ids.push(yield* cpfGrantDirect(ctx, REQUESTOR, buf, 64, CPF_READ));
          sizes.push(m!.kernel.procAddr(GRANTOR)!.priv!.grantEntries);
        }
      },
      *requestor(ctx) {
        for (const g of ids)
          copies.push(yield* sysSafecopyFrom(ctx, GRANTOR, g, 0, malloc(ctx, 64), 64));
      },
      onBoot(machine) {
        m = machine;
      },
    });
    expect(NR_STATIC_GRANTS).toBe(2);
    expect(sizes).toEqual([2, 2, 6, 6, 6, 6, 14, 14, 14, 14, 14, 14, 14, 14, 30]);
    expect(ids.map(grantSlot)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(copies).toEqual(new Array(15).fill(OK));
  });

  test("when sys_setgrant is refused the table does not grow: ENOSPC", () => {
    const got: [number, number][] = [];
    grantPair({
      *grantor() {},
      *requestor() {},
      extra: [
        {
          name: "nosetgrant",
          slot: THIRD,
          priority: 7,
          priv: { kcalls: ["SYS_SAFECOPYFROM"] },
          program: function* (ctx) {
            const g = yield* cpfGrantDirect(ctx, REQUESTOR, malloc(ctx, 8), 8, CPF_READ);
            got.push([g, cpfErrno(ctx)]);
            return 0;
          },
        },
      ],
    });
    expect(got).toEqual([[GRANT_INVALID, ENOSPC]]);
  });

  test("when the heap cannot hold a bigger table the old one stays in use", () => {
    const got: number[] = [];
    let ids: number[] = [];
    let m: Machine | null = null;
    grantPair({
      dataPages: 1,
      onBoot(machine) {
        m = machine;
      },
      *grantor(ctx) {
        const buf = malloc(ctx, 8);
        ids = [
          yield* cpfGrantDirect(ctx, REQUESTOR, buf, 8, CPF_READ),
          yield* cpfGrantDirect(ctx, REQUESTOR, buf, 8, CPF_READ),
        ];
        // Use up the heap so that growing to 6 entries (216 bytes) cannot fit.
        for (;;) {
          try {
            malloc(ctx, 8, 1);
          } catch {
            break;
          }
        }
        got.push(yield* cpfGrantDirect(ctx, REQUESTOR, buf, 8, CPF_READ), cpfErrno(ctx));
        got.push(m!.kernel.procAddr(GRANTOR)!.priv!.grantEntries);
      },
      *requestor(ctx) {
        for (const g of ids)
          got.push(yield* sysSafecopyFrom(ctx, GRANTOR, g, 0, malloc(ctx, 8), 8));
      },
    });
    expect(got).toEqual([GRANT_INVALID, ENOSPC, 2, OK, OK]);
  });
});

describe("grant library: revoking, reserving, looking up", () => {
  test("revoke needs a used slot of the id's generation; it is immediate and advances it", () => {
    const got: number[] = [];
    let g0 = GRANT_INVALID;
    let g1 = GRANT_INVALID;
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, 8);
        g0 = yield* cpfGrantDirect(ctx, REQUESTOR, buf, 8, CPF_READ);
        got.push(yield* cpfRevoke(ctx, g0)); // OK
        got.push(yield* cpfRevoke(ctx, g0)); // twice: EINVAL
        got.push(yield* cpfRevoke(ctx, -1)); // EINVAL
        got.push(yield* cpfRevoke(ctx, 7)); // beyond the table: EINVAL
        got.push(yield* cpfRevoke(ctx, 1)); // free slot: EINVAL
        g1 = yield* cpfGrantDirect(ctx, REQUESTOR, buf, 8, CPF_READ); // reuses slot 0
        got.push(yield* cpfRevoke(ctx, g0)); // stale id of a used slot: EINVAL
        got.push(cpfErrno(ctx));
      },
      *requestor(ctx) {
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, g0, 0, malloc(ctx, 8), 8));
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, g1, 0, malloc(ctx, 8), 8));
      },
    });
    expect(grantSlot(g1)).toBe(grantSlot(g0));
    expect(grantGeneration(g1)).toBe(grantGeneration(g0) + 1);
    expect(got).toEqual([OK, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EPERM, OK]);
  });

  test("getgrants reserves used-but-invalid slots that setgrant fills; disable invalidates", () => {
    const got: number[] = [];
    let ids: number[] = [];
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, 8);
        ids = yield* cpfGetgrants(ctx, 3);
        got.push(ids.length);
        got.push(yield* cpfSetgrantDirect(ctx, ids[1]!, REQUESTOR, buf, 8, CPF_READ));
        got.push(yield* cpfSetgrantDirect(ctx, ids[2]!, REQUESTOR, buf, 8, CPF_READ));
        got.push(yield* cpfSetgrantDisable(ctx, ids[2]!));
        got.push(yield* cpfSetgrantDirect(ctx, makeGrantId(40, 0), REQUESTOR, buf, 8, CPF_READ));
        got.push(yield* cpfSetgrantDirect(ctx, ids[0]!, REQUESTOR, buf, 8, 0x10));
        // A reserved slot is not handed out again.
        const next = yield* cpfGrantDirect(ctx, REQUESTOR, buf, 8, CPF_READ);
        got.push(grantSlot(next));
      },
      *requestor(ctx) {
        for (const g of ids)
          got.push(yield* sysSafecopyFrom(ctx, GRANTOR, g, 0, malloc(ctx, 8), 8));
      },
    });
    expect(got).toEqual([3, OK, OK, OK, EINVAL, EINVAL, 3, EPERM, OK, EPERM]);
  });

  test("lookup names the parties of direct and magic grants; indirect and free are EINVAL", () => {
    const got: (GrantLookup | number)[] = [];
    grantPair({
      *grantor(ctx) {
        const buf = malloc(ctx, 8);
        const d = yield* cpfGrantDirect(ctx, REQUESTOR, buf, 8, CPF_READ);
        const mg = yield* cpfGrantMagic(ctx, REQUESTOR, THIRD, buf, 8, CPF_READ);
        const i = yield* cpfGrantIndirect(ctx, REQUESTOR, THIRD, 0);
        got.push(yield* cpfLookup(ctx, d));
        got.push(yield* cpfLookup(ctx, mg));
        got.push(yield* cpfLookup(ctx, i));
        got.push(yield* cpfLookup(ctx, 9));
      },
      *requestor() {},
    });
    expect(got).toEqual([
      { granter: SELF, grantee: REQUESTOR },
      { granter: THIRD, grantee: REQUESTOR },
      EINVAL,
      EINVAL,
    ]);
  });

  test("reload announces the table again (after fork the kernel does not know it)", () => {
    const got: number[] = [];
    let m: Machine | null = null;
    let g = GRANT_INVALID;
    grantPair({
      onBoot(machine) {
        m = machine;
      },
      *grantor(ctx) {
        g = yield* cpfGrantDirect(ctx, REQUESTOR, malloc(ctx, 8), 8, CPF_READ);
        const priv = m!.kernel.procAddr(GRANTOR)!.priv!;
        const table = priv.grantTable;
        priv.grantTable = virAddr(0); // what a forked child's privileges look like
        priv.grantEntries = 0;
        got.push(yield* cpfReload(ctx));
        got.push(priv.grantTable === table ? 1 : 0, priv.grantEntries);
      },
      *requestor(ctx) {
        got.push(yield* sysSafecopyFrom(ctx, GRANTOR, g, 0, malloc(ctx, 8), 8));
      },
    });
    expect(got).toEqual([OK, 1, 2, OK]);
  });

  test("a magic grant made by VFS reaches the third party's memory", () => {
    let g = GRANT_INVALID;
    let r = -1;
    let gbuf = virAddr(0);
    let bytes = new Uint8Array(0);
    grantPair({
      extra: [
        {
          name: "vfs",
          slot: VFS_PROC_NR,
          priority: 7,
          program: function* (ctx) {
            g = yield* cpfGrantMagic(ctx, REQUESTOR, GRANTOR, gbuf, 64, CPF_READ);
            yield* wake(ctx, REQUESTOR);
            yield* waitMsg(ctx);
            return 0;
          },
        },
      ],
      *grantor(ctx) {
        gbuf = malloc(ctx, 64, 64);
        yield* fill(ctx, gbuf, 64, 4);
      },
      *requestor(ctx) {
        yield* waitMsg(ctx);
        const dst = malloc(ctx, 64, 64);
        r = yield* sysSafecopyFrom(ctx, VFS_PROC_NR, g, 0, dst, 64);
        bytes = yield* read(ctx, dst, 64);
      },
    });
    expect(r).toBe(OK);
    expectSameBytes(bytes, pattern(64, 4));
  });
});
