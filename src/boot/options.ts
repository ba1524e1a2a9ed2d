/**
 * Boot options and their validation. A bad option throws one Error that names it.
 */
import { NONE, NR_BOOT_PROCS } from "../include/endpoint.ts";
import { PROGRAM_NAME_MAX } from "../include/kcall.ts";
import type { Program } from "../include/trap.ts";
import { EXEC_IMAGE_PAGES_MAX } from "../include/vm.ts";
import type { BootImageEntry } from "./image.ts";
import { COW_SAFECOPY_MIN_DEFAULT } from "../kernel/cow_safecopy.ts";
import { DS_LIMIT_RANGES } from "../servers/ds/limits.ts";
import type { DsArgs } from "../servers/ds/limits.ts";

/** A program exec can start: the generator function and the size of its loaded image. */
export interface ProgramSpec {
  readonly program: Program;
  /** Pages of loaded text+data: exec must find this much memory up front (0..65536). */
  readonly imagePages: number;
}

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
  /**
   * Safecopies of whole pages at the same in-page offset share the pages copy-on-write through
   * VM instead of copying them (MINIX `USE_COW_SAFECOPY`, off in MINIX). Default true.
   */
  readonly cowSafecopy?: boolean;
  /**
   * Bytes below which a safecopy is always a plain copy even with `cowSafecopy` (COW costs a
   * VM round trip). 4096 .. 2^32. Default {@link DEFAULT_COW_SAFECOPY_MIN}.
   */
  readonly cowSafecopyMin?: number;
  /**
   * Grant ids carry a generation checked by the kernel (MINIX-SPEC §4.8); false gives MINIX
   * behaviour (a stale id is honoured by a reused table slot). Default true.
   */
  readonly grantGenerations?: boolean;
  /** The boot image. Default: the demonstration image. */
  readonly image?: readonly BootImageEntry[];
  /**
   * The programs exec can start, by name (1..32 bytes of UTF-8): the stand-in for /bin until a
   * file system holds them. Default: none.
   */
  readonly programs?: Readonly<Record<string, ProgramSpec>>;
  /**
   * DS's limits (passed to it as argv words): `maxKeyLen` (bytes incl. the NUL, 2..1024,
   * default 80), `maxEntries` (default 64), `maxSubs` (default 128), `maxBlob` (bytes of a
   * STR/MEM value, default 65536), `nrSnapshots` (per MAP entry, default 5), `journalBytes`
   * (the journal that keeps DS's store across its restart, 0..64 MiB, 0 = none, default
   * 256 KiB).
   */
  readonly ds?: Partial<DsArgs>;
}

export type ResolvedOptions = Required<BootOptions>;

/**
 * Default `cowSafecopyMin`: 256 KiB. Measured (src/bench/safeperf.ts, node 20, tsx): a COW
 * safecopy costs a VM round trip (about 30 µs) plus about 0.25 µs per page, a plain copy
 * about 10 µs plus 0.4–1.5 µs per page; COW stops losing between 128 and 256 KiB (noisy
 * host) and takes a tenth of the time at 16 MiB. Later writes to the pages cost a COW fault
 * each (safeperf.cowcopy_*), which the copy alone does not show.
 */
export const DEFAULT_COW_SAFECOPY_MIN = COW_SAFECOPY_MIN_DEFAULT;

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

function boolOption(name: string, v: boolean | undefined, def: boolean): boolean {
  if (v !== undefined && typeof v !== "boolean") {
    throw new Error(`Invalid boot option ${name}: ${String(v)} (expected a boolean)`);
  }
  return v ?? def;
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
  return {
    programs: checkPrograms(o.programs),
    ds: checkDs(o.ds),
    memoryBytes,
    seed: intOption("seed", o.seed, 1, 0, Number.MAX_SAFE_INTEGER),
    nrProcs,
    nrSysProcs: intOption("nrSysProcs", o.nrSysProcs, 64, NR_BOOT_PROCS + 1, 32_000),
    cyclesPerTick: intOption("cyclesPerTick", o.cyclesPerTick, 100_000, 1, 2 ** 31),
    hz: intOption("hz", o.hz, 60, 1, 10_000),
    quantumTicks: intOption("quantumTicks", o.quantumTicks, 8, 1, 1_000_000),
    vmSanity: boolOption("vmSanity", o.vmSanity, false),
    cowSafecopy: boolOption("cowSafecopy", o.cowSafecopy, true),
    grantGenerations: boolOption("grantGenerations", o.grantGenerations, true),
    cowSafecopyMin: intOption(
      "cowSafecopyMin",
      o.cowSafecopyMin,
      DEFAULT_COW_SAFECOPY_MIN,
      4096,
      2 ** 32,
    ),
    image,
  };
}

/** Validates the program table; throws an Error naming the option and the bad entry. */
function checkPrograms(
  programs: Readonly<Record<string, ProgramSpec>> | undefined,
): Readonly<Record<string, ProgramSpec>> {
  if (programs === undefined) return {};
  const bad = (why: string): never => {
    throw new Error(`Invalid boot option programs: ${why}`);
  };
  if (typeof programs !== "object" || programs === null || Array.isArray(programs)) {
    bad("expected an object mapping names to { program, imagePages }");
  }
  for (const [name, spec] of Object.entries(programs)) {
    if (name === "" || new TextEncoder().encode(name).length > PROGRAM_NAME_MAX) {
      bad(`name "${name}" must have 1..${PROGRAM_NAME_MAX} bytes`);
    }
    const s: unknown = spec;
    if (typeof s !== "object" || s === null) bad(`${name}: expected { program, imagePages }`);
    if (typeof spec.program !== "function") bad(`${name}: program must be a generator function`);
    const n = spec.imagePages;
    if (!Number.isSafeInteger(n) || n < 0 || n > EXEC_IMAGE_PAGES_MAX) {
      bad(`${name}: imagePages ${String(n)} not an integer in 0..${EXEC_IMAGE_PAGES_MAX}`);
    }
  }
  return programs;
}

/** Validates the `ds` option; throws an Error naming the option and the bad limit. */
function checkDs(ds: Partial<DsArgs> | undefined): Partial<DsArgs> {
  if (ds === undefined) return {};
  if (typeof ds !== "object" || ds === null || Array.isArray(ds)) {
    throw new Error("Invalid boot option ds: expected an object of DS limits");
  }
  for (const [name, v] of Object.entries(ds)) {
    if (!Object.hasOwn(DS_LIMIT_RANGES, name)) {
      throw new Error(
        `Invalid boot option ds.${name}: unknown limit (expected ${Object.keys(DS_LIMIT_RANGES).join(", ")})`,
      );
    }
    if (v === undefined) continue;
    intOption(`ds.${name}`, v, 0, ...DS_LIMIT_RANGES[name as keyof DsArgs]);
  }
  return ds;
}
