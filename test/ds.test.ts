/**
 * MINIX test/ds (MINIX-SPEC §10.4) as a scenario: `dstest` goes through u32, str (the 2012
 * version: strings are blobs), mem, map and label (the 2012 version: only RS publishes
 * labels) against the real DS, while `subs` subscribes to test_u32 and logs every change it is
 * told about. The overwrite and the delete of test_u32 come back to back, so the subscriber
 * may see 4321 before "key was deleted", or only the deletion: both orders are accepted.
 */
import { describe, expect, test } from "vitest";
import { type Endpoint } from "../src/include/endpoint.ts";
import { EEXIST, EPERM, ESRCH, OK } from "../src/include/errno.ts";
import {
  DSF_OVERWRITE,
  DSMF_COPY_MAPPED,
  DSMF_COPY_SNAPSHOT,
  DSMF_MAP_MAPPED,
} from "../src/include/ds.ts";
import type { CpuPort, ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import {
  dsDeleteLabel,
  dsDeleteMap,
  dsDeleteMem,
  dsDeleteStr,
  dsDeleteU32,
  dsPublishLabel,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveLabelEndpt,
  dsRetrieveLabelName,
  dsRetrieveMap,
  dsRetrieveMem,
  dsRetrieveStr,
  dsRetrieveU32,
  dsSnapshotMap,
} from "../src/lib/libsys/ds.ts";
import { sysWhoami } from "../src/lib/libsys/sys_getinfo.ts";
import { load, store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { bootDs, PAGE, pages, service, settle, sleep, subscriber } from "./fixtures/ds.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Every result of dstest, by step: [what, got, expected]. */
type Steps = [string, unknown, unknown][];

function* u32(ctx: ProcessContext, steps: Steps): Syscall<void> {
  steps.push(["publish u32", yield* dsPublishU32(ctx, "test_u32", 1234), OK]);
  steps.push(["retrieve u32", yield* dsRetrieveU32(ctx, "test_u32"), { status: OK, value: 1234 }]);
  yield* sleep(ctx, 120);
  steps.push(["publish again", yield* dsPublishU32(ctx, "test_u32", 1), EEXIST]);
  steps.push(["overwrite", yield* dsPublishU32(ctx, "test_u32", 4321, DSF_OVERWRITE), OK]);
  steps.push(["retrieve new", yield* dsRetrieveU32(ctx, "test_u32"), { status: OK, value: 4321 }]);
  steps.push(["delete u32", yield* dsDeleteU32(ctx, "test_u32"), OK]);
  steps.push(["retrieve deleted", (yield* dsRetrieveU32(ctx, "test_u32")).status, ESRCH]);
}

function* str(ctx: ProcessContext, steps: Steps): Syscall<void> {
  steps.push(["publish str", yield* dsPublishStr(ctx, "test_str", "little"), OK]);
  steps.push([
    "retrieve str",
    yield* dsRetrieveStr(ctx, "test_str"),
    { status: OK, value: "little" },
  ]);
  steps.push(["delete str", yield* dsDeleteStr(ctx, "test_str"), OK]);
  const long = "this is a longer string";
  steps.push(["publish long", yield* dsPublishStr(ctx, "test_str", long), OK]);
  const r = yield* dsRetrieveStr(ctx, "test_str", 16);
  steps.push(["retrieve 16", r, { status: OK, value: long.slice(0, 16) }]);
  steps.push(["delete long", yield* dsDeleteStr(ctx, "test_str"), OK]);
}

function* mem(ctx: ProcessContext, steps: Steps): Syscall<void> {
  const a = enc("ok, this is a string\0");
  const b = enc("ok, this is a much longer string!!\0");
  const src = malloc(ctx, 64, 8);
  const dst = malloc(ctx, 100, 8);
  yield* store(ctx, src, a);
  steps.push(["publish mem", yield* dsPublishMem(ctx, "test_mem", src, a.length), OK]);
  let r = yield* dsRetrieveMem(ctx, "test_mem", dst, 100);
  const got = new Uint8Array(100);
  yield* load(ctx, dst, got);
  steps.push(["retrieve mem", [r, got.slice(0, r.len)], [{ status: OK, len: 21 }, a]]);
  r = yield* dsRetrieveMem(ctx, "test_mem", dst, 8);
  steps.push(["retrieve 8", r, { status: OK, len: 8 }]);
  yield* store(ctx, src, b);
  steps.push(["overwrite mem", yield* dsPublishMem(ctx, "test_mem", src, 35, DSF_OVERWRITE), OK]);
  r = yield* dsRetrieveMem(ctx, "test_mem", dst, 100);
  yield* load(ctx, dst, got);
  steps.push(["retrieve 35", [r, got.slice(0, r.len)], [{ status: OK, len: 35 }, b]]);
  steps.push(["delete mem", yield* dsDeleteMem(ctx, "test_mem"), OK]);
}

function* fillPage(ctx: ProcessContext, at: number, v: number): Syscall<void> {
  yield* store(ctx, virAddr(at), new Uint8Array(PAGE).fill(v));
}

function* pageValues(ctx: ProcessContext, at: number): Syscall<number[]> {
  const b = new Uint8Array(PAGE);
  yield* load(ctx, virAddr(at), b);
  return [...new Set(b)];
}

function* map(ctx: ProcessContext, steps: Steps): Syscall<void> {
  const p = yield* pages(ctx, 1);
  const buf = yield* pages(ctx, 1);
  const buf2 = yield* pages(ctx, 1);
  yield* fillPage(ctx, p, 1);
  steps.push(["publish map", yield* dsPublishMap(ctx, "test_map", p, PAGE), OK]);
  const snap = yield* dsSnapshotMap(ctx, "test_map");
  steps.push(["snapshot", snap, { status: OK, index: 0 }]);
  yield* fillPage(ctx, p, 2);
  let r = yield* dsRetrieveMap(ctx, "test_map", buf, PAGE, DSMF_COPY_MAPPED);
  steps.push(["copy mapped", [r, yield* pageValues(ctx, buf)], [{ status: OK, len: PAGE }, [2]]]);
  r = yield* dsRetrieveMap(ctx, "test_map", buf, PAGE, DSMF_COPY_SNAPSHOT, snap.index);
  steps.push(["copy snapshot", [r, yield* pageValues(ctx, buf)], [{ status: OK, len: PAGE }, [1]]]);
  r = yield* dsRetrieveMap(ctx, "test_map", buf2, PAGE, DSMF_MAP_MAPPED);
  steps.push(["map mapped", r, { status: OK, len: PAGE }]);
  yield* fillPage(ctx, p, 3);
  steps.push(["chain shares", yield* pageValues(ctx, buf2), [3]]);
  steps.push(["delete map", yield* dsDeleteMap(ctx, "test_map"), OK]);
  // After the delete the client keeps a private copy; the publisher's writes no longer show.
  yield* fillPage(ctx, p, 4);
  steps.push(["private after delete", yield* pageValues(ctx, buf2), [3]]);
}

function* label(ctx: ProcessContext, steps: Steps): Syscall<void> {
  const me = yield* sysWhoami(ctx);
  const ep = (typeof me === "number" ? -1 : me.endpoint) as Endpoint;
  steps.push(["own label", yield* dsRetrieveLabelName(ctx, ep), { status: OK, name: "dstest" }]);
  steps.push([
    "own endpoint",
    yield* dsRetrieveLabelEndpt(ctx, "dstest"),
    { status: OK, endpoint: ep },
  ]);
  steps.push(["publish label", yield* dsPublishLabel(ctx, "hello", ep), EPERM]);
  steps.push(["delete label", yield* dsDeleteLabel(ctx, "dstest"), EPERM]);
}

describe("MINIX test/ds", () => {
  test("u32, str, mem, map and label through the real DS; subs sees the changes", () => {
    const steps: Steps = [];
    const log: string[] = [];
    const done: string[] = [];
    const m = bootDs([
      subscriber("subs", 12, "test_u32", log),
      service("dstest", 11, function* (ctx) {
        for (const [name, part] of [
          ["u32", u32],
          ["str", str],
          ["mem", mem],
          ["map", map],
          ["label", label],
        ] as const) {
          yield* part(ctx, steps);
          done.push(`${name} test successful`);
        }
      }),
    ]);
    settle(m);
    for (const [what, got, want] of steps) expect({ what, got }).toEqual({ what, got: want });
    expect(done).toEqual([
      "u32 test successful",
      "str test successful",
      "mem test successful",
      "map test successful",
      "label test successful",
    ]);
    expect(log[0]).toBe("subscribe 0");
    expect(log[1]).toBe("test_u32 = 1234");
    const rest = log.slice(2);
    expect([
      ["test_u32 = 4321", "key was deleted"],
      ["key was deleted"],
      [`test_u32: ${ESRCH}`, "key was deleted"],
    ]).toContainEqual(rest);
  });
});

/** How often a process's library asked to map a buffer, and how often it got a view. */
interface MapCount {
  asked: number;
  mapped: number;
}

/**
 * `ctx` with a CPU port that counts `mapWords` into `count`; with `copy`, it never maps, so
 * the library copies every buffer through the port.
 */
function countingCtx(ctx: ProcessContext, count: MapCount, copy: boolean): ProcessContext {
  const cpu = ctx.cpu;
  const port: CpuPort = {
    read: (va, dst) => cpu.read(va, dst),
    write: (va, src) => cpu.write(va, src),
    readWords: (va, dst) => cpu.readWords(va, dst),
    writeWords: (va, src) => cpu.writeWords(va, src),
    read32: (va) => cpu.read32(va),
    write32: (va, v) => cpu.write32(va, v),
    mapWords: (va, n, last) => {
      count.asked++;
      const w = copy ? null : cpu.mapWords(va, n, last);
      if (w !== null) count.mapped++;
      return w;
    },
    get tlbGen() {
      return cpu.tlbGen;
    },
    get faultAddr() {
      return cpu.faultAddr;
    },
    get faultWrite() {
      return cpu.faultWrite;
    },
  };
  return { ...ctx, cpu: port };
}

describe("the DS library's buffers", () => {
  test("u32 requests give the same answers mapped in place and copied through the CPU port", () => {
    const runs = { mapped: [] as unknown[], copied: [] as unknown[] };
    const maps = { mapped: { asked: 0, mapped: 0 }, copied: { asked: 0, mapped: 0 } };
    function* script(ctx: ProcessContext, key: "mapped" | "copied"): Syscall<void> {
      const out = runs[key];
      out.push(yield* dsPublishU32(ctx, key, 1));
      out.push(yield* dsPublishU32(ctx, key, 2));
      for (let v = 3; v < 6; v++) {
        out.push(yield* dsPublishU32(ctx, key, v, DSF_OVERWRITE));
        out.push(yield* dsRetrieveU32(ctx, key));
      }
      out.push(yield* dsRetrieveU32(ctx, `${key}.none`));
      out.push(yield* dsDeleteU32(ctx, key));
      out.push(yield* dsRetrieveU32(ctx, key));
    }
    // Each whole program runs on its counting port (the heap is per context).
    const entry = (key: "mapped" | "copied", slot: number) => {
      const e = service(key, slot, (ctx) => script(ctx, key));
      return {
        ...e,
        program: (ctx: ProcessContext) => e.program(countingCtx(ctx, maps[key], key === "copied")),
      };
    };
    const m = bootDs([entry("mapped", 11), entry("copied", 12)]);
    settle(m);
    const value = (value: number) => ({ status: OK, value });
    const want = [OK, EEXIST, OK, value(3), OK, value(4), OK, value(5)];
    want.push({ status: ESRCH, value: 0 }, OK, { status: ESRCH, value: 0 });
    expect(runs.mapped).toEqual(want);
    expect(runs.copied).toEqual(want);
    // Both paths were taken: one library worked in mapped buffers, the other never got one.
    expect(maps.mapped.mapped).toBeGreaterThan(0);
    expect(maps.copied.asked).toBeGreaterThan(0);
    expect(maps.copied.mapped).toBe(0);
  });
});
