/**
 * MINIX's test/safecopy (MINIX-SPEC §10.1) as two system services, a grantor and a requestor,
 * synchronised by messages: the requestor introduces itself, the grantor grants its
 * 8-page buffer for reading and writing and sends the grant id; the requestor copies 1, 2, 4,
 * … 32768 bytes, then ranges that start and end at page-crossing offsets, in both directions,
 * and every copy is checked over its whole range (the original checked only the first byte).
 * Afterwards each side writes its own buffer and the other must not see it (the copies share
 * nothing, also when COW safecopy shared the pages). Runs with COW safecopy off and on.
 */
import { describe, expect, test } from "vitest";
import { vmEntry } from "../src/boot/services.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { Machine } from "../src/boot/machine.ts";
import { ANY, type Endpoint } from "../src/include/endpoint.ts";
import { OK } from "../src/include/errno.ts";
import { CPF_READ, CPF_WRITE } from "../src/include/grant.ts";
import { defineLayout } from "../src/include/message.ts";
import { virAddr } from "../src/include/types.ts";
import { receive, send, type Syscall } from "../src/lib/ipc.ts";
import { cpfGrantDirect } from "../src/lib/libsys/safecopies.ts";
import { sysSafecopyFrom, sysSafecopyTo } from "../src/lib/libsys/sys_safecopy.ts";
import { store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { settle } from "./system_harness.ts";
import { pattern, read } from "./fixtures/grants.ts";

const PAGE = 4096;
const TEST_PAGE_NUM = 8;
const BUF_SIZE = TEST_PAGE_NUM * PAGE;
const BUF_START = 100;
const GRANTOR = 11 as Endpoint;
const REQUESTOR = 12 as Endpoint;

/** The scenario's messages: hello (requestor → grantor), grant, done, written, checked. */
const T_HELLO = 0x7f01;
const T_GRANT = 0x7f02;
const T_DONE = 0x7f03;
const T_WRITTEN = 0x7f04;
const GRANT_MSG = defineLayout({ gid: "i32" });
const EMPTY = defineLayout({});

/** What the run observed; the test asserts on it afterwards. */
interface Observed {
  /** [what, status] of every copy that did not return OK. */
  failures: [string, number][];
  /** Names of ranges whose bytes were wrong. */
  mismatches: string[];
  copies: number;
}

function* sendType(um: UMessage, dst: Endpoint, type: number): Syscall {
  um.m.set(type, EMPTY, {});
  yield* um.put();
  return yield* send(dst, um.va);
}

function* recvType(um: UMessage, type: number, obs: Observed): Syscall<UMessage> {
  const r = yield* receive(ANY, um.va);
  const m = yield* um.get();
  if (r !== OK || m.type !== type) obs.mismatches.push(`message ${type}: r=${r} type=${m.type}`);
  return um;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The grantor's buffer as the test expects it to be (updated by the requestor's copies). */
function initialGrantorBuffer(): Uint8Array {
  const b = pattern(BUF_SIZE, 1);
  b[0] = BUF_START;
  return b;
}

function image(obs: Observed, model: { grantor: Uint8Array }): BootImageEntry[] {
  const grantor: BootImageEntry = {
    name: "grantor",
    slot: GRANTOR,
    dataPages: 2 * TEST_PAGE_NUM + 4,
    program: function* (ctx) {
      const um = new UMessage(ctx, malloc(ctx, 64, 64));
      const buf = malloc(ctx, BUF_SIZE, PAGE);
      // 1. Wait for the requestor to introduce itself.
      yield* recvType(um, T_HELLO, obs);
      const requestor = um.m.source;
      // 2. Grant the buffer, set buf[0] = BUF_START, send the grant id.
      const gid = yield* cpfGrantDirect(ctx, requestor, buf, BUF_SIZE, CPF_READ | CPF_WRITE);
      yield* store(ctx, buf, model.grantor);
      um.m.set(T_GRANT, GRANT_MSG, { gid });
      yield* um.put();
      yield* send(requestor, um.va);
      // 4. Copies done: the buffer holds exactly what the requestor wrote into it.
      yield* recvType(um, T_DONE, obs);
      if (!same(yield* read(ctx, buf, BUF_SIZE), model.grantor))
        obs.mismatches.push("grantor after copies");
      // 5. The requestor wrote its own buffer: ours must not have changed. Then we write ours.
      yield* recvType(um, T_WRITTEN, obs);
      if (!same(yield* read(ctx, buf, BUF_SIZE), model.grantor)) {
        obs.mismatches.push("grantor saw the requestor's own writes");
      }
      yield* store(ctx, buf, pattern(BUF_SIZE, 99));
      yield* sendType(um, requestor, T_WRITTEN);
      return 0;
    },
  };

  const requestor: BootImageEntry = {
    name: "requestor",
    slot: REQUESTOR,
    dataPages: 2 * TEST_PAGE_NUM + 4,
    program: function* (ctx) {
      const um = new UMessage(ctx, malloc(ctx, 64, 64));
      const buf = malloc(ctx, BUF_SIZE, PAGE);
      const src = malloc(ctx, BUF_SIZE, PAGE);
      yield* sendType(um, GRANTOR, T_HELLO);
      yield* recvType(um, T_GRANT, obs);
      const gid = um.m.get(GRANT_MSG).gid;
      const mine = new Uint8Array(BUF_SIZE); // what our buffer should hold

      // 3. sys_safecopyfrom(grantor, gid, 0, buf, 1 << i), i = 0 .. 15.
      for (let i = 0; i <= 15; i++) {
        const n = 1 << i;
        const r = yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, buf, n);
        obs.copies++;
        if (r !== OK) {
          obs.failures.push([`from size ${n}`, r]);
          break;
        }
        mine.set(model.grantor.subarray(0, n));
        if (!same(yield* read(ctx, buf, BUF_SIZE), mine)) obs.mismatches.push(`from size ${n}`);
      }
      const first = yield* read(ctx, buf, 1);
      if (first[0] !== BUF_START) obs.mismatches.push("buf[0] != BUF_START");

      // Page-crossing ranges, both directions, our side at a different in-page offset.
      const offsets = [0, 1, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE - 7, 5 * PAGE];
      const sizes = [1, 2, 7, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE + 3, 3 * PAGE];
      let seed = 10;
      for (const off of offsets) {
        for (const n of sizes) {
          if (off + n > BUF_SIZE) continue;
          const at = (off * 3 + 5) % PAGE;
          if (at + n > BUF_SIZE) continue;
          // To the grantor: our pattern lands at `off` in its buffer.
          const data = pattern(n, seed++);
          yield* store(ctx, virAddr(src + at), data);
          const rt = yield* sysSafecopyTo(ctx, GRANTOR, gid, off, virAddr(src + at), n);
          obs.copies++;
          if (rt !== OK) obs.failures.push([`to off ${off} size ${n}`, rt]);
          else model.grantor.set(data, off);
          // Back from the grantor into our buffer at `at`.
          const rf = yield* sysSafecopyFrom(ctx, GRANTOR, gid, off, virAddr(buf + at), n);
          obs.copies++;
          if (rf !== OK) {
            obs.failures.push([`from off ${off} size ${n}`, rf]);
            continue;
          }
          mine.set(model.grantor.subarray(off, off + n), at);
          if (!same(yield* read(ctx, buf, BUF_SIZE), mine)) {
            obs.mismatches.push(`from off ${off} size ${n}`);
          }
        }
      }

      // Whole buffer, page aligned on both sides (what COW safecopy shares).
      const rw = yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, buf, BUF_SIZE);
      obs.copies++;
      if (rw !== OK) obs.failures.push(["from whole buffer", rw]);
      mine.set(model.grantor);
      if (!same(yield* read(ctx, buf, BUF_SIZE), mine)) obs.mismatches.push("from whole buffer");
      yield* sendType(um, GRANTOR, T_DONE);

      // 5. Write our own buffer, tell the grantor; it writes its own; ours must keep our data.
      const own = pattern(BUF_SIZE, 77);
      yield* store(ctx, buf, own);
      yield* sendType(um, GRANTOR, T_WRITTEN);
      yield* recvType(um, T_WRITTEN, obs);
      if (!same(yield* read(ctx, buf, BUF_SIZE), own)) {
        obs.mismatches.push("requestor saw the grantor's later writes");
      }
      return 0;
    },
  };
  return [vmEntry, grantor, requestor];
}

describe.each([false, true])("test/safecopy with cowSafecopy = %s", (cowSafecopy) => {
  test("every size and page-crossing range copies exactly, in both directions", () => {
    const obs: Observed = { failures: [], mismatches: [], copies: 0 };
    const model = { grantor: initialGrantorBuffer() };
    const m = Machine.boot({
      memoryBytes: 16 << 20,
      nrProcs: 64,
      vmSanity: true,
      cowSafecopy,
      // COW only pays above its threshold; make every whole page eligible here.
      cowSafecopyMin: PAGE,
      image: image(obs, model),
    });
    settle(m);
    expect(obs.failures).toEqual([]);
    expect(obs.mismatches).toEqual([]);
    expect(obs.copies).toBeGreaterThan(16 + 50);
  });
});
