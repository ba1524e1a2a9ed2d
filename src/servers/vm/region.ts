/**
 * A process's address space as VM sees it: a set of non-overlapping, page-aligned regions
 * kept in a B+ tree keyed by start address (MINIX used a sorted list, then an AVL tree).
 *
 * Regions are immutable records; splitting or shrinking one replaces it by new records with
 * the same flags and tag. Per-page physical state should therefore be keyed by virtual
 * address (or by offset from a piece's `region.start`), not by region identity.
 *
 * Every argument may come from an untrusted mmap/munmap request: bad input yields EINVAL
 * (or ENOMEM for "no room"), never an exception.
 * MINIX: servers/vm/region.c (map_page_region, region_find_slot, map_unmap_region);
 * MINIX-SPEC §8.1, §8.8.
 */
import { EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import { I386_PAGE_SIZE } from "../../include/vmpt.ts";
import { BTree } from "./btree.ts";

/** Region flags (MINIX vir_region.flags). */
export const VR_WRITABLE = 0x001;
/** Must not page-fault (memory pre-allocated). */
export const VR_NOPF = 0x002;
export const VR_PHYS64K = 0x004;
export const VR_LOWER16MB = 0x008;
export const VR_LOWER1MB = 0x010;
export const VR_CONTIG = 0x020;
/** SysV shared memory: always mapped writable, never COW. */
export const VR_SHARED = 0x040;
/** Anonymous memory managed by VM. */
export const VR_ANON = 0x100;
/** Physical memory not managed by VM (device memory, map_phys). */
export const VR_DIRECT = 0x200;

const VR_ALL =
  VR_WRITABLE |
  VR_NOPF |
  VR_PHYS64K |
  VR_LOWER16MB |
  VR_LOWER1MB |
  VR_CONTIG |
  VR_SHARED |
  VR_ANON |
  VR_DIRECT;

/** "image": the loaded program of an exec (text+data, allocated up front; exec.ts). */
export type RegionTag = "text" | "data" | "stack" | "mmap" | "heap" | "image";
const TAGS: ReadonlySet<string> = new Set<RegionTag>([
  "text",
  "data",
  "stack",
  "mmap",
  "heap",
  "image",
]);

export interface Region {
  /** Page-aligned virtual start address. */
  readonly start: number;
  /** Positive multiple of the page size; `start + length` ≤ 2^32. */
  readonly length: number;
  /** VR_* bits; at most one of VR_ANON and VR_DIRECT. */
  readonly flags: number;
  readonly tag: RegionTag;
}

/** One piece taken out by {@link RegionSet.remove}: `[start, start+length)` of `region`. */
export interface RemovedPiece {
  readonly start: number;
  readonly length: number;
  /** The region as it was before the removal (offset in it: `start - region.start`). */
  readonly region: Region;
}

export interface FindFreeOptions {
  /** Preferred start: taken if page aligned and `[hint, hint+len)` is free within limits. */
  readonly hint?: number;
  /** The slot must end at or below this address (default 2^32). */
  readonly below?: number;
  /** The slot must start at or above this address (default one page: page 0 stays unmapped). */
  readonly above?: number;
}

const PAGE = I386_PAGE_SIZE;
const LIMIT = 2 ** 32;

function isAddr(n: unknown, align: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= LIMIT && n % align === 0;
}

/** `len` is a positive page multiple and `[start, start+len)` fits in 32 bits. */
function isPageRange(start: unknown, len: unknown): boolean {
  return (
    isAddr(start, PAGE) && start < LIMIT && isAddr(len, PAGE) && len > 0 && start + len <= LIMIT
  );
}

function end(r: Region): number {
  return r.start + r.length;
}

/** The regions of one address space. */
export class RegionSet {
  readonly #tree: BTree<number, Region> = new BTree<number, Region>();

  /** Number of regions. */
  get size(): number {
    return this.#tree.size;
  }

  /**
   * Adds a region (stored as a frozen copy).
   * @returns OK, or EINVAL if it is misaligned, empty, out of range, has unknown flags or
   * tag, or overlaps an existing region.
   */
  add(region: Region): number {
    const { start, length, flags, tag } = region;
    if (!isPageRange(start, length)) return EINVAL;
    if (!Number.isInteger(flags) || flags < 0 || (flags & ~VR_ALL) !== 0) return EINVAL;
    if ((flags & VR_ANON) !== 0 && (flags & VR_DIRECT) !== 0) return EINVAL;
    if (typeof tag !== "string" || !TAGS.has(tag)) return EINVAL;
    // The last region starting before our end must end at or before our start.
    const prev = this.#tree.getPairOrNextLower(start + length - 1)?.[1];
    if (prev !== undefined && end(prev) > start) return EINVAL;
    this.#tree.set(start, Object.freeze({ start, length, flags, tag }));
    return OK;
  }

  /** The region containing byte address `vaddr`, if any. */
  find(vaddr: number): Region | undefined {
    if (!isAddr(vaddr, 1) || vaddr >= LIMIT) return undefined;
    const r = this.#tree.getPairOrNextLower(vaddr)?.[1];
    return r !== undefined && vaddr < end(r) ? r : undefined;
  }

  /** The region starting exactly at `start`, if any (munmap/shm requests name a start). */
  at(start: number): Region | undefined {
    return isAddr(start, 1) ? this.#tree.get(start) : undefined;
  }

  /**
   * A free page-aligned slot of `len` bytes for a non-fixed mmap, within
   * `[above, below)`. Policy: the hint if it fits, else the **highest** fit (the slot ends
   * at the top of the highest large-enough gap), so mappings grow down from `below` — VM
   * passes the bottom of the stack region, like MINIX ≥ 3.2's region_find_slot_range (the
   * 2010 code took the lowest gap above the hint / stack top instead).
   * @returns the start address; EINVAL for a bad length or options; ENOMEM if nothing fits.
   */
  findFree(len: number, options: FindFreeOptions = {}): number {
    const below = options.below ?? LIMIT;
    const above = options.above ?? PAGE;
    const hint = options.hint;
    if (!isAddr(len, PAGE) || len === 0 || len >= LIMIT) return EINVAL;
    if (!isAddr(below, PAGE) || !isAddr(above, PAGE) || above > below) return EINVAL;
    if (hint !== undefined && !isAddr(hint, 1)) return EINVAL;
    if (below - above < len) return ENOMEM;

    if (
      hint !== undefined &&
      hint % PAGE === 0 &&
      hint >= above &&
      hint + len <= below &&
      this.#isFree(hint, len)
    ) {
      return hint;
    }
    // Walk regions downward from the highest one starting below `below`.
    let gapEnd = below;
    for (const [, r] of this.#tree.entriesReversed(below - 1)) {
      if (end(r) <= above) break;
      const gapStart = Math.max(end(r), above);
      if (gapEnd >= gapStart + len) return gapEnd - len;
      gapEnd = Math.min(gapEnd, r.start);
      if (gapEnd - above < len) return ENOMEM;
    }
    return gapEnd - above >= len ? gapEnd - len : ENOMEM;
  }

  /**
   * Removes `[start, start+len)` from the address space: regions inside it disappear,
   * regions cut by it shrink or split in two (same flags and tag). Holes are ignored.
   * @returns the pieces removed, in address order (possibly none), or EINVAL for a
   * misaligned, empty or out-of-range request.
   */
  remove(start: number, len: number): RemovedPiece[] | typeof EINVAL {
    if (!isPageRange(start, len)) return EINVAL;
    const stop = start + len;
    const hit: Region[] = [];
    const first = this.find(start);
    if (first !== undefined) hit.push(first);
    for (const [, r] of this.#tree.entries(start)) {
      if (r.start >= stop) break;
      if (r !== first) hit.push(r);
    }
    const pieces: RemovedPiece[] = [];
    for (const r of hit) {
      const lo = Math.max(r.start, start);
      const hi = Math.min(end(r), stop);
      pieces.push({ start: lo, length: hi - lo, region: r });
      this.#tree.delete(r.start);
      if (r.start < lo) this.#put(r, r.start, lo);
      if (hi < end(r)) this.#put(r, hi, end(r));
    }
    return pieces;
  }

  /** All regions in address order. */
  regions(): Region[] {
    return this.#tree.valuesArray();
  }

  [Symbol.iterator](): IterableIterator<Region> {
    return this.#tree.values();
  }

  /** Removes every region. */
  clear(): void {
    this.#tree.clear();
  }

  /**
   * The set's invariants: keys equal starts, regions sorted, non-overlapping, page aligned,
   * positive lengths within 32 bits, valid flags and tags.
   * @returns a description of each violation (empty when sane).
   */
  check(): string[] {
    const problems: string[] = [];
    try {
      this.#tree.checkValid();
    } catch (e) {
      problems.push(`B+ tree invalid: ${String(e)}`);
    }
    let prevEnd = 0;
    for (const [key, r] of this.#tree.entries()) {
      const name = `region ${r.tag}@0x${r.start.toString(16)}`;
      if (key !== r.start) problems.push(`${name} stored under key 0x${key.toString(16)}`);
      if (!isPageRange(r.start, r.length)) {
        problems.push(`${name}: bad range (length ${r.length})`);
      }
      if (r.start < prevEnd) problems.push(`${name} overlaps its predecessor`);
      if (
        (r.flags & ~VR_ALL) !== 0 ||
        (r.flags & (VR_ANON | VR_DIRECT)) === (VR_ANON | VR_DIRECT)
      ) {
        problems.push(`${name}: bad flags 0x${r.flags.toString(16)}`);
      }
      if (!TAGS.has(r.tag)) problems.push(`${name}: bad tag`);
      prevEnd = Math.max(prevEnd, end(r));
    }
    return problems;
  }

  #isFree(start: number, len: number): boolean {
    const prev = this.#tree.getPairOrNextLower(start + len - 1)?.[1];
    return prev === undefined || end(prev) <= start;
  }

  #put(from: Region, start: number, stop: number): void {
    this.#tree.set(
      start,
      Object.freeze({ start, length: stop - start, flags: from.flags, tag: from.tag }),
    );
  }
}
