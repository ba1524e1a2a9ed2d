/**
 * Property: every sequence of publish / retrieve / delete of u32 and string values, by two
 * clients, through the real DS (IPC, key grants, safecopies), gives the results a plain map
 * predicts; a subscriber to every u32/str key then finds exactly the entries changed and not
 * deleted since it subscribed, each once.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EEXIST, EPERM, ESRCH, OK } from "../src/include/errno.ts";
import { DSF_OVERWRITE, DSF_TYPE_STR, DSF_TYPE_U32, type DsType } from "../src/include/ds.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import {
  dsCheck,
  dsDelete,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveStr,
  dsRetrieveU32,
  dsSubscribe,
} from "../src/lib/libsys/ds.ts";
import { receive, send } from "../src/lib/ipc.ts";
import { malloc } from "../src/lib/runtime.ts";
import type { Endpoint } from "../src/include/endpoint.ts";
import { bootNamed, client, settle } from "./fixtures/ds.ts";

type Cmd =
  | { op: "pub"; who: 0 | 1; type: DsType; key: string; value: string; overwrite: boolean }
  | { op: "get"; who: 0 | 1; type: DsType; key: string }
  | { op: "del"; who: 0 | 1; type: DsType; key: string };

const KEYS = ["a", "b", "a.b", "long.key.name"];
const who = fc.constantFrom<0 | 1>(0, 1);
const type = fc.constantFrom<DsType>(DSF_TYPE_U32, DSF_TYPE_STR);
const key = fc.constantFrom(...KEYS);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    op: fc.constant("pub" as const),
    who,
    type,
    key,
    value: fc.string({ maxLength: 12 }).map((s) => s.replace(/\0/g, "")),
    overwrite: fc.boolean(),
  }),
  fc.record({ op: fc.constant("get" as const), who, type, key }),
  fc.record({ op: fc.constant("del" as const), who, type, key }),
);

/** What DS should answer, and the subscriber's pending set, by a map of (type, key). */
function model(cmds: readonly Cmd[]): { results: unknown[]; pending: Set<string> } {
  const store = new Map<string, { owner: number; value: string }>();
  const pending = new Set<string>();
  const results: unknown[] = [];
  for (const c of cmds) {
    const id = `${c.type}:${c.key}`;
    const e = store.get(id);
    if (c.op === "pub") {
      if (e !== undefined && !c.overwrite) results.push(EEXIST);
      else {
        store.set(id, { owner: c.who, value: c.value }); // the last publisher owns it (§5.4)
        pending.add(id);
        results.push(OK);
      }
    } else if (c.op === "get") {
      results.push(e === undefined ? { status: ESRCH } : { status: OK, value: e.value });
    } else if (e === undefined) {
      results.push(ESRCH);
    } else if (e.owner !== c.who) {
      results.push(EPERM);
    } else {
      store.delete(id);
      pending.delete(id);
      results.push(OK);
    }
  }
  return { results, pending };
}

function u32Of(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

describe("DS against a model map", () => {
  test("publish / retrieve / delete / check through IPC and grants", () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 10, maxLength: 40 }), (cmds) => {
        const results: unknown[] = [];
        const seen = new Set<string>();
        const twice: string[] = [];
        let done = false;
        function* run(ctx: ProcessContext, c: Cmd): Syscall<unknown> {
          if (c.op === "pub") {
            const flags = c.overwrite ? DSF_OVERWRITE : 0;
            return c.type === DSF_TYPE_U32
              ? yield* dsPublishU32(ctx, c.key, u32Of(c.value), flags)
              : yield* dsPublishStr(ctx, c.key, c.value, flags);
          }
          if (c.op === "get") {
            if (c.type === DSF_TYPE_U32) {
              const r = yield* dsRetrieveU32(ctx, c.key);
              return r.status === OK ? { status: OK, value: r.value } : { status: r.status };
            }
            const r = yield* dsRetrieveStr(ctx, c.key);
            return r.status === OK ? { status: OK, value: r.value } : { status: r.status };
          }
          return yield* dsDelete(ctx, c.key, c.type);
        }
        // Client 0 drives: it runs its own commands and hands client 1's to it.
        const c0 = client("c0", 11, function* (ctx) {
          const va = malloc(ctx, 64, 64);
          yield* receive(13 as Endpoint, va); // the subscriber is ready
          for (let i = 0; i < cmds.length; i++) {
            const c = cmds[i]!;
            if (c.who === 1) {
              yield* send(12 as Endpoint, va);
              yield* receive(12 as Endpoint, va);
            } else {
              results[i] = yield* run(ctx, c);
            }
          }
          done = true;
          yield* send(13 as Endpoint, va);
        });
        const c1 = client("c1", 12, function* (ctx) {
          const va = malloc(ctx, 64, 64);
          let i = 0;
          for (;;) {
            yield* receive(11 as Endpoint, va);
            while (cmds[i]!.who !== 1) i++;
            results[i] = yield* run(ctx, cmds[i]!);
            i++;
            yield* send(11 as Endpoint, va);
          }
        });
        const sub = client("sub", 13, function* (ctx) {
          const va = malloc(ctx, 64, 64);
          expect(yield* dsSubscribe(ctx, ".*", DSF_TYPE_U32 | DSF_TYPE_STR)).toBe(OK);
          yield* send(11 as Endpoint, va);
          yield* receive(11 as Endpoint, va); // c0 is done
          for (let c = yield* dsCheck(ctx); c.status === OK; c = yield* dsCheck(ctx)) {
            const id = `${c.type}:${c.key}`;
            if (seen.has(id)) twice.push(id);
            seen.add(id);
          }
        });
        const m = bootNamed([c0, c1, sub], { c0: 11, c1: 12, sub: 13 });
        settle(m);
        expect(done).toBe(true);
        const want = model(cmds);
        const u32ify = want.results.map((r, i) => {
          const c = cmds[i]!;
          if (c.op === "get" && c.type === DSF_TYPE_U32 && typeof r === "object" && r !== null) {
            const v = r as { status: number; value?: string };
            return v.value === undefined ? v : { status: OK, value: u32Of(v.value) };
          }
          return r;
        });
        expect(results).toEqual(u32ify);
        expect(twice).toEqual([]);
        expect([...seen].sort()).toEqual([...want.pending].sort());
      }),
      { numRuns: 40, seed: 6 },
    );
  });
});
