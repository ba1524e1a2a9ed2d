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
import type { Machine } from "../src/boot/machine.ts";
import { makeEndpoint, type Endpoint } from "../src/include/endpoint.ts";
import { EBUSY, EINVAL, EPERM, OK } from "../src/include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../src/include/grant.ts";
import { SIGSEGV } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import { setForkEntry } from "../src/lib/fork.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { cpfGrantDirect, cpfGrantIndirect, cpfRevoke } from "../src/lib/libsys/safecopies.ts";
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
  pmExec,
  pmFork,
  releaseChild,
  report,
  runAll,
  tell,
  uniform,
} from "./fixtures/safemap.ts";
import { logger, type Log } from "./fixtures/grants.ts";

const G = 11 as Endpoint;
const R = 12 as Endpoint;
const R_CHILD_SLOT = 20;
const G_CHILD_SLOT = 21;
const BUF = 4 * PAGE;

/**
 * A forked child: sees its whole buffer, optionally overwrites it, reports, exits 0 if as
 * expected.
 */
function child(parent: Endpoint, buf: number, expected: number, write?: number) {
  return function* (ctx: ProcessContext): Syscall {
    const saw = yield* uniform(ctx, buf, BUF);
    if (write !== undefined) yield* fill(ctx, buf, BUF, write);
    yield* report(ctx, parent, saw);
    return saw === expected ? 0 : 1;
  };
}

/** Lets a NO_PRIV child run, logging the two statuses; what it reported. */
function* release(ctx: ProcessContext, c: Endpoint, log: Log): Syscall {
  const r = yield* releaseChild(ctx, c);
  log("setUser", r.setUser);
  log("allow", r.allow);
  return r.a;
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

/** Runs G and R (each with a 32-page data area) to the end; returns the log and exits. */
function pair(
  grantor: (ctx: ProcessContext, L: Log) => Syscall,
  requestor: (ctx: ProcessContext, L: Log) => Syscall,
  cowSafecopy = true,
): {
  log: Record<string, number>;
  exits: { ep: number; status: number; reason: string }[];
  m: Machine;
} {
  const { log, L } = logger();
  const { m, ev } = bootSafemap(
    [
      { name: "grantor", slot: G, dataPages: 32, program: (ctx) => grantor(ctx, L) },
      { name: "requestor", slot: R, dataPages: 32, program: (ctx) => requestor(ctx, L) },
    ],
    { cowSafecopy },
  );
  runAll(m);
  return { log, exits: exits(ev), m };
}

describe("safemap errors (§10.2 negative cases)", () => {
  test("no CPF_MAP → EPERM; writable without CPF_WRITE → EPERM (read-only OK); unaligned → EINVAL", () => {
    const { log } = pair(
      function* (ctx) {
        const buf = pageBuffer(ctx, BUF);
        const noMap = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_WRITE);
        const ro = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_MAP);
        yield* tell(ctx, R, noMap, ro);
        yield* hear(ctx, R);
        return 0;
      },
      function* (ctx, L) {
        const buf = pageBuffer(ctx, BUF);
        const { a: noMap, b: ro } = yield* hear(ctx, G);
        L("noMap", yield* sysSafemap(ctx, G, noMap, 0, buf, BUF, false));
        L("roWritable", yield* sysSafemap(ctx, G, ro, 0, buf, BUF, true));
        L("unalignedAddr", yield* sysSafemap(ctx, G, ro, 0, virAddr(buf + 8), PAGE, false));
        L("unalignedLen", yield* sysSafemap(ctx, G, ro, 0, buf, PAGE + 1, false));
        L("unalignedGrant", yield* sysSafemap(ctx, G, ro, 100, buf, PAGE, false));
        L("zeroLen", yield* sysSafemap(ctx, G, ro, 0, buf, 0, false));
        L("tooLong", yield* sysSafemap(ctx, G, ro, 0, buf, BUF + PAGE, false));
        L("roOk", yield* sysSafemap(ctx, G, ro, 0, buf, BUF, false));
        L("unmapNothing", yield* sysSafeunmap(ctx, virAddr(buf + PAGE)));
        L("unmap", yield* sysSafeunmap(ctx, buf));
        yield* tell(ctx, G);
        return 0;
      },
    );
    expect(log).toEqual({
      noMap: EPERM,
      roWritable: EPERM,
      unalignedAddr: EINVAL,
      unalignedLen: EINVAL,
      unalignedGrant: EINVAL,
      zeroLen: EINVAL,
      tooLong: EPERM,
      roOk: OK,
      unmapNothing: OK,
      unmap: OK,
    });
  });

  test("the 21st live mapping → EBUSY; one unmapped, the next succeeds; exits drop the records", () => {
    const { log, m } = pair(
      function* (ctx) {
        const buf = pageBuffer(ctx, PAGE);
        const gid = yield* cpfGrantDirect(ctx, R, buf, PAGE, CPF_READ | CPF_WRITE | CPF_MAP);
        yield* tell(ctx, R, gid);
        yield* hear(ctx, R);
        return 0;
      },
      function* (ctx, L) {
        const buf = pageBuffer(ctx, 22 * PAGE);
        const { a: gid } = yield* hear(ctx, G);
        let ok = 0;
        for (let i = 0; i < 20; i++) {
          if ((yield* sysSafemap(ctx, G, gid, 0, virAddr(buf + i * PAGE), PAGE, true)) === OK) ok++;
        }
        L("ok", ok);
        L("21st", yield* sysSafemap(ctx, G, gid, 0, virAddr(buf + 20 * PAGE), PAGE, true));
        L("unmap", yield* sysSafeunmap(ctx, buf));
        L("again", yield* sysSafemap(ctx, G, gid, 0, virAddr(buf + 20 * PAGE), PAGE, true));
        // Twenty shares of one page: a write through one is seen through all.
        yield* fill(ctx, buf + 20 * PAGE, PAGE, 7);
        L("seen", yield* uniform(ctx, buf + 5 * PAGE, PAGE));
        yield* tell(ctx, G);
        return 0;
      },
    );
    expect(log).toEqual({ ok: 20, "21st": EBUSY, unmap: OK, again: OK, seen: 7 });
    expect(m.kernel.mapinfo.records()).toEqual([]);
  });

  test("cpfRevoke of a mapped grant revokes the mapping first: R keeps a private copy, safecopy then EPERM", () => {
    const { log } = pair(
      function* (ctx, L) {
        const buf = pageBuffer(ctx, BUF);
        yield* fill(ctx, buf, BUF, 30);
        const gid = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_WRITE | CPF_MAP);
        yield* tell(ctx, R, gid);
        yield* hear(ctx, R); // mapped and written
        L("G sees R's write", yield* uniform(ctx, buf, BUF));
        L("revoke", yield* cpfRevoke(ctx, gid));
        yield* fill(ctx, buf, BUF, 32);
        yield* tell(ctx, R);
        yield* hear(ctx, R);
        L("G after", yield* uniform(ctx, buf, BUF));
        return 0;
      },
      function* (ctx, L) {
        const buf = pageBuffer(ctx, BUF);
        const { a: gid } = yield* hear(ctx, G);
        L("map", yield* sysSafemap(ctx, G, gid, 0, buf, BUF, true));
        yield* fill(ctx, buf, BUF, 31);
        yield* tell(ctx, G);
        yield* hear(ctx, G);
        L("R keeps", yield* uniform(ctx, buf, BUF));
        yield* fill(ctx, buf, BUF, 33);
        L("copy after revoke", yield* sysSafecopyFrom(ctx, G, gid, 0, buf, PAGE));
        L("map after revoke", yield* sysSafemap(ctx, G, gid, 0, buf, BUF, true));
        yield* tell(ctx, G);
        return 0;
      },
    );
    expect(log).toEqual({
      map: OK,
      "G sees R's write": 31,
      revoke: OK,
      "R keeps": 31,
      "copy after revoke": EPERM,
      "map after revoke": EPERM,
      "G after": 32,
    });
  });

  test("a write into a read-only mapping ends the writer with SIGSEGV; the grantor's data is intact", () => {
    const {
      log,
      exits: ex,
      m,
    } = pair(
      function* (ctx, L) {
        const buf = pageBuffer(ctx, BUF);
        yield* fill(ctx, buf, BUF, 40);
        const gid = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_MAP);
        yield* tell(ctx, R, gid);
        L("R died", (yield* hear(ctx, R)).status);
        L("G data", yield* uniform(ctx, buf, BUF));
        return 0;
      },
      function* (ctx, L) {
        const buf = pageBuffer(ctx, BUF);
        const { a: gid } = yield* hear(ctx, G);
        L("map", yield* sysSafemap(ctx, G, gid, 0, buf, BUF, false));
        L("sees", yield* uniform(ctx, buf, BUF));
        yield* fill(ctx, buf + PAGE, 1, 41);
        L("survived", 1);
        return 0;
      },
    );
    expect(log["map"]).toBe(OK);
    expect(log["sees"]).toBe(40);
    expect(log["survived"]).toBeUndefined();
    expect(log["R died"]).toBeLessThan(0);
    expect(log["G data"]).toBe(40);
    expect(ex).toContainEqual({ ep: R, status: -SIGSEGV, reason: `signal ${SIGSEGV}` });
    expect(m.kernel.mapinfo.records()).toEqual([]);
  });

  test("saferevmap by address; the grantee's death drops its record; the grantor's death leaves the grantee its data", () => {
    const { log } = pair(
      function* (ctx, L) {
        const buf = pageBuffer(ctx, BUF);
        yield* fill(ctx, buf, BUF, 50);
        const gid = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_WRITE | CPF_MAP);
        yield* tell(ctx, R, gid, buf);
        yield* hear(ctx, R);
        L("revByAddr", yield* sysSaferevmapAddr(ctx, buf));
        L("revNone", yield* sysSaferevmapAddr(ctx, buf));
        yield* fill(ctx, buf, BUF, 51);
        yield* tell(ctx, R);
        yield* hear(ctx, R); // R mapped again
        return 0; // G dies with a live mapping
      },
      function* (ctx, L) {
        const buf = pageBuffer(ctx, BUF);
        const { a: gid } = yield* hear(ctx, G);
        L("map", yield* sysSafemap(ctx, G, gid, 0, buf, BUF, true));
        yield* tell(ctx, G);
        yield* hear(ctx, G);
        L("after revoke", yield* uniform(ctx, buf, BUF));
        L("map2", yield* sysSafemap(ctx, G, gid, 0, buf, BUF, true));
        yield* tell(ctx, G);
        // G is gone now (it exits after receiving): R's pages are its own.
        const r = yield* hear(ctx, G);
        L("G gone", r.status);
        L("R keeps", yield* uniform(ctx, buf, BUF));
        yield* fill(ctx, buf, BUF, 52);
        L("R writes", yield* uniform(ctx, buf, BUF));
        L("unmap dead", yield* sysSafeunmap(ctx, buf));
        return 0;
      },
    );
    expect(log["map"]).toBe(OK);
    expect(log["revByAddr"]).toBe(OK);
    expect(log["revNone"]).toBe(OK);
    expect(log["after revoke"]).toBe(50);
    expect(log["map2"]).toBe(OK);
    expect(log["G gone"]).toBeLessThan(0);
    expect(log["R keeps"]).toBe(51);
    expect(log["R writes"]).toBe(52);
    expect(log["unmap dead"]).toBe(OK);
  });

  test.each([
    ["a saferevmap", "revmap", OK],
    ["a cpfRevoke", "revoke", EPERM],
    ["the grantor's exit", "exit", EINVAL],
  ] as const)(
    "%s while VM is still mapping: no record is left once VM is done",
    (_name, what, want) => {
      const { log, L } = logger();
      const { m } = bootSafemap(
        [
          {
            name: "grantor",
            slot: G,
            priority: 5,
            dataPages: 16,
            program: function* (ctx) {
              const buf = pageBuffer(ctx, BUF);
              yield* fill(ctx, buf, BUF, 60);
              const gid = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_WRITE | CPF_MAP);
              yield* tell(ctx, R, gid);
              yield* hear(ctx, R); // R is about to map; VM (lower priority) has not run yet
              if (what === "exit") return 0; // its records go with it
              L("revmap", yield* sysSaferevmapGid(ctx, gid));
              if (what === "revoke") L("revoke", yield* cpfRevoke(ctx, gid));
              yield* hear(ctx, R);
              L("G keeps", yield* uniform(ctx, buf, BUF));
              return 0;
            },
          },
          {
            name: "requestor",
            slot: R,
            // Ahead of G: after waking G it goes on into SYS_SAFEMAP; G runs while R waits
            // for VM, which is behind both.
            priority: 4,
            dataPages: 16,
            program: function* (ctx) {
              const buf = pageBuffer(ctx, BUF);
              // Touch everything the map call uses, so that nothing suspends R before it.
              yield* sysSafeunmap(ctx, buf);
              yield* fill(ctx, buf, BUF, 0);
              const { a: gid } = yield* hear(ctx, G);
              yield* tell(ctx, G);
              L("map", yield* sysSafemap(ctx, G, gid, 0, buf, BUF, true));
              L("R sees", yield* uniform(ctx, buf, BUF));
              yield* fill(ctx, buf, BUF, 61);
              yield* tell(ctx, G);
              return 0;
            },
          },
        ],
        { vmPriority: 10 },
      );
      runAll(m);
      expect(log).toEqual({
        ...(what === "exit" ? {} : { revmap: OK, "G keeps": 60 }),
        ...(what === "revoke" ? { revoke: OK } : {}),
        map: want,
        // After the exit too: VM did map, but the kernel keeps no record of it (EINVAL).
        "R sees": 60,
      });
      expect(m.kernel.mapinfo.records()).toEqual([]);
    },
  );

  test("exec of a grantee drops its records; the grantor's later writes reach nobody", () => {
    const { log, L } = logger();
    const { m } = bootSafemap(
      [
        {
          name: "grantor",
          slot: G,
          dataPages: 16,
          program: function* (ctx) {
            const buf = pageBuffer(ctx, BUF);
            yield* fill(ctx, buf, BUF, 70);
            const gid = yield* cpfGrantDirect(ctx, R, buf, BUF, CPF_READ | CPF_WRITE | CPF_MAP);
            yield* tell(ctx, R, gid);
            const h = yield* hear(ctx, R); // from R's new image
            L("heard", h.a);
            L("records", m.kernel.mapinfo.records().length);
            L("revmap", yield* sysSaferevmapGid(ctx, gid));
            yield* fill(ctx, buf, BUF, 71);
            yield* tell(ctx, R);
            return 0;
          },
        },
        {
          name: "requestor",
          slot: R,
          dataPages: 16,
          program: function* (ctx) {
            const buf = pageBuffer(ctx, BUF);
            const { a: gid } = yield* hear(ctx, G);
            L("map", yield* sysSafemap(ctx, G, gid, 0, buf, BUF, true));
            L("records before", m.kernel.mapinfo.records().length);
            L("exec", yield* pmExec(ctx)); // only on failure
            return 1;
          },
        },
      ],
      {
        exec: function* (ctx) {
          // The new image: its data area starts demand-zero again.
          const buf = pageBuffer(ctx, BUF);
          yield* tell(ctx, G, 1);
          yield* hear(ctx, G);
          L("new image sees", yield* uniform(ctx, buf, BUF));
          return 0;
        },
      },
    );
    runAll(m);
    expect(log).toEqual({
      map: OK,
      "records before": 1,
      heard: 1,
      records: 0,
      revmap: OK,
      "new image sees": 0,
    });
  });

  test("through an indirect grant: the record names the final granter; safeunmap re-verifies through the chain; revocation by address works, by the final granter's own id does not", () => {
    const M = 13 as Endpoint;
    const { log, L } = logger();
    const { m } = bootSafemap([
      {
        name: "grantor",
        slot: G,
        dataPages: 16,
        program: function* (ctx) {
          const buf = pageBuffer(ctx, BUF);
          yield* fill(ctx, buf, BUF, 80);
          const gid = yield* cpfGrantDirect(ctx, M, buf, BUF, CPF_READ | CPF_WRITE | CPF_MAP);
          yield* tell(ctx, M, gid);
          yield* hear(ctx, R); // R mapped through M and unmapped, then mapped again
          L("revmap own gid", yield* sysSaferevmapGid(ctx, gid));
          L("records after gid", m.kernel.mapinfo.records().length);
          L("revmap addr", yield* sysSaferevmapAddr(ctx, buf));
          L("records after addr", m.kernel.mapinfo.records().length);
          yield* fill(ctx, buf, BUF, 81);
          yield* tell(ctx, R);
          return 0;
        },
      },
      {
        name: "middle",
        slot: M,
        dataPages: 16,
        program: function* (ctx) {
          const { a: gid } = yield* hear(ctx, G);
          // A grant first, so that M's id for R differs from G's own id (ids are per table;
          // saferevmap by id compares the id R presented, MINIX-SPEC §4.6).
          yield* cpfGrantDirect(ctx, R, pageBuffer(ctx, PAGE), PAGE, CPF_READ);
          const ind = yield* cpfGrantIndirect(ctx, R, G, gid);
          yield* tell(ctx, R, ind);
          yield* hear(ctx, R); // keeps its grant table alive until R is done
          return 0;
        },
      },
      {
        name: "requestor",
        slot: R,
        dataPages: 16,
        program: function* (ctx) {
          const buf = pageBuffer(ctx, BUF);
          const { a: ind } = yield* hear(ctx, M);
          L("map", yield* sysSafemap(ctx, M, ind, 0, buf, BUF, true));
          const rec = m.kernel.mapinfo.records()[0];
          L("record grantor is G", rec?.grantor === G ? 1 : 0);
          L("sees", yield* uniform(ctx, buf, BUF));
          L("unmap", yield* sysSafeunmap(ctx, buf));
          L("map2", yield* sysSafemap(ctx, M, ind, 0, buf, BUF, true));
          yield* tell(ctx, G);
          yield* hear(ctx, G);
          L("after revoke", yield* uniform(ctx, buf, BUF));
          yield* tell(ctx, M);
          return 0;
        },
      },
    ]);
    runAll(m);
    expect(log).toEqual({
      map: OK,
      "record grantor is G": 1,
      sees: 80,
      unmap: OK,
      map2: OK,
      "revmap own gid": OK,
      "records after gid": 1,
      "revmap addr": OK,
      "records after addr": 0,
      "after revoke": 80,
    });
  });
});
