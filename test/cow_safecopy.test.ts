/**
 * Copy-on-write safecopy (MINIX-SPEC §4.5): with the option on, the whole pages of a safecopy
 * whose source and destination have the same in-page offset share frames copy-on-write; the
 * head and tail are copied. Each case runs with COW on and off and must give the same data;
 * with COW on the middle pages are found shared in the page tables, and writes afterwards on
 * either side stay on that side. A source page shared by safemap is copied, not shared, and
 * a destination page shared by safemap keeps its link (data copied into it).
 */
import { describe, expect, test } from "vitest";
import type { Machine } from "../src/boot/machine.ts";
import type { Endpoint } from "../src/include/endpoint.ts";
import { OK } from "../src/include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../src/include/grant.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import { copyFromProc } from "../src/kernel/memory.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { load, store } from "../src/lib/mem.ts";
import { cpfGrantDirect } from "../src/lib/libsys/safecopies.ts";
import { sysSafecopyFrom, sysSafecopyTo } from "../src/lib/libsys/sys_safecopy.ts";
import { sysSafemap } from "../src/lib/libsys/sys_safemap.ts";
import {
  bootSafemap,
  fill,
  hear,
  pageBuffer,
  PAGE,
  runAll,
  tell,
  uniform,
} from "./fixtures/safemap.ts";
import { logger, type Log } from "./fixtures/grants.ts";

const G = 11 as Endpoint;
const R = 12 as Endpoint;
const PAGES = 8;
const LEN = PAGES * PAGE;

/** Byte `i` of pattern `seed`. */
function pat(seed: number, i: number): number {
  return (i * 7 + seed * 13 + (i >> 12)) & 0xff;
}

function* writePattern(
  ctx: ProcessContext,
  addr: number,
  len: number,
  seed: number,
): Syscall<void> {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = pat(seed, i);
  yield* store(ctx, virAddr(addr), b);
}

/** 1 if the `len` bytes at `addr` are pattern `seed` (offset `from`), else 0. */
function* isPattern(
  ctx: ProcessContext,
  addr: number,
  len: number,
  seed: number,
  from = 0,
): Syscall {
  const b = new Uint8Array(len);
  yield* load(ctx, virAddr(addr), b);
  for (let i = 0; i < len; i++) if (b[i] !== pat(seed, from + i)) return 0;
  return 1;
}

/** The frame behind `va` of the process in `slot` (or a negative fault). */
function frame(m: Machine, slot: number, va: number): number {
  const p = m.kernel.procAddr(slot);
  if (p === undefined) throw new Error("no process");
  const pa = m.hw.mmu.translate(p.cr3, va, false, true);
  return pa < 0 ? pa : pa - (pa % PAGE);
}

/** `len` bytes at `va` of the process in `slot`, read by the kernel. */
function bytesOf(m: Machine, slot: number, va: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  expect(copyFromProc(m.kernel, m.kernel.procAddr(slot)!, virAddr(va), b, 0, len)).toBe(OK);
  return b;
}

/** Pattern `seed` over `len` bytes. */
function patBytes(seed: number, len: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => pat(seed, i));
}

interface Run {
  log: Record<string, number>;
  m: Machine;
  gbuf: number;
  rbuf: number;
}

/** G grants `LEN` bytes (READ|WRITE|MAP) to R; each side's program then runs; both stop receiving. */
function run(
  cow: boolean,
  g: (ctx: ProcessContext, buf: number, L: Log) => Syscall<void>,
  r: (ctx: ProcessContext, buf: number, gid: number, L: Log) => Syscall<void>,
): Run {
  const { log, L } = logger();
  const bufs = { g: 0, r: 0 };
  const { m } = bootSafemap(
    [
      {
        name: "grantor",
        slot: G,
        dataPages: 32,
        program: function* (ctx) {
          const buf = pageBuffer(ctx, 2 * LEN);
          bufs.g = buf;
          const gid = yield* cpfGrantDirect(ctx, R, buf, LEN, CPF_READ | CPF_WRITE | CPF_MAP);
          yield* g(ctx, buf, L);
          yield* tell(ctx, R, gid);
          yield* hear(ctx, R);
          return 0;
        },
      },
      {
        name: "requestor",
        slot: R,
        dataPages: 32,
        program: function* (ctx) {
          const buf = pageBuffer(ctx, 2 * LEN);
          bufs.r = buf;
          const { a: gid } = yield* hear(ctx, G);
          yield* r(ctx, buf, gid, L);
          yield* tell(ctx, G);
          yield* hear(ctx, G); // never answered: both stay alive for the inspection
          return 0;
        },
      },
    ],
    { cowSafecopy: cow, cowSafecopyMin: PAGE },
  );
  runAll(m);
  return { log, m, gbuf: bufs.g, rbuf: bufs.r };
}

describe.each([true, false])("COW safecopy, cowSafecopy %s", (cow) => {
  test("safecopyfrom of whole pages: shared until written; the destination's write stays its own", () => {
    const res = run(
      cow,
      function* (ctx, buf) {
        yield* writePattern(ctx, buf, LEN, 1);
      },
      function* (ctx, buf, gid, L) {
        L("copy", yield* sysSafecopyFrom(ctx, G, gid, 0, virAddr(buf), LEN));
        L("data", yield* isPattern(ctx, buf, LEN, 1));
        yield* fill(ctx, buf, PAGE, 0xaa); // R writes its page 0
        L("R page0", yield* uniform(ctx, buf, PAGE));
        L("R rest", yield* isPattern(ctx, buf + PAGE, LEN - PAGE, 1, PAGE));
      },
    );
    expect(res.log).toEqual({ copy: OK, data: 1, "R page0": 0xaa, "R rest": 1 });
    const { m, gbuf, rbuf } = res;
    expect(bytesOf(m, G, gbuf, LEN)).toEqual(patBytes(1, LEN)); // R's write did not reach G
    for (let i = 1; i < PAGES; i++) {
      const shared = frame(m, G, gbuf + i * PAGE) === frame(m, R, rbuf + i * PAGE);
      expect(shared).toBe(cow);
    }
    expect(frame(m, G, gbuf)).not.toBe(frame(m, R, rbuf));
  });

  test("unaligned head and tail are copied, the pages between shared; nothing outside written", () => {
    const off = 100;
    const len = 3 * PAGE + 50;
    const res = run(
      cow,
      function* (ctx, buf) {
        yield* writePattern(ctx, buf, LEN, 2);
      },
      function* (ctx, buf, gid, L) {
        yield* fill(ctx, buf, LEN, 0xee);
        L("copy", yield* sysSafecopyFrom(ctx, G, gid, off, virAddr(buf + off), len));
        L("data", yield* isPattern(ctx, buf + off, len, 2, off));
        L("before", yield* uniform(ctx, buf, off));
        L("after", yield* uniform(ctx, buf + off + len, LEN - off - len));
      },
    );
    expect(res.log).toEqual({ copy: OK, data: 1, before: 0xee, after: 0xee });
    const { m, gbuf, rbuf } = res;
    expect(frame(m, G, gbuf) === frame(m, R, rbuf)).toBe(false);
    for (const i of [1, 2]) {
      expect(frame(m, G, gbuf + i * PAGE) === frame(m, R, rbuf + i * PAGE)).toBe(cow);
    }
    expect(frame(m, G, gbuf + 3 * PAGE) === frame(m, R, rbuf + 3 * PAGE)).toBe(false);
  });

  test("different in-page offsets: a plain copy", () => {
    const res = run(
      cow,
      function* (ctx, buf) {
        yield* writePattern(ctx, buf, LEN, 3);
      },
      function* (ctx, buf, gid, L) {
        L("copy", yield* sysSafecopyFrom(ctx, G, gid, 0, virAddr(buf + 8), 4 * PAGE));
        L("data", yield* isPattern(ctx, buf + 8, 4 * PAGE, 3));
      },
    );
    expect(res.log).toEqual({ copy: OK, data: 1 });
    for (let i = 0; i < 4; i++) {
      expect(frame(res.m, G, res.gbuf + i * PAGE)).not.toBe(frame(res.m, R, res.rbuf + i * PAGE));
    }
  });

  test("safecopyto: the granter's pages share the caller's; the source's write stays its own", () => {
    const res = run(
      cow,
      function* (ctx, buf) {
        yield* fill(ctx, buf, LEN, 0x11);
      },
      function* (ctx, buf, gid, L) {
        yield* writePattern(ctx, buf, LEN, 4);
        L("copy", yield* sysSafecopyTo(ctx, G, gid, 0, virAddr(buf), LEN));
        // G reads back through a second copy: its memory holds the pattern.
        L("back", yield* sysSafecopyFrom(ctx, G, gid, 0, virAddr(buf + LEN), LEN));
        L("data", yield* isPattern(ctx, buf + LEN, LEN, 4));
        yield* fill(ctx, buf + 2 * PAGE, PAGE, 0x22); // R writes its page 2
        L(
          "G page2 via copy",
          yield* sysSafecopyFrom(ctx, G, gid, 2 * PAGE, virAddr(buf + LEN), PAGE),
        );
        L("G page2", yield* isPattern(ctx, buf + LEN, PAGE, 4, 2 * PAGE));
      },
    );
    expect(res.log).toEqual({ copy: OK, back: OK, data: 1, "G page2 via copy": OK, "G page2": 1 });
    const { m, gbuf, rbuf } = res;
    expect(frame(m, G, gbuf + 3 * PAGE) === frame(m, R, rbuf + 3 * PAGE)).toBe(cow);
    expect(frame(m, G, gbuf + 2 * PAGE) === frame(m, R, rbuf + 2 * PAGE)).toBe(false);
  });

  test("an SMAP-shared source is copied, not shared; an SMAP-shared destination keeps its link", () => {
    const res = run(
      cow,
      function* (ctx, buf) {
        yield* writePattern(ctx, buf, LEN, 5);
      },
      function* (ctx, buf, gid, L) {
        // R maps G's pages at buf (writable), then copies them to buf + LEN.
        L("map", yield* sysSafemap(ctx, G, gid, 0, virAddr(buf), LEN, true));
        L("copy", yield* sysSafecopyFrom(ctx, G, gid, 0, virAddr(buf + LEN), LEN));
        yield* fill(ctx, buf, LEN, 0x33); // through the mapping: G sees it, the copy does not
        L("copy kept", yield* isPattern(ctx, buf + LEN, LEN, 5));
        // Copy the pattern back into G's (mapped) pages: R's mapping must see it.
        L("copyto", yield* sysSafecopyTo(ctx, G, gid, 0, virAddr(buf + LEN), LEN));
        L("mapping sees", yield* isPattern(ctx, buf, LEN, 5));
      },
    );
    expect(res.log).toEqual({
      map: OK,
      copy: OK,
      "copy kept": 1,
      copyto: OK,
      "mapping sees": 1,
    });
    const { m, gbuf, rbuf } = res;
    for (let i = 0; i < PAGES; i++) {
      expect(frame(m, G, gbuf + i * PAGE)).toBe(frame(m, R, rbuf + i * PAGE));
      expect(frame(m, G, gbuf + i * PAGE)).not.toBe(frame(m, R, rbuf + LEN + i * PAGE));
    }
  });
});
