/**
 * DS's contents for the read-only inspector (DESIGN §7): what the store holds, read from the
 * running DS's state by its process context (like inspectRs and inspectVm). Nothing here
 * changes DS.
 */
import {
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  type DsType,
} from "../../include/ds.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { DsServer } from "./server.ts";

export interface DsEntryInspect {
  readonly key: string;
  readonly type: "u32" | "str" | "mem" | "map" | "label";
  /** The label of the publisher. */
  readonly owner: string;
  /** U32 value or LABEL endpoint; undefined for blobs. */
  readonly value: number | undefined;
  /** STR/MEM/MAP length in bytes; undefined for numbers. */
  readonly length: number | undefined;
}

export interface DsSubscriptionInspect {
  readonly owner: string;
  readonly pattern: string;
  /** Type names of the filter, empty for every type. */
  readonly types: readonly string[];
  /** Changes not yet checked (DS_CHECK), oldest entry first. */
  readonly pending: readonly string[];
}

export interface DsInspect {
  readonly entries: readonly DsEntryInspect[];
  readonly subscriptions: readonly DsSubscriptionInspect[];
  /** Bytes of the journal in use and its capacity; null when DS runs without one. */
  readonly journal: { readonly used: number; readonly capacity: number } | null;
}

const TYPE_NAMES: Readonly<Record<DsType, DsEntryInspect["type"]>> = {
  [DSF_TYPE_U32]: "u32",
  [DSF_TYPE_STR]: "str",
  [DSF_TYPE_MEM]: "mem",
  [DSF_TYPE_MAP]: "map",
  [DSF_TYPE_LABEL]: "label",
};

const running = new WeakMap<ProcessContext, DsServer>();

/** Makes `ds` visible to the inspector under its process context. */
export function registerDs(ds: DsServer): void {
  running.set(ds.ctx, ds);
}

/** The contents of the DS running with context `ctx`, or undefined when it is not DS. */
export function inspectDs(ctx: ProcessContext): DsInspect | undefined {
  const ds = running.get(ctx);
  if (ds === undefined) return undefined;
  const entries = [...ds.store.entries()].map((e) => {
    const numeric = e.type === DSF_TYPE_U32 || e.type === DSF_TYPE_LABEL;
    return {
      key: e.key,
      type: TYPE_NAMES[e.type],
      owner: e.owner,
      value: numeric ? e.num : undefined,
      length: numeric ? undefined : e.data?.length,
    };
  });
  const subscriptions = [...ds.store.subscriptionList()].map((s) => ({
    owner: s.owner,
    pattern: s.pattern,
    types: Object.entries(TYPE_NAMES)
      .filter(([bit]) => (s.typeMask & Number(bit)) !== 0)
      .map(([, name]) => name),
    pending: s.pending.map((p) => `${p.key} (${TYPE_NAMES[p.type]})`),
  }));
  const j = ds.journal;
  return {
    entries,
    subscriptions,
    journal: j === null ? null : { used: j.used, capacity: j.capacity },
  };
}
