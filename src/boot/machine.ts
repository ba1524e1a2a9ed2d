/**
 * The public entry point: `Machine.boot(options)` builds the hardware, starts the kernel,
 * loads every boot process (page tables built here, as a boot loader would until VM exists)
 * and returns a machine that can run to idle, be inspected and stream events.
 */
import { NR_TASKS, VM_PROC_NR } from "../include/endpoint.ts";
import { PROC_FULLVM, PROC_ROOT } from "../include/kcall.ts";
import { SF_USE_COPY } from "../include/rs.ts";
import type { Program } from "../include/trap.ts";
import { Hardware } from "../hw/machine.ts";
import type { EventListener } from "../hw/events.ts";
import { Kernel } from "../kernel/kernel.ts";
import { bootProcs, initKernel } from "../kernel/main.ts";
import { KernelPanic } from "../kernel/panic.ts";
import { runUntilIdle, step } from "../kernel/run.ts";
import { demoImage } from "./demo.ts";
import { resolveImage, type ResolvedEntry } from "./image.ts";
import { rsEntryOf } from "./rs_bootinfo.ts";
import { snapshot, type Snapshot } from "./inspect.ts";
import { FrameAllocator } from "./loader.ts";
import { loadSpaces } from "./spaces.ts";
import { resolveOptions, type BootOptions, type ResolvedOptions } from "./options.ts";

export const VERSION = "0.1.0";

/**
 * RS's boot image buffer: with RS in the image, the program of every boot service whose sys
 * flags keep a copy (SF_USE_COPY) is registered in the program table under its name, so RS can
 * start it again. A name already in the `programs` option is an error.
 */
function bootCopies(
  entries: readonly ResolvedEntry[],
  opts: ResolvedOptions,
): ReadonlyMap<string, Program> {
  const copies = new Map<string, Program>();
  if (rsEntryOf(entries) === undefined) return copies;
  for (const r of entries) {
    if ((r.sysFlags & SF_USE_COPY) === 0) continue;
    if (Object.hasOwn(opts.programs, r.entry.name)) {
      throw new Error(
        `Invalid boot option programs: ${r.entry.name} is also a boot service RS keeps a copy of`,
      );
    }
    copies.set(r.entry.name, r.entry.program);
  }
  return copies;
}

export class Machine {
  readonly options: ResolvedOptions;
  readonly hw: Hardware;
  /** The kernel's state; for tests and the inspector, not for programs. */
  readonly kernel: Kernel;
  /** The boot loader's frame allocator (the memory VM will take over). */
  readonly frames: FrameAllocator;

  private constructor(options: ResolvedOptions, bootCopies: ReadonlyMap<string, Program>) {
    this.options = options;
    this.hw = new Hardware({
      memoryBytes: options.memoryBytes,
      cyclesPerTick: options.cyclesPerTick,
      seed: options.seed,
    });
    this.kernel = new Kernel(this.hw, {
      nrProcs: options.nrProcs,
      nrSysProcs: options.nrSysProcs,
      quantumTicks: options.quantumTicks,
      vmSlot: VM_PROC_NR,
      hz: options.hz,
      programs: new Map([
        ...Object.entries(options.programs).map(([n, p]) => [n, p.program] as const),
        ...bootCopies,
      ]),
      cowSafecopy: options.cowSafecopy,
      cowSafecopyMin: options.cowSafecopyMin,
      grantGenerations: options.grantGenerations,
    });
    this.frames = new FrameAllocator(this.hw);
  }

  /** Boots a machine. Throws an Error naming the first invalid option. */
  static boot(options: BootOptions = {}): Machine {
    const opts = resolveOptions(options, demoImage);
    const entries = resolveImage(opts.image, opts.nrProcs, opts.quantumTicks);
    const m = new Machine(opts, bootCopies(entries, opts));
    const con = m.hw.console;
    con.write(
      `MINIX-TS ${VERSION}. Simulated machine, ${opts.memoryBytes >>> 20} MiB, seed ${opts.seed}.\n`,
    );
    initKernel(m.kernel);
    const spaces = loadSpaces(m.hw, m.frames, entries, opts.vmSanity);
    const specs = entries.map((r, i) => {
      const as = spaces[i]!;
      return {
        slot: r.slot,
        name: r.entry.name,
        program: r.entry.program,
        argv: [...(r.entry.argv ?? [r.entry.name]), ...(r.entry.optionArgv?.(opts) ?? [])],
        priority: r.priority,
        quantum: r.quantum,
        cr3: as.cr3,
        heapBase: as.heapBase,
        heapSize: as.heapSize,
        priv: r.priv,
        runnable: r.entry.runnable ?? true,
        flags: (r.fullvm ? PROC_FULLVM : 0) | (r.entry.rs === true ? PROC_ROOT : 0),
      };
    });
    bootProcs(m.kernel, specs);
    const names = entries.map((r) => r.entry.name).join(" ");
    con.write(`Kernel: ${NR_TASKS} tasks, ${opts.nrProcs} process slots. Boot image: ${names}\n`);
    con.write(`Loader: ${m.frames.used >>> 10} KiB used by boot processes.\n`);
    return m;
  }

  /** Runs one scheduling step; false when idle or halted. */
  step(): boolean {
    if (this.kernel.panicMessage !== null) return false;
    try {
      return step(this.kernel);
    } catch (e) {
      this.#halt(e);
      return false;
    }
  }

  /** Runs until nothing can run (or `maxSteps`). Returns the number of steps taken. */
  runUntilIdle(maxSteps = Number.POSITIVE_INFINITY): number {
    if (this.kernel.panicMessage !== null) return 0;
    try {
      return runUntilIdle(this.kernel, maxSteps);
    } catch (e) {
      this.#halt(e);
      return 0;
    }
  }

  #halt(e: unknown): void {
    const message = e instanceof KernelPanic ? e.message : `Kernel bug: ${String(e)}`;
    this.kernel.panicMessage = message;
    this.hw.console.write(`kernel panic: ${message}\n`);
    this.hw.events.emit({ kind: "panic", t: this.hw.clock.cycles, message });
    if (!(e instanceof KernelPanic)) throw e;
  }

  /** Checks the kernel's invariants; throws KernelPanic when one is broken. */
  check(): void {
    this.kernel.check();
  }

  snapshot(): Snapshot {
    return snapshot(this.kernel);
  }

  get console(): string {
    return this.hw.console.output();
  }

  get halted(): string | null {
    return this.kernel.panicMessage;
  }

  onEvent(fn: EventListener): () => void {
    return this.hw.events.subscribe(fn);
  }
}
