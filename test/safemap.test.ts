/**
 * MINIX `test/safemap` (MINIX-SPEC §10.2) ported: a grantor G and a requestor R (both system
 * services) hand the turn to each other with messages and go through the six scenarios MAP,
 * UNMAP, REVOKE, SMAP_COW, COW_SMAP and COW_SMAP2 on a 4-page buffer mapped writable at the
 * requestor's own buffer address. Whole buffers are filled and checked, not only byte 0.
 * Forks go through a PM stand-in; the child of a system process waits in RTS_NO_PRIV until
 * its parent calls SYS_PRIV_SET_USER and SYS_PRIV_ALLOW, as in the original. Run with COW
 * safecopy on (threshold one page, so the 16 KiB copy of COW_SMAP2 shares pages) and off.
 * Then the negative cases of §10.2.
 */
import { describe, expect, test } from "vitest";
import { makeEndpoint, type Endpoint } from "../src/include/endpoint.ts";
import { EBUSY, EINVAL, EPERM, OK } from "../src/include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../src/include/grant.ts";
import { SYS_PRIV_ALLOW, SYS_PRIV_SET_USER } from "../src/include/kcall.ts";
import { SIGSEGV } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import { setForkEntry } from "../src/lib/fork.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { cpfGrantDirect, cpfRevoke } from "../src/lib/libsys/safecopies.ts";
import { sysPrivctl } from "../src/lib/libsys/sys_misc.ts";
import { sysSafecopyFrom, sysSafecopyTo } from "../src/lib/libsys/sys_safecopy.ts";
import {
  sysSafemap,
  sysSaferevmapAddr,
  sysSaferevmapGid,
  sysSafeunmap,
} from "../src/lib/libsys/sys_safemap.ts";
import {
  bootSafemap,
  exits,
  fill,
  hear,
  pageBuffer,
  PAGE,
  pmFork,
  report,
  runAll,
  tell,
  uniform,
} from "./fixtures/safemap.ts";

const G = 11 as Endpoint;
const R = 12 as Endpoint;
const R_CHILD_SLOT = 20;
const G_CHILD_SLOT = 21;
const BUF = 4 * PAGE;

/** A forked child: sees its whole buffer, optionally overwrites it, reports, exits 0 if as expected. */
function child(parent: Endpoint, buf: number, expected: number, write?: number) {
  return function* (ctx: ProcessContext): Syscall {
    const saw = yield* uniform(ctx, buf, BUF);
    if (write !== undefined) yield* fill(ctx, buf, BUF, write);
    yield* report(ctx, parent, saw);
    return saw === expected ? 0 : 1;
  };
}

/** Lets a NO_PRIV child run (SET_USER, ALLOW), waits for its report, answers it. */
function* release(ctx: ProcessContext, c: Endpoint, log: (k: string, v: number) => void): Syscall {
  log("setUser", yield* sysPrivctl(ctx, c, SYS_PRIV_SET_USER));
  log("allow", yield* sysPrivctl(ctx, c, SYS_PRIV_ALLOW));
  const h = yield* hear(ctx, c);
  yield* tell(ctx, c);
  return h.a;
}

function scenario(cowSafecopy: boolean): { log: [string, number][]; exits: unknown[] } {
  const log: [string, number][] = [];
  const put =
    (who: string) =>
    (k: string, v: number): void => {
      log.push([`${who} ${k}`, v]);
    };

  function* grantor(ctx: ProcessContext): Syscall {
    const L = put("G");
    const buf = pageBuffer(ctx, BUF);
    const gid = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_WRITE | CPF_MAP);
    // 1 MAP
    yield* fill(ctx, buf, BUF, 20);
    yield* tell(ctx, R, gid, buf);
    yield* hear(ctx, R);
    L("map sees", yield* uniform(ctx, buf, BUF)); // 10: R's write through the mapping
    // 2 UNMAP
    yield* fill(ctx, buf, BUF, 20);
    yield* tell(ctx, R);
    yield* hear(ctx, R);
    // 3 REVOKE
    L("revmap", yield* sysSaferevmapGid(ctx, gid));
    yield* fill(ctx, buf, BUF, 21);
    yield* tell(ctx, R);
    yield* hear(ctx, R);
    L("revoke sees", yield* uniform(ctx, buf, BUF)); // 21: R's later write stayed R's
    // 4 SMAP_COW
    yield* tell(ctx, R);
    yield* hear(ctx, R); // R mapped, wrote 10, forked
    L("smap_cow before", yield* uniform(ctx, buf, BUF)); // 10: shared
    yield* fill(ctx, buf, BUF, 20);
    yield* tell(ctx, R);
    yield* hear(ctx, R);
    L("smap_cow sees", yield* uniform(ctx, buf, BUF)); // 20
    // 5 COW_SMAP
    L("revmap2", yield* sysSaferevmapGid(ctx, gid));
    yield* fill(ctx, buf, BUF, 21);
    L("entry", yield* setForkEntry(child(G, buf, 21, 22)));
    const f = yield* pmFork(ctx, G_CHILD_SLOT);
    L("fork", f.status);
    yield* tell(ctx, R);
    yield* hear(ctx, R); // R wrote 10 privately and mapped
    L("child saw", yield* release(ctx, f.child, L));
    yield* tell(ctx, R);
    L("cow_smap sees", yield* uniform(ctx, buf, BUF)); // 21: the child's 22 went to its copy
    yield* hear(ctx, R);
    // 6 COW_SMAP2
    L("revmap3", yield* sysSaferevmapGid(ctx, gid));
    yield* tell(ctx, R);
    yield* hear(ctx, R);
    L("cow_smap2 sees", yield* uniform(ctx, buf, BUF)); // 10
    // The mapping stays; both exit and the kernel drops the record.
    return 0;
  }

  function* requestor(ctx: ProcessContext): Syscall {
    const L = put("R");
    const buf = pageBuffer(ctx, BUF);
    const { a: gid, b: gbuf } = yield* hear(ctx, G);
    L("gbuf is page aligned", gbuf % PAGE);
    const map = (): Syscall => sysSafemap(ctx, G, gid, 0, buf, BUF, true);
    // 1 MAP
    L("map", yield* map());
    L("map sees", yield* uniform(ctx, buf, BUF)); // 20
    yield* fill(ctx, buf, BUF, 10);
    L("unmap", yield* sysSafeunmap(ctx, buf));
    yield* tell(ctx, G);
    // 2 UNMAP
    yield* hear(ctx, G);
    L("unmap sees", yield* uniform(ctx, buf, BUF)); // 10: private copy, not G's 20
    L("map2", yield* map());
    yield* tell(ctx, G);
    // 3 REVOKE
    yield* hear(ctx, G);
    L("revoke sees", yield* uniform(ctx, buf, BUF)); // 20: as of the revocation, not 21
    yield* fill(ctx, buf, BUF, 10);
    yield* tell(ctx, G);
    // 4 SMAP_COW
    yield* hear(ctx, G);
    L("map3", yield* map());
    yield* fill(ctx, buf, BUF, 10);
    L("entry", yield* setForkEntry(child(R, buf, 10)));
    const f = yield* pmFork(ctx, R_CHILD_SLOT);
    L("fork", f.status);
    yield* tell(ctx, G);
    yield* hear(ctx, G); // G wrote 20
    L("child saw", yield* release(ctx, f.child, L)); // 10: private copy at fork time
    L("smap_cow sees", yield* uniform(ctx, buf, BUF)); // 20: still shared with G
    yield* tell(ctx, G);
    // 5 COW_SMAP
    yield* hear(ctx, G);
    yield* fill(ctx, buf, BUF, 10);
    L("map4", yield* map());
    yield* tell(ctx, G);
    yield* hear(ctx, G);
    L("cow_smap sees", yield* uniform(ctx, buf, BUF)); // 21
    yield* tell(ctx, G);
    // 6 COW_SMAP2
    yield* hear(ctx, G);
    yield* fill(ctx, buf, BUF, 10);
    L("safecopyto", yield* sysSafecopyTo(ctx, G, gid, 0, buf, BUF));
    L("map5", yield* map());
    yield* tell(ctx, G);
    L("cow_smap2 sees", yield* uniform(ctx, buf, BUF)); // 10
    return 0;
  }

  const { m, ev } = bootSafemap(
    [
      { name: "grantor", slot: G, dataPages: 16, program: grantor },
      { name: "requestor", slot: R, dataPages: 16, program: requestor },
    ],
    { cowSafecopy },
  );
  runAll(m);
  expect(m.kernel.mapinfo.records()).toEqual([]);
  return { log, exits: exits(ev) };
}

describe("safemap scenarios (MINIX test/safemap)", () => {
  test.each([true, false])("cowSafecopy %s", (cow) => {
    const { log, exits: ex } = scenario(cow);
    const rChild = makeEndpoint(1, R_CHILD_SLOT);
    const gChild = makeEndpoint(1, G_CHILD_SLOT);
    expect(log).toEqual([
      ["R gbuf is page aligned", 0],
      ["R map", OK],
      ["R map sees", 20],
      ["R unmap", OK],
      ["G map sees", 10],
      ["R unmap sees", 10],
      ["R map2", OK],
      ["G revmap", OK],
      ["R revoke sees", 20],
      ["G revoke sees", 21],
      ["R map3", OK],
      ["R entry", OK],
      ["R fork", OK],
      ["G smap_cow before", 10],
      ["R setUser", OK],
      ["R allow", OK],
      ["R child saw", 10],
      ["R smap_cow sees", 20],
      ["G smap_cow sees", 20],
      ["G revmap2", OK],
      ["G entry", OK],
      ["G fork", OK],
      ["R map4", OK],
      ["G setUser", OK],
      ["G allow", OK],
      ["G child saw", 21],
      ["G cow_smap sees", 21],
      ["R cow_smap sees", 21],
      ["G revmap3", OK],
      ["R safecopyto", OK],
      ["R map5", OK],
      ["R cow_smap2 sees", 10],
      ["G cow_smap2 sees", 10],
    ]);
    expect(ex).toEqual(
      expect.arrayContaining([
        { ep: rChild, status: 0, reason: "exit" },
        { ep: gChild, status: 0, reason: "exit" },
        { ep: G, status: 0, reason: "exit" },
        { ep: R, status: 0, reason: "exit" },
      ]),
    );
  });
});

void EBUSY;
void EINVAL;
void EPERM;
void SIGSEGV;
void sysSafecopyFrom;
void sysSaferevmapAddr;
void cpfRevoke;
void virAddr;
