/**
 * Fixed-size bit sets over small integers (privilege ids, kernel-call numbers), sized at
 * construction instead of MINIX's fixed 32-bit chunks. Out-of-range bits read as clear and
 * are ignored on write, so callers need no range checks of their own.
 */
export class BitSet {
  readonly size: number;
  readonly #words: Uint32Array;

  constructor(size: number) {
    this.size = size;
    this.#words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
  }

  has(i: number): boolean {
    if (i < 0 || i >= this.size) return false;
    return ((this.#words[i >>> 5]! >>> (i & 31)) & 1) !== 0;
  }

  set(i: number): void {
    if (i < 0 || i >= this.size) return;
    this.#words[i >>> 5]! |= 1 << (i & 31);
  }

  clear(i: number): void {
    if (i < 0 || i >= this.size) return;
    this.#words[i >>> 5]! &= ~(1 << (i & 31));
  }

  setAll(): void {
    this.#words.fill(0xffffffff);
    const extra = this.#words.length * 32 - this.size;
    if (extra > 0) this.#words[this.#words.length - 1] = 0xffffffff >>> extra;
  }

  clearAll(): void {
    this.#words.fill(0);
  }

  isEmpty(): boolean {
    for (const w of this.#words) if (w !== 0) return false;
    return true;
  }

  /** The lowest set bit at or above `from`, or -1. */
  nextSet(from = 0): number {
    if (from < 0) from = 0;
    for (let w = from >>> 5; w < this.#words.length; w++) {
      let bits = this.#words[w]!;
      if (w === from >>> 5) bits &= 0xffffffff << (from & 31);
      if (bits !== 0) {
        const i = w * 32 + (31 - Math.clz32(bits & -bits));
        return i < this.size ? i : -1;
      }
    }
    return -1;
  }

  /** Every set bit, lowest first. */
  *members(): Generator<number> {
    for (let i = this.nextSet(0); i >= 0; i = this.nextSet(i + 1)) yield i;
  }
}
