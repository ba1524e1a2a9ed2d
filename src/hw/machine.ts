// The simulated machine: memory, MMU, clock, PRNG, event stream and console wired together.

import { Clock } from "./clock.ts";
import { Console } from "./devices/console.ts";
import { EventStream } from "./events.ts";
import { PhysicalMemory } from "./memory.ts";
import { Mmu } from "./mmu.ts";
import { Prng } from "./prng.ts";

/** Options for {@link Hardware}. */
export interface HardwareOptions {
  /** Physical memory size in bytes (positive multiple of 4096, ≤ 4 GiB). */
  readonly memoryBytes: number;
  /** Clock tick length in cycles (positive integer). */
  readonly cyclesPerTick: number;
  /** PRNG seed (safe integer). */
  readonly seed: number;
}

/** One simulated machine. Construction validates options via the components (RangeError). */
export class Hardware {
  readonly mem: PhysicalMemory;
  readonly mmu: Mmu;
  readonly clock: Clock;
  readonly prng: Prng;
  readonly events: EventStream;
  readonly console: Console;

  constructor(options: HardwareOptions) {
    this.mem = new PhysicalMemory(options.memoryBytes);
    this.mmu = new Mmu(this.mem);
    this.clock = new Clock({ cyclesPerTick: options.cyclesPerTick });
    this.prng = new Prng(options.seed);
    this.events = new EventStream();
    this.console = new Console();
  }
}
