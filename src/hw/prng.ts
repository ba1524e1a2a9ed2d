// Seeded deterministic PRNG: xoshiro128** with its state expanded from the seed by splitmix32.

const TWO_32 = 2 ** 32;

const GOLDEN = 0x9e3779b9;

/** A deterministic pseudo-random generator; the only source of randomness in the machine. */
export class Prng {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;

  /**
   * @param seed any safe integer; equal seeds give equal sequences.
   * @throws RangeError if `seed` is not a safe integer.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`seed must be a safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_32) >>> 0;
    // splitmix32: a Weyl sequence passed through the murmur3 finalizer.
    const st = lo ^ Math.imul(hi, 0x27d4eb2d);
    this.#seed(
      fmix32(st + GOLDEN),
      fmix32(st + 2 * GOLDEN),
      fmix32(st + 3 * GOLDEN),
      fmix32(st + 4 * GOLDEN),
    );
  }

  /** Returns the next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /**
   * Returns an integer uniform in [0, n), without modulo bias.
   * @throws RangeError unless n is an integer in [1, 2^32].
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Returns a float uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Returns an independent generator derived deterministically from (and advancing) this one. */
  fork(): Prng {
    const child = new Prng(0);
    child.#seed(
      fmix32(this.nextU32()),
      fmix32(this.nextU32()),
      fmix32(this.nextU32()),
      fmix32(this.nextU32()),
    );
    return child;
  }

  #seed(a: number, b: number, c: number, d: number): void {
    // xoshiro must not start from the all-zero state.
    this.#s0 = (a | b | c | d) === 0 ? 1 : a | 0;
    this.#s1 = b | 0;
    this.#s2 = c | 0;
    this.#s3 = d | 0;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** MurmurHash3 finalizer: a bijective 32-bit mixer. */
function fmix32(h: number): number {
  let z = h;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
