/**
 * `npm run bench`: measures each figure beside its lower bound in the same run and prints a
 * table of medians and ratios; with `--json` the last line is `{"figures":[…]}`
 * (DESIGN.md §9). `--only NAME` (repeatable) restricts the run to some figures.
 */
import { parseArgs } from "node:util";
import { figuresJson, formatTable, toFigure, type Measurement } from "./format.ts";
import { DEFAULT_PLAN, measureAlone, measureBeside, type Plan, type Workload } from "./measure.ts";
import { pmForkExecExitWait } from "./pm.ts";
import { rsRestartLatency } from "./rs.ts";
import { grantSafecopy, hostCopyWithin, SAFECOPY_SIZES } from "./safecopy.ts";
import { safecopyMs, safeperf, SAFEPERF_PAGES } from "./safeperf.ts";
import {
  bootToIdle,
  generatorPingPong,
  notifyDelivery,
  sendrecRoundtrip,
  vmCowFault,
  vmForkExit,
  vmPagefault,
} from "./workloads.ts";
import { dsNotifyFanout100, dsPublishRetrieveU32, dsRetrieve100k } from "./ds_workloads.ts";

const PINGPONG = "host.generator_pingpong";
const FIGURES = [
  PINGPONG,
  "ipc.sendrec_roundtrip",
  "ipc.notify",
  "vm.pagefault",
  "vm.cow_fault",
  "vm.fork_exit",
  "ds.publish_retrieve_u32",
  "ds.retrieve_100k",
  "ds.notify_fanout_100",
  "boot.to_idle",
  "pm.fork_exec_exit_wait",
  "rs.restart_latency",
  "rs.restart_latency_host",
  "host.copywithin_64KiB",
  "host.copywithin_16MiB",
  ...Object.keys(SAFECOPY_SIZES).map((s) => `grant.safecopy_${s}`),
  "grant.safecopy_16MiB_ms",
  "grant.cow_safecopy_16MiB",
  ...SAFEPERF_PAGES.flatMap((n) => [
    `safeperf.copy_${n}`,
    `safeperf.cowcopy_${n}`,
    `safeperf.map_${n}`,
  ]),
] as const;

function run(only: ReadonlySet<string>, plan: Plan, log: (s: string) => void): Measurement[] {
  const want = (name: string): boolean => only.size === 0 || only.has(name);
  const pingpong = generatorPingPong();
  const out: Measurement[] = [];
  // The lower bound is measured on its own and again beside every figure it bounds; its
  // published value is the median of all those samples.
  const pingSamples: number[] = [];
  if (want(PINGPONG)) {
    log(`${PINGPONG}…`);
    pingSamples.push(...measureAlone(pingpong, plan).samples);
  }
  for (const make of [sendrecRoundtrip, notifyDelivery]) {
    const w = make();
    if (!want(w.name)) continue;
    log(`${w.name}…`);
    const m = measureBeside(w, pingpong, plan);
    pingSamples.push(...(m.baseline?.samples ?? []));
    out.push(m);
  }
  if (want(PINGPONG)) {
    out.unshift({ name: PINGPONG, unit: "ns", samples: pingSamples, baseline: null });
  }
  // A page fault resolved by VM is bounded by the IPC it needs: a SENDREC round trip,
  // measured again beside it (its own figure above stays bounded by the ping-pong). So is a
  // copy-on-write fault.
  for (const make of [vmPagefault, vmCowFault]) {
    const fault = make();
    if (!want(fault.name)) continue;
    log(`${fault.name}…`);
    out.push(measureBeside(fault, sendrecRoundtrip(), plan));
  }
  if (want("vm.fork_exit")) {
    log("vm.fork_exit…");
    out.push(measureAlone(vmForkExit(), plan)); // boots its machine: only when wanted
  }
  // DS requests are bounded by the SENDREC round trips they make.
  for (const [name, make] of [
    ["ds.publish_retrieve_u32", dsPublishRetrieveU32],
    ["ds.retrieve_100k", dsRetrieve100k],
  ] as const) {
    if (!want(name)) continue;
    log(`${name}…`);
    out.push(measureBeside(make(), sendrecRoundtrip(), plan));
  }
  if (want("ds.notify_fanout_100")) {
    log("ds.notify_fanout_100…");
    out.push(measureAlone(dsNotifyFanout100(), plan)); // µs: no ns lower bound beside it
  }
  if (want("pm.fork_exec_exit_wait")) {
    log("pm.fork_exec_exit_wait…");
    out.push(measureAlone(pmForkExecExitWait(), plan)); // boots its machine: only when wanted
  }
  out.push(...safecopyFigures(want, plan, log));
  out.push(...cowFigures(want, plan, log));
  const boot = bootToIdle();
  if (want(boot.name)) {
    log(`${boot.name}…`);
    out.push(measureAlone(boot, plan));
  }
  if (want("rs.restart_latency") || want("rs.restart_latency_host")) {
    // One run gives both: host time per crash-to-answer cycle, and its simulated ticks.
    log("rs.restart_latency…");
    const rs = rsRestartLatency();
    const host = measureAlone(rs.host, plan);
    if (want("rs.restart_latency")) {
      out.push({ name: "rs.restart_latency", unit: "ticks", samples: rs.ticks, baseline: null });
    }
    if (want(host.name)) out.push(host);
  }
  return out;
}

type Want = (name: string) => boolean;
type Log = (s: string) => void;

/**
 * Figures measured beside one lower bound (made only when needed), whose own figure
 * `boundName` pools the bound's samples taken beside all of them, or is measured alone when
 * none of them is wanted.
 */
function besideBound(
  boundName: string,
  makeBound: () => Workload,
  figures: readonly (readonly [name: string, make: () => Workload])[],
  want: Want,
  plan: Plan,
  log: Log,
): Measurement[] {
  const wanted = figures.filter(([name]) => want(name));
  if (wanted.length === 0 && !want(boundName)) return [];
  const bound = makeBound();
  const out: Measurement[] = [];
  const boundSamples: number[] = [];
  for (const [name, make] of wanted) {
    log(`${name}…`);
    const m = measureBeside(make(), bound, plan);
    boundSamples.push(...(m.baseline?.samples ?? []));
    out.push(m);
  }
  if (want(boundName)) {
    if (boundSamples.length === 0) {
      log(`${boundName}…`);
      boundSamples.push(...measureAlone(bound, plan).samples);
    }
    out.push({ name: boundName, unit: bound.unit, samples: boundSamples, baseline: null });
  }
  return out;
}

/**
 * Safecopy throughput: up to 64 KiB bounded by copyWithin of 64 KiB (the bytes a small copy
 * could move in the time of its trap), 16 MiB by copyWithin of 16 MiB.
 */
function safecopyFigures(want: Want, plan: Plan, log: Log): Measurement[] {
  return [false, true].flatMap((big) => {
    const boundName = big ? "host.copywithin_16MiB" : "host.copywithin_64KiB";
    const figures = Object.entries(SAFECOPY_SIZES)
      .filter(([, bytes]) => bytes > 64 << 10 === big)
      .map(([suffix, bytes]) => {
        const name = `grant.safecopy_${suffix}`;
        return [name, () => grantSafecopy(name, bytes)] as const;
      });
    const bound = () => hostCopyWithin(boundName, big ? 16 << 20 : 64 << 10);
    return besideBound(boundName, bound, figures, want, plan, log);
  });
}

/**
 * COW safecopy of 16 MiB beside the plain safecopy of 16 MiB (both in ms, on a machine with
 * VM); safeperf: per page, COW safecopy + touch and safemap + touch + safeunmap beside the
 * plain safecopy + touch of the same pages.
 */
function cowFigures(want: Want, plan: Plan, log: Log): Measurement[] {
  const plainName = "grant.safecopy_16MiB_ms";
  const cowName = "grant.cow_safecopy_16MiB";
  const out = besideBound(
    plainName,
    () => safecopyMs(plainName, 16 << 20, false),
    [[cowName, () => safecopyMs(cowName, 16 << 20, true)]],
    want,
    plan,
    log,
  );
  for (const n of SAFEPERF_PAGES) {
    const figures = (["cowcopy", "map"] as const).map(
      (mode) => [`safeperf.${mode}_${n}`, () => safeperf(mode, n)] as const,
    );
    out.push(
      ...besideBound(`safeperf.copy_${n}`, () => safeperf("copy", n), figures, want, plan, log),
    );
  }
  return out;
}

function main(argv: readonly string[]): number {
  let args;
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean", default: false },
        only: { type: "string", multiple: true, default: [] },
        samples: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    });
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(
      `usage: npm run bench -- [--json] [--samples N] [--only NAME]…\nfigures: ${FIGURES.join(", ")}\n`,
    );
    return 0;
  }
  const only = new Set(args.values.only);
  for (const name of only) {
    if (!(FIGURES as readonly string[]).includes(name)) {
      process.stderr.write(`bench: unknown figure ${name}\n`);
      return 2;
    }
  }
  const samples =
    args.values.samples === undefined ? DEFAULT_PLAN.samples : Number(args.values.samples);
  if (!Number.isInteger(samples) || samples < 1) {
    process.stderr.write(`bench: --samples must be a positive integer\n`);
    return 2;
  }
  const plan: Plan = { ...DEFAULT_PLAN, samples };
  const json = args.values.json;
  const t0 = performance.now();
  const ms = run(only, plan, json ? () => {} : (s) => process.stderr.write(`  ${s}\n`));
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  if (json) {
    process.stdout.write(figuresJson(ms.map(toFigure)) + "\n");
  } else {
    process.stdout.write(`${formatTable(ms)}\n`);
    process.stdout.write(
      `Medians of ${plan.samples} samples of at least ${plan.minMs} ms each; ratio = median / ` +
        `median of the lower bound sampled beside it (${PINGPONG} and host.copywithin_* pool ` +
        `all their samples). For MB/s (higher is better) the ratio is the fraction of the ` +
        `bound's throughput reached.\n` +
        `Total ${total} s, node ${process.version}.\n`,
    );
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
