// Simulated time: a cycle counter divided into fixed-length clock ticks.

/**
 * Costs, in simulated CPU cycles, charged by the kernel for each kind of work.
 * `ipcCopyPerByte` is per byte copied, so cycle counts may be fractional.
 */
export const COST = {
  trap: 200,
  kcall: 400,
  ipcCopyPerByte: 0.25,
  contextSwitch: 300,
  pageFault: 1000,
  idleStep: 0,
} as const satisfies Record<string, number>;

/** Options for {@link Clock}. */
export interface ClockOptions {
  /** Cycles per clock tick, a positive integer. */
  readonly cyclesPerTick: number;
}

/** Simulated time. Tick `t` starts at cycle `t * cyclesPerTick`; time starts at cycle 0, tick 0. */
export class Clock {
  readonly cyclesPerTick: number;
  #cycles = 0;
  #ticks = 0;
  #nextTickAt: number;

  /** @throws RangeError if `cyclesPerTick` is not a positive safe integer. */
  constructor(options: ClockOptions) {
    const cpt = options.cyclesPerTick;
    if (!Number.isSafeInteger(cpt) || cpt <= 0) {
      throw new RangeError(`cyclesPerTick must be a positive integer, got ${cpt}`);
    }
    this.cyclesPerTick = cpt;
    this.#nextTickAt = cpt;
  }

  /** Cycles elapsed since boot. */
  get cycles(): number {
    return this.#cycles;
  }

  /** Tick boundaries passed since boot. */
  get ticks(): number {
    return this.#ticks;
  }

  /**
   * Moves time forward by `cycles` (≥ 0, may be fractional).
   * @returns the number of tick boundaries crossed by this advance (usually 0).
   * @throws RangeError for a negative or NaN amount.
   */
  advance(cycles: number): number {
    if (!(cycles >= 0)) throw new RangeError(`cannot advance the clock by ${cycles}`);
    const now = this.#cycles + cycles;
    this.#cycles = now;
    if (now < this.#nextTickAt) return 0;
    return this.#catchUp(Math.floor(now / this.cyclesPerTick));
  }

  /**
   * Sets time to the first cycle of tick `t` if that is in the future; otherwise does nothing.
   * @returns the number of tick boundaries crossed.
   * @throws RangeError if `t` is not a non-negative integer.
   */
  jumpToTick(t: number): number {
    if (!Number.isSafeInteger(t) || t < 0) throw new RangeError(`bad tick ${t}`);
    const at = t * this.cyclesPerTick;
    if (at <= this.#cycles) return 0;
    this.#cycles = at;
    return this.#catchUp(t);
  }

  /** Cycles left before the next tick boundary (always > 0). */
  cyclesUntilNextTick(): number {
    return this.#nextTickAt - this.#cycles;
  }

  #catchUp(ticks: number): number {
    const crossed = ticks - this.#ticks;
    this.#ticks = ticks;
    this.#nextTickAt = (ticks + 1) * this.cyclesPerTick;
    return crossed;
  }
}
