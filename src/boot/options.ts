/**
 * Boot options and their validation. A bad option throws one Error that names it.
 */
import { NONE, NR_BOOT_PROCS } from "../include/endpoint.ts";
import type { BootImageEntry } from "./image.ts";

export interface BootOptions {
  /** Physical memory in bytes (multiple of 4 KiB, 1 MiB .. 4 GiB). Default 64 MiB. */
  readonly memoryBytes?: number;
  /** Seed of the machine's PRNG. Default 1. */
  readonly seed?: number;
  /** User-space process slots (NR_PROCS). Default 256. */
  readonly nrProcs?: number;
  /** Privilege structures (NR_SYS_PROCS). Default 64. */
  readonly nrSysProcs?: number;
  /** Cycles per clock tick. Default 100 000. */
  readonly cyclesPerTick?: number;
  /** Clock ticks per simulated second. Default 60. */
  readonly hz?: number;
  /** Default quantum in ticks. Default 8. */
  readonly quantumTicks?: number;
  /** VM runs its sanity checks after every request (when VM is in the image). Default false. */
  readonly vmSanity?: boolean;
  /** The boot image. Default: the demonstration image. */
  readonly image?: readonly BootImageEntry[];
}

export type ResolvedOptions = Required<BootOptions>;

function intOption(
  name: string,
  v: number | undefined,
  def: number,
  min: number,
  max: number,
): number {
  const x = v ?? def;
  if (!Number.isSafeInteger(x) || x < min || x > max) {
    throw new Error(
      `Invalid boot option ${name}: ${String(v)} (expected an integer in ${min}..${max})`,
    );
  }
  return x;
}

export function resolveOptions(
  o: BootOptions,
  defaultImage: readonly BootImageEntry[],
): ResolvedOptions {
  const memoryBytes = intOption("memoryBytes", o.memoryBytes, 64 * 1024 * 1024, 1 << 20, 2 ** 32);
  if (memoryBytes % 4096 !== 0) {
    throw new Error(`Invalid boot option memoryBytes: ${memoryBytes} is not a multiple of 4096`);
  }
  // Slots must stay below the magic endpoint values (NONE is the smallest), or a
  // generation-0 endpoint would equal one of them.
  const nrProcs = intOption("nrProcs", o.nrProcs, 256, 16, NONE);
  const image = o.image ?? defaultImage;
  if (!Array.isArray(image) || image.length === 0) {
    throw new Error("Invalid boot option image: expected a non-empty array of boot entries");
  }
  if (o.vmSanity !== undefined && typeof o.vmSanity !== "boolean") {
    throw new Error(`Invalid boot option vmSanity: ${String(o.vmSanity)} (expected a boolean)`);
  }
  return {
    memoryBytes,
    seed: intOption("seed", o.seed, 1, 0, Number.MAX_SAFE_INTEGER),
    nrProcs,
    nrSysProcs: intOption("nrSysProcs", o.nrSysProcs, 64, NR_BOOT_PROCS + 1, 32_000),
    cyclesPerTick: intOption("cyclesPerTick", o.cyclesPerTick, 100_000, 1, 2 ** 31),
    hz: intOption("hz", o.hz, 60, 1, 10_000),
    quantumTicks: intOption("quantumTicks", o.quantumTicks, 8, 1, 1_000_000),
    vmSanity: o.vmSanity ?? false,
    image,
  };
}
