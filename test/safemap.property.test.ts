/**
 * Property: random safemap / safeunmap / saferevmap (by grant and by address) / cpfRevoke /
 * writes / COW and plain safecopies in both directions / forks of either side, executed by a
 * grantor G (4 pages) and a requestor R (8 pages), against a model of what every page of
 * each process holds and which requestor pages share a grantor page. After every operation
 * both processes read all their pages and must see exactly the model's bytes (nobody sees
 * bytes no grant allowed); the kernel's invariants are checked after every step and VM's
 * sanity checks after every VM request. Forked children check their whole copy too.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Endpoint } from "../src/include/endpoint.ts";
import { EBUSY, EFAULT, OK } from "../src/include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../src/include/grant.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import { setForkEntry } from "../src/lib/fork.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { cpfGrantDirect, cpfRevoke } from "../src/lib/libsys/safecopies.ts";
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
  releaseChild,
  report,
  runAll,
  tell,
  uniform,
} from "./fixtures/safemap.ts";

const G = 11 as Endpoint;
const R = 12 as Endpoint;
const C = 13 as Endpoint;
const GN = 4;
const RN = 8;
const MAX_FORKS = 6;

type Op =
  | { op: "gwrite"; p: number; v: number }
  | { op: "rwrite"; p: number; v: number }
  | { op: "map"; s: number; c: number; gs: number; w: boolean }
  | { op: "unmap"; s: number }
  | { op: "revmap" }
  | { op: "revaddr"; gs: number }
  | { op: "regrant" }
  | { op: "copyfrom"; s: number; c: number; gs: number }
  | { op: "copyto"; s: number; c: number; gs: number }
  | { op: "forkR" }
  | { op: "forkG" };

const page = (n: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: n - 1 });
const val = fc.integer({ min: 1, max: 255 });
const span = fc
  .record({ s: page(RN), gs: page(GN), c: fc.integer({ min: 1, max: GN }) })
  .map(({ s, gs, c }) => ({ s, gs, c: Math.min(c, GN - gs, RN - s) }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("gwrite" as const), p: page(GN), v: val }),
  fc.record({ op: fc.constant("rwrite" as const), p: page(RN), v: val }),
  fc.tuple(span, fc.boolean()).map(([x, w]) => ({ op: "map" as const, ...x, w })),
  fc.record({ op: fc.constant("unmap" as const), s: page(RN) }),
  fc.constant({ op: "revmap" as const }),
  fc.record({ op: fc.constant("revaddr" as const), gs: page(GN) }),
  fc.constant({ op: "regrant" as const }),
  span.map((x) => ({ op: "copyfrom" as const, ...x })),
  span.map((x) => ({ op: "copyto" as const, ...x })),
  fc.constant({ op: "forkR" as const }),
  fc.constant({ op: "forkG" as const }),
);

interface Link {
  g: number;
  w: boolean;
}
interface Rec {
  s: number;
  gs: number;
  c: number;
}

/** What every page holds and which requestor pages share which grantor page. */
class Model {
  readonly gv = new Array<number>(GN).fill(0);
  readonly rv = new Array<number>(RN).fill(0);
  readonly link = new Array<Link | null>(RN).fill(null);
  records: Rec[] = [];

  gwrite(p: number, v: number): void {
    this.gv[p] = v;
    for (let q = 0; q < RN; q++) if (this.link[q]?.g === p) this.rv[q] = v;
  }

  /** False if the page is a read-only mapping (the write would fault). */
  rwrite(q: number, v: number): boolean {
    const l = this.link[q];
    if (l === null || l === undefined) {
      this.rv[q] = v;
      return true;
    }
    if (!l.w) return false;
    this.gwrite(l.g, v);
    return true;
  }

  map(s: number, c: number, gs: number, w: boolean): number {
    if (this.records.length >= 20) return EBUSY;
    for (let k = 0; k < c; k++) {
      this.link[s + k] = { g: gs + k, w };
      this.rv[s + k] = this.gv[gs + k]!;
    }
    this.records.push({ s, gs, c });
    return OK;
  }

  unmapRecords(pick: (r: Rec) => boolean): void {
    for (const r of this.records.filter(pick)) {
      for (let k = 0; k < r.c; k++)
        if (this.link[r.s + k]?.g === r.gs + k) this.link[r.s + k] = null;
    }
    this.records = this.records.filter((r) => !pick(r));
  }

  /** Whether the copy between R pages [s, s+c) and G pages [gs, gs+c) aliases itself. */
  aliased(s: number, c: number, gs: number): boolean {
    for (let k = 0; k < c; k++) {
      const g = this.link[s + k]?.g;
      if (g !== undefined && g >= gs && g < gs + c) return true;
    }
    return false;
  }
}

/** Runs the ops; returns the mismatches and statuses seen (expected: none). */
function runOps(ops: readonly Op[], cow: boolean): string[] {
  const model = new Model();
  const problems: string[] = [];
  const bufs = { g: 0, r: 0 };
  let gid = -1;
  let forks = 0;
  const expectEq = (what: string, got: number, want: number): void => {
    if (got !== want) problems.push(`${what}: got ${got}, want ${want}`);
  };

  /** A forked child: checks its pages against `want`, optionally overwrites them, reports. */
  const childOf = (parent: Endpoint, buf: number, want: number[], write: boolean) =>
    function* (ctx: ProcessContext): Syscall {
      let bad = 0;
      for (let i = 0; i < want.length; i++) {
        if ((yield* uniform(ctx, buf + i * PAGE, PAGE)) !== want[i]) bad++;
      }
      if (write) yield* fill(ctx, buf, want.length * PAGE, 0x99);
      yield* report(ctx, parent, bad);
      return bad === 0 ? 0 : 1;
    };

  function* forkAndCheck(ctx: ProcessContext, prog: (c: ProcessContext) => Syscall): Syscall {
    yield* setForkEntry(prog);
    const f = yield* pmFork(ctx, 20 + forks);
    forks++;
    if (f.status !== OK) return f.status;
    const h = yield* releaseChild(ctx, f.child);
    return h.a === 0 ? OK : -1000 - h.a;
  }

  /** G's and R's command loop: receive an op index from C, execute, answer a status. */
  function* actor(ctx: ProcessContext, me: "g" | "r"): Syscall {
    const buf = pageBuffer(ctx, (me === "g" ? GN : RN) * PAGE);
    bufs[me] = buf;
    if (me === "g")
      gid = yield* cpfGrantDirect(ctx, R, buf, GN * PAGE, CPF_READ | CPF_WRITE | CPF_MAP);
    for (;;) {
      const h = yield* hear(ctx, C);
      if (h.status !== OK || h.a === 0xffff) return 0;
      let status = OK;
      if (h.a === 0xfffe) {
        // Dump: every page's uniform value, checked against the model here.
        const want = me === "g" ? model.gv : model.rv;
        for (let i = 0; i < want.length; i++) {
          expectEq(`${me} page ${i}`, yield* uniform(ctx, buf + i * PAGE, PAGE), want[i]!);
        }
      } else {
        const o = ops[h.a]!;
        status = yield* execute(ctx, o, buf, h.b);
      }
      yield* tell(ctx, C, status >>> 0);
    }
  }

  function* execute(ctx: ProcessContext, o: Op, buf: number, extra: number): Syscall {
    const gbuf = bufs.g;
    switch (o.op) {
      case "gwrite":
      case "rwrite":
        yield* fill(ctx, buf + o.p * PAGE, PAGE, o.v);
        return OK;
      case "map":
        return yield* sysSafemap(
          ctx,
          G,
          gid,
          o.gs * PAGE,
          virAddr(buf + o.s * PAGE),
          o.c * PAGE,
          o.w,
        );
      case "unmap":
        return yield* sysSafeunmap(ctx, virAddr(buf + o.s * PAGE));
      case "revmap":
        return yield* sysSaferevmapGid(ctx, gid);
      case "revaddr":
        return yield* sysSaferevmapAddr(ctx, virAddr(gbuf + o.gs * PAGE));
      case "regrant": {
        const r = yield* cpfRevoke(ctx, gid);
        gid = yield* cpfGrantDirect(
          ctx,
          R,
          virAddr(buf),
          GN * PAGE,
          CPF_READ | CPF_WRITE | CPF_MAP,
        );
        return r;
      }
      case "copyfrom":
        return yield* sysSafecopyFrom(
          ctx,
          G,
          gid,
          o.gs * PAGE,
          virAddr(buf + o.s * PAGE),
          o.c * PAGE,
        );
      case "copyto":
        return yield* sysSafecopyTo(
          ctx,
          G,
          gid,
          o.gs * PAGE,
          virAddr(buf + o.s * PAGE),
          o.c * PAGE,
        );
      case "forkR":
        return yield* forkAndCheck(ctx, childOf(R, buf, model.rv.slice(), extra !== 0));
      case "forkG":
        return yield* forkAndCheck(ctx, childOf(G, buf, model.gv.slice(), true));
    }
  }

  /** The coordinator: one op at a time, the model updated, then both sides dump. */
  function* coordinator(ctx: ProcessContext): Syscall {
    const ask = function* (who: Endpoint, a: number, b = 0): Syscall {
      yield* tell(ctx, who, a, b);
      return (yield* hear(ctx, who)).a | 0;
    };
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i]!;
      let want: number | undefined = OK;
      let who: Endpoint = R;
      switch (o.op) {
        case "gwrite":
          who = G;
          model.gwrite(o.p, o.v);
          break;
        case "rwrite":
          if (!model.rwrite(o.p, o.v)) want = undefined; // would fault: skipped
          break;
        case "map":
          want = model.map(o.s, o.c, o.gs, o.w);
          break;
        case "unmap":
          model.unmapRecords((r) => r.s === o.s);
          break;
        case "revmap":
        case "regrant":
          who = G;
          model.unmapRecords(() => true);
          break;
        case "revaddr":
          who = G;
          model.unmapRecords((r) => r.gs === o.gs);
          break;
        case "copyfrom": {
          if (model.aliased(o.s, o.c, o.gs)) {
            want = undefined;
            break;
          }
          for (let k = 0; k < o.c; k++) {
            if (!model.rwrite(o.s + k, model.gv[o.gs + k]!)) {
              want = EFAULT;
              break;
            }
          }
          break;
        }
        case "copyto":
          if (model.aliased(o.s, o.c, o.gs)) want = undefined;
          else for (let k = 0; k < o.c; k++) model.gwrite(o.gs + k, model.rv[o.s + k]!);
          break;
        case "forkR":
        case "forkG":
          who = o.op === "forkR" ? R : G;
          if (forks >= MAX_FORKS) want = undefined;
          break;
      }
      if (want === undefined) continue;
      expectEq(`op ${i} ${JSON.stringify(o)}`, yield* ask(who, i, i % 2), want);
      yield* ask(G, 0xfffe);
      yield* ask(R, 0xfffe);
      if (problems.length > 0) break;
    }
    yield* tell(ctx, G, 0xffff);
    yield* tell(ctx, R, 0xffff);
    return 0;
  }

  const { m, ev } = bootSafemap(
    [
      { name: "grantor", slot: G, dataPages: 16, program: (ctx) => actor(ctx, "g") },
      { name: "requestor", slot: R, dataPages: 16, program: (ctx) => actor(ctx, "r") },
      { name: "coord", slot: C, dataPages: 4, priority: 7, program: coordinator },
    ],
    { cowSafecopy: cow },
  );
  runAll(m);
  const bad = exits(ev).filter((e) => e.reason !== "exit" || e.status !== 0);
  for (const e of bad) problems.push(`exit ${e.ep}: ${e.reason} ${e.status}`);
  if (m.kernel.mapinfo.records().length !== 0) problems.push("records left after exit");
  return problems;
}

describe("safemap property", () => {
  test("random map/unmap/revoke/write/copy/fork: every page as modelled, invariants hold", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.boolean(), (ops, cow) => {
        expect(runOps(ops, cow)).toEqual([]);
      }),
      { numRuns: 60, seed: 4 },
    );
  }, 120_000);
});
