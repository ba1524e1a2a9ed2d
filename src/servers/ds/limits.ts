/**
 * DS's limits come from its argv (`name=value` words after the program name), which the boot
 * loader builds from the boot option `ds` (src/boot/options.ts): key length including the NUL,
 * entries, subscriptions, blob size, snapshots per MAP entry. A word DS does not understand
 * stops it with a message naming the word.
 */
import {
  DS_MAX_BLOB,
  DS_MAX_BLOB_LIMIT,
  DS_MAX_ENTRIES_LIMIT,
  DS_MAX_KEYLEN,
  DS_MAX_KEYLEN_LIMIT,
  DS_MAX_SUBS_LIMIT,
  NR_DS_KEYS,
  NR_DS_SNAPSHOT,
  NR_DS_SUBS,
} from "../../include/ds.ts";
import type { DsLimits } from "./store.ts";

export const DS_DEFAULT_LIMITS: DsLimits = {
  maxKeyLen: DS_MAX_KEYLEN,
  maxEntries: NR_DS_KEYS,
  maxSubs: NR_DS_SUBS,
  maxBlob: DS_MAX_BLOB,
  nrSnapshots: NR_DS_SNAPSHOT,
};

/**
 * DS's arguments: the store's limits and `journalBytes`, the size of the journal that keeps
 * the store across a restart of DS (0: none; journal.ts).
 */
export interface DsArgs extends DsLimits {
  readonly journalBytes: number;
}

export const DS_DEFAULT_JOURNAL = 256 * 1024;

/** Each argument's accepted range. */
export const DS_LIMIT_RANGES: { readonly [K in keyof DsArgs]: readonly [number, number] } = {
  maxKeyLen: [2, DS_MAX_KEYLEN_LIMIT],
  maxEntries: [1, DS_MAX_ENTRIES_LIMIT],
  maxSubs: [1, DS_MAX_SUBS_LIMIT],
  maxBlob: [1, DS_MAX_BLOB_LIMIT],
  nrSnapshots: [1, 64],
  journalBytes: [0, 64 << 20],
};

function isLimit(name: string): name is keyof DsArgs {
  return Object.hasOwn(DS_LIMIT_RANGES, name);
}

/** The argv words for the limits set in `limits` (the others keep their defaults). */
export function dsArgv(limits: Partial<DsArgs>): string[] {
  const out: string[] = [];
  for (const [name, v] of Object.entries(limits)) {
    if (v !== undefined) out.push(`${name}=${v}`);
  }
  return out;
}

/** The limits named in `argv` (argv[0] is the program name), or an error text. */
export function parseDsArgv(argv: readonly string[]): DsArgs | string {
  const limits: Record<keyof DsArgs, number> = {
    ...DS_DEFAULT_LIMITS,
    journalBytes: DS_DEFAULT_JOURNAL,
  };
  for (const word of argv.slice(1)) {
    const eq = word.indexOf("=");
    const name = eq < 0 ? word : word.slice(0, eq);
    if (!isLimit(name)) return `unknown argument ${word}`;
    const v = Number(word.slice(eq + 1));
    const [lo, hi] = DS_LIMIT_RANGES[name];
    if (eq < 0 || !Number.isSafeInteger(v) || v < lo || v > hi) {
      return `bad value in ${word} (expected an integer in ${lo}..${hi})`;
    }
    limits[name] = v;
  }
  return limits;
}
