/**
 * Where DS keeps the bytes of its values: STR, MEM and snapshot blobs and the buffers MAP
 * entries map the publishers' pages into, all in DS's own memory (a process keeps everything
 * another process may see in its simulated memory). Each blob is a page-granular anonymous
 * mmap; freed ones are kept in a small pool by size and reused, so overwriting a value of the
 * same size costs no VM call. MAP buffers are never pooled: their pages were the publisher's.
 */
import { ENOMEM, OK } from "../../include/errno.ts";
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../include/vm.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import type { Endpoint } from "../../include/endpoint.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { minixMmap, minixMunmap } from "../../lib/libc/mmap.ts";

export const PAGE = 4096;

/** A value's bytes in DS's memory. */
export interface Blob {
  readonly addr: VirAddr;
  /** Bytes of value. */
  readonly length: number;
  /** Bytes mapped at `addr` (whole pages; 0 for an empty blob). */
  readonly cap: number;
  /** MAP: the publisher and its grant (DS's buffer shares the publisher's pages). */
  readonly map?: { readonly grantor: Endpoint; readonly gid: number };
  /** MAP: grants DS gave clients over the buffer (DSMF_MAP_MAPPED), one per client. */
  readonly clientGrants?: Map<Endpoint, number>;
}

/** Pages kept in the pool at most. */
const POOL_PAGES = 256;

export class BlobHeap {
  readonly #ctx: ProcessContext;
  readonly #pool = new Map<number, VirAddr[]>();
  #pooled = 0;

  constructor(ctx: ProcessContext) {
    this.#ctx = ctx;
  }

  /** A blob of `length` bytes (contents undefined), or ENOMEM. */
  *alloc(length: number, pooled = true): Syscall<Blob | number> {
    const cap = Math.ceil(length / PAGE) * PAGE;
    if (cap === 0) return { addr: virAddr(0), length, cap };
    const free = pooled ? this.#pool.get(cap) : undefined;
    const reuse = free?.pop();
    if (reuse !== undefined) {
      this.#pooled -= cap / PAGE;
      return { addr: reuse, length, cap };
    }
    const r = yield* minixMmap(this.#ctx, {
      len: cap,
      prot: PROT_READ | PROT_WRITE,
      flags: MAP_PRIVATE | MAP_ANON,
    });
    if (r.status !== OK) return ENOMEM;
    return { addr: r.addr, length, cap };
  }

  /** Gives the blob's memory back (to the pool, or to VM). */
  *free(b: Blob, pooled = true): Syscall<void> {
    if (b.cap === 0) return;
    if (pooled && this.#pooled + b.cap / PAGE <= POOL_PAGES) {
      let list = this.#pool.get(b.cap);
      if (list === undefined) this.#pool.set(b.cap, (list = []));
      list.push(b.addr);
      this.#pooled += b.cap / PAGE;
      return;
    }
    yield* minixMunmap(this.#ctx, b.addr, b.cap);
  }
}
