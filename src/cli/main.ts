/**
 * The `minix-ts` command. With no arguments it boots the default image, runs it to idle and
 * prints the console; `--trace` also prints the machine's events.
 */
import { parseArgs } from "node:util";
import { Machine } from "../boot/machine.ts";
import { formatDs, formatProcTable } from "../boot/inspect.ts";

function main(argv: readonly string[]): number {
  let args;
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        seed: { type: "string" },
        trace: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    });
  } catch (e) {
    process.stderr.write(`minix-ts: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write("usage: minix-ts [--seed N] [--trace]\n");
    return 0;
  }
  const seed = args.values.seed === undefined ? 1 : Number(args.values.seed);
  let m: Machine;
  try {
    m = Machine.boot({ seed });
  } catch (e) {
    process.stderr.write(`minix-ts: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.values.trace) m.onEvent((e) => process.stdout.write(`  ${JSON.stringify(e)}\n`));
  m.hw.console.onOutput((text) => process.stdout.write(text));
  process.stdout.write(m.console);
  m.runUntilIdle();
  const s = m.snapshot();
  if (s.panic !== null) return 1;
  process.stdout.write(`System idle at tick ${s.ticks} (${s.cycles} cycles). Halted.\n`);
  if (s.procs.some((p) => p.slot >= 0)) process.stdout.write(formatProcTable(s) + "\n");
  if (s.ds !== undefined) process.stdout.write(`\nData store (DS):\n${formatDs(s.ds)}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
