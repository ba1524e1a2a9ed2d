/**
 * COW safecopy and safemap figures (MINIX `test/safeperf`, MINIX-SPEC §10.3), on a machine
 * with VM. A grantor grants a page-aligned buffer (CPF_READ|CPF_WRITE|CPF_MAP) and waits; the
 * requestor repeats one request:
 * - `safeperf.copy_<n>` / `safeperf.cowcopy_<n>`: SYS_SAFECOPYFROM of n pages, then a store of
 *   one byte in each page (MINIX's default `write=1`), with COW safecopy off / on (threshold
 *   one page, so even one page is shared);
 * - `safeperf.map_<n>`: SYS_SAFEMAP of n pages (writable), a store in each, SYS_SAFEUNMAP.
 * Their unit is µs per page. `grant.cow_safecopy_16MiB` is one SYS_SAFECOPYFROM of 16 MiB
 * with COW (no touching), beside `grant.safecopy_16MiB_ms`, the same copy plain, in ms. The
 * 16 MiB copies alternate between two source halves so that every COW copy really drops the
 * destination's previous shares and shares new frames (copying the same source again would
 * find the pages shared already).
 */
import { Machine } from "../boot/machine.ts";
import { vmEntry } from "../boot/services.ts";
import { ANY, type Endpoint } from "../include/endpoint.ts";
import { errName, OK } from "../include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE, GRANT_INVALID } from "../include/grant.ts";
import type { ProcessContext } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import { receive, type Syscall } from "../lib/ipc.ts";
import { cpfGrantDirect } from "../lib/libsys/safecopies.ts";
import { sysSafecopyFrom } from "../lib/libsys/sys_safecopy.ts";
import { sysSafemap, sysSafeunmap } from "../lib/libsys/sys_safemap.ts";
import { store } from "../lib/mem.ts";
import { malloc } from "../lib/runtime.ts";
import type { Workload } from "./measure.ts";
import { commitRam, runUntil } from "./workloads.ts";

const PAGE = 4096;
const MiB = 1024 * 1024;
const GRANTOR_SLOT = 11;
const REQUESTOR_SLOT = 12;

/** Page counts of the safeperf figures. */
export const SAFEPERF_PAGES = [1, 10, 50] as const;
export type SafeperfMode = "copy" | "cowcopy" | "map";

interface Setup {
  readonly name: string;
  /** Bytes of one request. */
  readonly bytes: number;
  /** Source halves the requests alternate between (1 or 2). */
  readonly sources: number;
  readonly cow: boolean;
  /** What the requestor does once, given its buffer: a status. */
  readonly request: (ctx: ProcessContext, gid: number, dst: number, src: number) => Syscall;
}

/** Boots grantor and requestor; the requestor counts completed requests. */
function boot(s: Setup): { m: Machine; state: { done: number; error: number } } {
  const state = { gid: GRANT_INVALID, done: 0, error: OK };
  const grantBytes = s.bytes * s.sources;
  const one = Uint8Array.of(1);
  function* grantor(ctx: ProcessContext): Syscall {
    const buf = malloc(ctx, grantBytes, PAGE);
    for (let a = 0; a < grantBytes; a += PAGE) yield* store(ctx, virAddr(buf + a), one);
    const access = CPF_READ | CPF_WRITE | CPF_MAP;
    state.gid = yield* cpfGrantDirect(ctx, REQUESTOR_SLOT as Endpoint, buf, grantBytes, access);
    const box = malloc(ctx, 64, 64);
    for (;;) yield* receive(ANY, box);
  }
  function* requestor(ctx: ProcessContext): Syscall {
    const dst = malloc(ctx, s.bytes, PAGE);
    for (let a = 0; a < s.bytes; a += PAGE) yield* store(ctx, virAddr(dst + a), one);
    for (let i = 0; ; i++) {
      const r = yield* s.request(ctx, state.gid, dst, (i % s.sources) * s.bytes);
      if (r !== OK) {
        state.error = r;
        return 1;
      }
      state.done++;
    }
  }
  const pages = Math.ceil(grantBytes / PAGE) + 8;
  const m = Machine.boot({
    memoryBytes: Math.max(64 * MiB, 4 * grantBytes),
    cowSafecopy: s.cow,
    cowSafecopyMin: PAGE,
    image: [
      vmEntry,
      { name: "grantor", slot: GRANTOR_SLOT, priority: 6, dataPages: pages, program: grantor },
      {
        name: "requestor",
        slot: REQUESTOR_SLOT,
        priority: 7,
        dataPages: pages,
        program: requestor,
      },
    ],
  });
  commitRam(m);
  runUntil(m, 1, () => state.done > 1 || state.error !== OK, s.name);
  if (state.error !== OK) throw new Error(`${s.name}: ${errName(state.error)}`);
  return { m, state };
}

/** A workload of `s` whose operation is `perOp` of one request (pages, or 1). */
function workload(s: Setup, unit: "µs" | "ms", opsPerRequest: number): Workload {
  const { m, state } = boot(s);
  return {
    name: s.name,
    unit,
    run(n: number): number {
      const requests = Math.max(1, Math.ceil(n / opsPerRequest));
      const target = state.done + requests;
      runUntil(m, 4 * requests, () => state.done >= target || state.error !== OK, s.name);
      if (state.error !== OK) throw new Error(`${s.name}: ${errName(state.error)}`);
      return requests * opsPerRequest;
    },
  };
}

/** Stores one byte in each of `pages` pages at `dst`. */
function* touch(ctx: ProcessContext, dst: number, pages: number): Syscall<void> {
  const one = Uint8Array.of(1);
  for (let p = 0; p < pages; p++) yield* store(ctx, virAddr(dst + p * PAGE), one);
}

/** `safeperf.<mode>_<pages>`: µs per page of request + touch (+ unmap for map). */
export function safeperf(mode: SafeperfMode, pages: number): Workload {
  const bytes = pages * PAGE;
  const granter = GRANTOR_SLOT as Endpoint;
  const request =
    mode === "map"
      ? function* (ctx: ProcessContext, gid: number, dst: number): Syscall {
          const r = yield* sysSafemap(ctx, granter, gid, 0, virAddr(dst), bytes, true);
          if (r !== OK) return r;
          yield* touch(ctx, dst, pages);
          return yield* sysSafeunmap(ctx, virAddr(dst));
        }
      : function* (ctx: ProcessContext, gid: number, dst: number): Syscall {
          const r = yield* sysSafecopyFrom(ctx, granter, gid, 0, virAddr(dst), bytes);
          if (r !== OK) return r;
          yield* touch(ctx, dst, pages);
          return OK;
        };
  return workload(
    { name: `safeperf.${mode}_${pages}`, bytes, sources: 1, cow: mode === "cowcopy", request },
    "µs",
    pages,
  );
}

/**
 * One SYS_SAFECOPYFROM of `bytes` (no touching), COW on or off, alternating between two
 * source halves; ms per copy.
 */
export function safecopyMs(name: string, bytes: number, cow: boolean): Workload {
  const granter = GRANTOR_SLOT as Endpoint;
  return workload(
    {
      name,
      bytes,
      sources: 2,
      cow,
      request: (ctx, gid, dst, src) => sysSafecopyFrom(ctx, granter, gid, src, virAddr(dst), bytes),
    },
    "ms",
    1,
  );
}
