/**
 * Pure helpers of the benchmark harness: medians, rounding, the published JSON shape
 * (DESIGN.md §9) and the readable table. No timing here, so all of it is unit-tested.
 */

/** Host time per operation. */
export type TimeUnit = "ns" | "µs" | "ms";
/** A figure's unit: host time, or simulated clock ticks (e.g. rs.restart_latency). */
export type Unit = TimeUnit | "ticks";

/** The samples of one figure and, when it has one, of its lower bound taken beside it. */
export interface Measurement {
  readonly name: string;
  readonly unit: Unit;
  /** Per-operation times, one per sample. */
  readonly samples: readonly number[];
  readonly baseline: { readonly name: string; readonly samples: readonly number[] } | null;
}

/** One published figure: `ratio` is value / baseline value, both from the same run. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: Unit;
  readonly baseline: string | null;
  readonly ratio: number | null;
}

/** The median of `xs` (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of no samples");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `x` rounded to `digits` significant digits (integers ≥ 10^digits keep all their digits). */
export function roundSig(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const exp = Math.floor(Math.log10(Math.abs(x)));
  const decimals = Math.max(0, digits - 1 - exp);
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** Reduces a measurement to its published figure: medians, and their ratio. */
export function toFigure(m: Measurement): Figure {
  const value = median(m.samples);
  if (m.baseline === null) {
    return { name: m.name, value: roundSig(value, 3), unit: m.unit, baseline: null, ratio: null };
  }
  const base = median(m.baseline.samples);
  return {
    name: m.name,
    value: roundSig(value, 3),
    unit: m.unit,
    baseline: m.baseline.name,
    ratio: base > 0 ? Math.round((value / base) * 100) / 100 : null,
  };
}

/** The `--json` line: `{"figures":[…]}` with keys in the published order. */
export function figuresJson(figures: readonly Figure[]): string {
  return JSON.stringify({
    figures: figures.map((f) => ({
      name: f.name,
      value: f.value,
      unit: f.unit,
      baseline: f.baseline,
      ratio: f.ratio,
    })),
  });
}

/** A plain-text table: one row per measurement, columns padded to their widest cell. */
export function formatTable(ms: readonly Measurement[]): string {
  const header = ["figure", "median", "min..max", "n", "lower bound (beside)", "ratio"];
  const rows = ms.map((m) => {
    const f = toFigure(m);
    const lo = roundSig(Math.min(...m.samples), 3);
    const hi = roundSig(Math.max(...m.samples), 3);
    const base =
      m.baseline === null
        ? "-"
        : `${m.baseline.name} ${roundSig(median(m.baseline.samples), 3)} ${m.unit}`;
    return [
      f.name,
      `${f.value} ${f.unit}`,
      `${lo}..${hi}`,
      String(m.samples.length),
      base,
      f.ratio === null ? "-" : f.ratio.toFixed(2),
    ];
  });
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, c) => (c === 0 || c === 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
