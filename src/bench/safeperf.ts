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
import type { Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../include/grant.ts";
import type { ProcessContext } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import type { Syscall } from "../lib/ipc.ts";
import { sysSafecopyFrom } from "../lib/libsys/sys_safecopy.ts";
import { sysSafemap, sysSafeunmap } from "../lib/libsys/sys_safemap.ts";
import type { Workload } from "./measure.ts";
import { GRANTOR_SLOT, grantPair } from "./safecopy.ts";
import { PAGE, touch } from "./workloads.ts";

const ACCESS = CPF_READ | CPF_WRITE | CPF_MAP;

/** Page counts of the safeperf figures. */
export const SAFEPERF_PAGES = [1, 10, 50] as const;
export type SafeperfMode = "copy" | "cowcopy" | "map";

/**
 * Kernel steps of one request of `pages` pages, a little above those measured: a plain copy is
 * its kernel call (1); a COW copy adds VM's work and the COW faults of the touches (6 + about
 * 4 per page); a map, VM's work for the map and the unmap (12).
 */
function stepsPerRequest(mode: SafeperfMode, pages: number): number {
  return mode === "copy" ? 1 : mode === "cowcopy" ? 6 + 5 * pages : 13;
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
          yield* touch(ctx, dst, bytes);
          return yield* sysSafeunmap(ctx, virAddr(dst));
        }
      : function* (ctx: ProcessContext, gid: number, dst: number): Syscall {
          const r = yield* sysSafecopyFrom(ctx, granter, gid, 0, virAddr(dst), bytes);
          if (r !== OK) return r;
          yield* touch(ctx, dst, bytes);
          return OK;
        };
  return grantPair(
    {
      name: `safeperf.${mode}_${pages}`,
      bytes,
      sources: 1,
      cow: mode === "cowcopy",
      vm: true,
      access: ACCESS,
    },
    request,
    "µs",
    pages,
    stepsPerRequest(mode, pages),
  );
}

/**
 * One SYS_SAFECOPYFROM of `bytes` (no touching), COW on or off, alternating between two
 * source halves; ms per copy.
 */
export function safecopyMs(name: string, bytes: number, cow: boolean): Workload {
  const granter = GRANTOR_SLOT as Endpoint;
  return grantPair(
    { name, bytes, sources: 2, cow, vm: true, access: ACCESS },
    (ctx, gid, dst, src) => sysSafecopyFrom(ctx, granter, gid, src, virAddr(dst), bytes),
    "ms",
    1,
    cow ? 7 : 1, // 6 steps for a COW copy, see stepsPerRequest
  );
}
