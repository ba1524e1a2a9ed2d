/**
 * VM's free physical memory: the set of free frame ranges, kept coalesced in two ordered maps
 * (`sorted-btree`, DESIGN §1): by start frame (neighbour look-ups for free/reserve) and by
 * (size, start) (best-fit look-ups). Everything is counted in frames (page numbers), never
 * bytes. MINIX: servers/vm/alloc.c `alloc_pages` / `free_pages` / `alloc_mem_in_list`, which keep
 * an AVL tree of `pagerange`s keyed by address only (MINIX-SPEC §8.2).
 *
 * Errors that can only come from a VM bug (double free, freeing or reserving outside the
 * machine, reserving memory that is not free) throw VmSanityError; running out of memory is
 * not an error here (-1 / null), the caller decides on ENOMEM.
 */
import { BTree } from "./btree.ts";
/** A VM invariant was broken (the MINIX VM would `panic`). Never caused by user input. */
export class VmSanityError extends Error {
  override name = "VmSanityError";
}

/** A run of `n` consecutive frames starting at frame `first`. */
export interface FrameRun {
  readonly first: number;
  readonly n: number;
}

export interface AllocOptions {
  /**
   * Frame limit: every allocated frame must be < `lower` (MINIX PAF_LOWER16MB / PAF_LOWER1MB,
   * e.g. 4096 frames for 16 MiB). Such allocations are placed at the low end of memory.
   */
  readonly lower?: number;
  /**
   * Physically contiguous (MINIX PAF_CONTIG). `alloc` always returns one contiguous run; for
   * `allocList` it forbids splitting the request into several chunks.
   */
  readonly contig?: boolean;
}

/**
 * Largest machine: 4 GiB of 4 KiB frames (DESIGN §2). Keeps the composite size key
 * `size * 2^32 + first` below 2^53 (exact in a double).
 */
export const MAX_FRAMES = 2 ** 20;
const KEY_SHIFT = 2 ** 32;

function sizeKey(size: number, first: number): number {
  return size * KEY_SHIFT + first;
}

export class PhysMem {
  readonly totalFrames: number;
  /** first frame → length of the free range. */
  private readonly byAddr: BTree<number, number>;
  /** sizeKey(length, first) → first. Smallest key ≥ sizeKey(n, 0) is the best fit for n. */
  private readonly bySize: BTree<number, number>;
  private nFree = 0;
  /** Scratch pair for look-ups whose result is used at once (no allocation per call). */
  private readonly pair: [number, number] = [0, 0];

  /** All `totalFrames` frames start free; `reserve` what the boot loader used. */
  constructor(totalFrames: number) {
    if (!Number.isInteger(totalFrames) || totalFrames < 0 || totalFrames > MAX_FRAMES) {
      throw new VmSanityError(`PhysMem: bad frame count ${totalFrames}`);
    }
    this.totalFrames = totalFrames;
    this.byAddr = new BTree<number, number>();
    this.bySize = new BTree<number, number>();
    if (totalFrames > 0) this.insert(0, totalFrames);
  }

  get freeFrames(): number {
    return this.nFree;
  }

  get usedFrames(): number {
    return this.totalFrames - this.nFree;
  }

  /** Number of free ranges (a fragmentation measure). */
  get rangeCount(): number {
    return this.byAddr.size;
  }

  /** Length of the largest free range (0 when memory is full). */
  get largestFree(): number {
    const k = this.bySize.maxKey();
    return k === undefined ? 0 : Math.floor(k / KEY_SHIFT);
  }

  /** The free ranges in address order. */
  ranges(): FrameRun[] {
    const out: FrameRun[] = [];
    for (const [first, n] of this.byAddr.entries()) out.push({ first, n });
    return out;
  }

  /** Whether all of [first, first+n) is free (for VM's global "used and free" sanity check). */
  isFree(first: number, n = 1): boolean {
    const r = this.byAddr.getPairOrNextLower(first);
    return r !== undefined && first + n <= r[0] + r[1];
  }

  /**
   * Allocate `n` contiguous frames; returns the first frame, or -1 when no free range fits.
   *
   * Placement. MINIX scanned the address-ordered tree from the highest range downwards (keeping
   * low memory for DMA), took the first range with size ≥ n, and cut the pages from the end of
   * that range — the side where the scan started, so that successive allocations keep eating
   * into the same end of memory instead of leaving slivers in the middle of ranges. Here:
   * - normal allocations use best fit (smallest range with size ≥ n, ties: lowest address,
   *   O(log n) through the size map) and keep MINIX's rule: they take the END of the range. On
   *   a fresh machine memory is one range, so normal allocations grow down from the top;
   * - `lower` allocations scan from the lowest range upwards, first fit (as MINIX), and take
   *   the START of the range — the side where their scan started. MINIX checked
   *   `start + n` against the limit but then cut from the end, which could cross it; taking
   *   the low end is the spec's fix (MINIX-SPEC §8.2), so a `lower` allocation never crosses
   *   the limit and the two kinds grow towards each other. This scan is O(log n + k) for the k
   *   ranges below the limit (a range straddling the limit only counts for its low part).
   */
  alloc(n: number, opts?: AllocOptions): number {
    checkCount("alloc", n);
    if (opts?.lower !== undefined) return this.allocLow(n, checkLimit(opts.lower));
    const fit = this.bySize.getPairOrNextHigher(sizeKey(n, 0), this.pair);
    if (fit === undefined) return -1;
    return this.takeBack(fit[1], Math.floor(fit[0] / KEY_SHIFT), n);
  }

  /**
   * Allocate `n` frames as a list of chunks (MINIX `alloc_mem_in_list`): one chunk when a single
   * free range fits (best fit, as `alloc`), otherwise whole free ranges largest first (ties:
   * lowest address) and a best-fit piece for the remainder — the fewest chunks. With `contig`
   * the request is one chunk or nothing; with `lower` chunks come from the lowest ranges
   * upwards, all below the limit. Returns null, allocating nothing, when the frames are not
   * available.
   */
  allocList(n: number, opts: AllocOptions = {}): FrameRun[] | null {
    checkCount("allocList", n);
    if (opts.contig === true) {
      const first = this.alloc(n, opts);
      return first < 0 ? null : [{ first, n }];
    }
    if (opts.lower !== undefined) return this.allocListLow(n, checkLimit(opts.lower));
    if (this.nFree < n) return null;
    const out: FrameRun[] = [];
    let rem = n;
    while (rem > 0) {
      const fit = this.bySize.getPairOrNextHigher(sizeKey(rem, 0));
      if (fit !== undefined) {
        out.push({ first: this.takeBack(fit[1], Math.floor(fit[0] / KEY_SHIFT), rem), n: rem });
        break;
      }
      // Nothing holds `rem`: take a largest range whole (the lowest of equal ones).
      const maxKey = this.bySize.maxKey();
      if (maxKey === undefined) throw new VmSanityError("allocList: free count out of sync");
      const size = Math.floor(maxKey / KEY_SHIFT);
      const largest = this.bySize.getPairOrNextHigher(sizeKey(size, 0));
      if (largest === undefined) throw new VmSanityError("allocList: size map out of sync");
      this.remove(largest[1], size);
      out.push({ first: largest[1], n: size });
      rem -= size;
    }
    return out;
  }

  /**
   * Return [first, first+n) to the free set, merging with the free ranges right before and
   * right after it (MINIX `free_pages`). Throws VmSanityError if any frame is already free.
   */
  free(first: number, n: number): void {
    this.checkRun("free", first, n);
    let start = first;
    let len = n;
    const prev = this.byAddr.getPairOrNextLower(first);
    if (prev !== undefined && prev[0] + prev[1] > first) {
      throw new VmSanityError(`free [${first}, +${n}): overlaps free range ${fmt(prev)}`);
    }
    const next = this.byAddr.getPairOrNextHigher(first);
    if (next !== undefined && next[0] < first + n) {
      throw new VmSanityError(`free [${first}, +${n}): overlaps free range ${fmt(next)}`);
    }
    if (next !== undefined && next[0] === first + n) {
      this.remove(next[0], next[1]);
      len += next[1];
    }
    if (prev !== undefined && prev[0] + prev[1] === first) {
      this.remove(prev[0], prev[1]);
      start = prev[0];
      len += prev[1];
    }
    this.insert(start, len);
  }

  /**
   * Take the specific run [first, first+n) out of the free set (what the boot loader used,
   * fixed-address memory). Throws VmSanityError unless all of it is free.
   */
  reserve(first: number, n: number): void {
    this.checkRun("reserve", first, n);
    const r = this.byAddr.getPairOrNextLower(first);
    if (r === undefined || r[0] + r[1] < first + n) {
      throw new VmSanityError(`reserve [${first}, +${n}): not free`);
    }
    const [start, len] = r;
    this.remove(start, len);
    if (first > start) this.insert(start, first - start);
    const end = start + len;
    if (end > first + n) this.insert(first + n, end - (first + n));
  }

  /**
   * Verify the invariants (O(ranges)): both maps hold the same ranges; ranges are non-empty,
   * inside [0, totalFrames), non-overlapping and coalesced (never adjacent); the free count is
   * their sum. Throws VmSanityError.
   */
  check(): void {
    let prevEnd = -1;
    let sum = 0;
    for (const [first, n] of this.byAddr.entries()) {
      const where = `range ${fmt([first, n])}`;
      if (!Number.isInteger(first) || !Number.isInteger(n) || n < 1) {
        throw new VmSanityError(`${where}: malformed`);
      }
      if (first < 0 || first + n > this.totalFrames) {
        throw new VmSanityError(`${where}: outside [0, ${this.totalFrames})`);
      }
      if (first < prevEnd) throw new VmSanityError(`${where}: overlaps its predecessor`);
      if (first === prevEnd) throw new VmSanityError(`${where}: not coalesced with predecessor`);
      if (this.bySize.get(sizeKey(n, first)) !== first) {
        throw new VmSanityError(`${where}: missing from the size map`);
      }
      prevEnd = first + n;
      sum += n;
    }
    if (this.bySize.size !== this.byAddr.size) {
      throw new VmSanityError(
        `size map has ${this.bySize.size} ranges, address map ${this.byAddr.size}`,
      );
    }
    if (sum !== this.nFree) {
      throw new VmSanityError(`free count ${this.nFree} but ranges hold ${sum} frames`);
    }
  }

  // --- internals ---

  private allocLow(n: number, limit: number): number {
    for (const [first, len] of this.byAddr.entries()) {
      if (first + n > limit) break;
      if (len >= n) {
        this.takeFront(first, len, n);
        return first;
      }
    }
    return -1;
  }

  private allocListLow(n: number, limit: number): FrameRun[] | null {
    const plan: [first: number, len: number, take: number][] = [];
    let rem = n;
    for (const [first, len] of this.byAddr.entries()) {
      if (rem === 0 || first >= limit) break;
      const take = Math.min(rem, len, limit - first);
      plan.push([first, len, take]);
      rem -= take;
    }
    if (rem > 0) return null;
    // The planned ranges are distinct, so cutting one does not move another.
    return plan.map(([first, len, take]) => {
      this.takeFront(first, len, take);
      return { first, n: take };
    });
  }

  /** Cut `n` frames from the start of free range [first, +len). */
  private takeFront(first: number, len: number, n: number): void {
    this.remove(first, len);
    if (len > n) this.insert(first + n, len - n);
  }

  /** Cut `n` frames from the end of free range [first, +len); returns the first cut frame. */
  private takeBack(first: number, len: number, n: number): number {
    if (len === n) {
      this.remove(first, len);
      return first;
    }
    // The range keeps its start: its length changes in place in the address map.
    this.byAddr.set(first, len - n);
    this.bySize.delete(sizeKey(len, first));
    this.bySize.set(sizeKey(len - n, first), first);
    this.nFree -= n;
    return first + len - n;
  }

  private insert(first: number, n: number): void {
    this.byAddr.set(first, n);
    this.bySize.set(sizeKey(n, first), first);
    this.nFree += n;
  }

  private remove(first: number, n: number): void {
    this.byAddr.delete(first);
    this.bySize.delete(sizeKey(n, first));
    this.nFree -= n;
  }

  private checkRun(op: string, first: number, n: number): void {
    if (
      !Number.isInteger(first) ||
      !Number.isInteger(n) ||
      n < 1 ||
      first < 0 ||
      first + n > this.totalFrames
    ) {
      throw new VmSanityError(`${op} [${first}, +${n}): outside [0, ${this.totalFrames})`);
    }
  }
}

function checkCount(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new VmSanityError(`${op}: bad frame count ${n}`);
}

function checkLimit(lower: number): number {
  if (!Number.isInteger(lower) || lower < 0) {
    throw new VmSanityError(`alloc: bad lower limit ${lower}`);
  }
  return lower;
}

function fmt([first, n]: readonly [number, number]): string {
  return `[${first}, +${n})`;
}
