/**
 * Host timing: warm a workload up, size its samples so each lasts at least `minMs`, and take
 * the samples of a figure interleaved with those of its lower bound (same run, side by side).
 */
import type { Measurement, TimeUnit } from "./format.ts";

/** Something to time: `run(n)` does about `n` operations and returns how many it did. */
export interface Workload {
  readonly name: string;
  readonly unit: TimeUnit;
  run(n: number): number;
  /**
   * Called before every `run(n)`, outside the timing: sets up what the next `n` operations
   * need (e.g. boots fresh machines when a figure uses resources up).
   */
  prepare?(n: number): void;
}

export interface Plan {
  /** Samples per figure (the median is published). */
  readonly samples: number;
  /** Shortest acceptable sample. */
  readonly minMs: number;
  /** Sample length aimed for (above minMs, so a faster JIT later still stays above it). */
  readonly sampleMs: number;
  /** Host time spent warming a workload up before sizing its samples. */
  readonly warmMs: number;
}

export const DEFAULT_PLAN: Plan = { samples: 7, minMs: 50, sampleMs: 80, warmMs: 250 };

interface Timed {
  readonly ms: number;
  readonly ops: number;
}

function timeRun(w: Workload, n: number): Timed {
  w.prepare?.(n);
  const t0 = performance.now();
  const ops = w.run(n);
  const ms = performance.now() - t0;
  if (!(ops > 0)) throw new Error(`${w.name}: run(${n}) did no operation`);
  return { ms, ops };
}

/** Operations that should take `ms`, judging by `t`. */
function opsFor(t: Timed, ms: number): number {
  return Math.max(1, Math.ceil((t.ops * ms) / Math.max(t.ms, 1e-3)));
}

const UNIT_PER_MS: Readonly<Record<TimeUnit, number>> = { ns: 1e6, µs: 1e3, ms: 1 };

function perOp(w: Workload, t: Timed): number {
  return (UNIT_PER_MS[w.unit] * t.ms) / t.ops;
}

/** Runs `w` for at least `plan.warmMs`; returns the operation count of one sample. */
function warmUp(w: Workload, plan: Plan): number {
  let n = 1;
  let spent = 0;
  let last: Timed;
  do {
    last = timeRun(w, n);
    spent += last.ms;
    n = last.ms < plan.sampleMs / 8 ? n * 2 : opsFor(last, plan.sampleMs);
  } while (spent < plan.warmMs || last.ms < plan.sampleMs / 8);
  return opsFor(last, plan.sampleMs);
}

/** One sample of `w` with `n` operations; `n` grows for later samples if this one was short. */
function sample(w: Workload, n: { value: number }, plan: Plan): number {
  const t = timeRun(w, n.value);
  if (t.ms < plan.minMs) n.value = opsFor(t, plan.sampleMs);
  return perOp(w, t);
}

/** A figure without a lower bound. */
export function measureAlone(w: Workload, plan: Plan): Measurement {
  const n = { value: warmUp(w, plan) };
  const samples: number[] = [];
  for (let i = 0; i < plan.samples; i++) samples.push(sample(w, n, plan));
  return { name: w.name, unit: w.unit, samples, baseline: null };
}

/**
 * A figure and its lower bound, sample by sample in alternating order, so that both see the
 * same machine state (frequency, GC, other load).
 */
export function measureBeside(w: Workload, base: Workload, plan: Plan): Measurement {
  if (w.unit !== base.unit) throw new Error(`${w.name} and ${base.name} differ in unit`);
  const nb = { value: warmUp(base, plan) };
  const nw = { value: warmUp(w, plan) };
  const samples: number[] = [];
  const baseSamples: number[] = [];
  for (let i = 0; i < plan.samples; i++) {
    if (i % 2 === 0) {
      baseSamples.push(sample(base, nb, plan));
      samples.push(sample(w, nw, plan));
    } else {
      samples.push(sample(w, nw, plan));
      baseSamples.push(sample(base, nb, plan));
    }
  }
  return {
    name: w.name,
    unit: w.unit,
    samples,
    baseline: { name: base.name, samples: baseSamples },
  };
}
