/**
 * DS workloads, each on a machine booted through RS with VM and DS (RS publishes the labels):
 * - ds.publish_retrieve_u32: a client loops publish(u32, DSF_OVERWRITE) + retrieve of one key;
 *   one operation is the pair.
 * - ds.retrieve_100k: 100,000 u32 entries are published before timing (limits raised with the
 *   boot option `ds`); one operation is one retrieve of a different key each time.
 * - ds.notify_fanout_100 (without RS, see below): 100 subscribers to one key; one operation is
 *   a publish with DSF_OVERWRITE until the last of the 100 notifications was received (the
 *   subscriber that counts the 100th tells the publisher, which then publishes again).
 */
import { Machine } from "../boot/machine.ts";
import { dsEntry, rsEntry, vmEntry } from "../boot/services.ts";
import type { BootImageEntry } from "../boot/image.ts";
import { ANY, RS_PROC_NR, type Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { DSF_OVERWRITE } from "../include/ds.ts";
import { isIpcNotify } from "../include/ipc.ts";
import type { ProcessContext } from "../include/trap.ts";
import { notify, receive, type IpcStatus, type Syscall } from "../lib/ipc.ts";
import { dsPublishLabel, dsPublishU32, dsRetrieveU32, dsSubscribe } from "../lib/libsys/ds.ts";
import { malloc } from "../lib/runtime.ts";
import { sefStartup } from "../lib/sef.ts";
import type { Workload } from "./measure.ts";
import { countedOps, type Progress } from "./workloads.ts";

const CLIENT_SLOT = 11;

function boot(image: BootImageEntry[], ds = {}): Machine {
  return Machine.boot({
    memoryBytes: 64 << 20,
    nrProcs: 64,
    ds,
    image: [rsEntry, vmEntry, dsEntry, ...image],
  });
}

export function dsPublishRetrieveU32(): Workload {
  const s: Progress = { ops: 0, error: OK };
  function* client(ctx: ProcessContext): Syscall {
    yield* sefStartup(ctx);
    for (let v = 0; ; v++) {
      const p = yield* dsPublishU32(ctx, "bench.u32", v, DSF_OVERWRITE);
      const r = yield* dsRetrieveU32(ctx, "bench.u32");
      if (p !== OK || r.status !== OK || r.value !== v) {
        s.error = p !== OK ? p : r.status !== OK ? r.status : -1;
        return 1;
      }
      s.ops++;
    }
  }
  const m = boot([{ name: "client", slot: CLIENT_SLOT, program: client, priority: 5 }]);
  return countedOps("ds.publish_retrieve_u32", "ns", m, s, 8);
}

export const RETRIEVE_ENTRIES = 100_000;

export function dsRetrieve100k(): Workload {
  const s: Progress = { ops: 0, error: OK };
  function* client(ctx: ProcessContext): Syscall {
    yield* sefStartup(ctx);
    for (let i = 0; i < RETRIEVE_ENTRIES; i++) {
      const r = yield* dsPublishU32(ctx, `key.${i}`, i);
      if (r !== OK) {
        s.error = r;
        return 1;
      }
    }
    for (let i = 0; ; i = (i + 7919) % RETRIEVE_ENTRIES) {
      const r = yield* dsRetrieveU32(ctx, `key.${i}`);
      if (r.status !== OK || r.value !== i) {
        s.error = r.status !== OK ? r.status : -1;
        return 1;
      }
      s.ops++;
    }
  }
  const m = boot([{ name: "client", slot: CLIENT_SLOT, program: client, priority: 5 }], {
    maxEntries: RETRIEVE_ENTRIES + 64,
  });
  return countedOps("ds.retrieve_100k", "ns", m, s, 4);
}

export const FANOUT = 100;
const SUB_SLOT0 = 20;

/**
 * 100 subscribers do not fit RS's or VM's boot tables (64 processes), so this machine boots
 * without them (u32 values need no mmap; the loader maps every process's memory): a stand-in
 * in RS's slot (DS names that slot `rs`) publishes the labels of the publisher and the
 * subscribers, then tells each to start.
 */
export function dsNotifyFanout100(): Workload {
  const s: Progress = { ops: 0, error: OK };
  let received = 0;
  let subscribed = 0;
  const PUBLISHER_SLOT = CLIENT_SLOT;
  function* namer(ctx: ProcessContext): Syscall {
    const slots = [PUBLISHER_SLOT];
    for (let i = 0; i < FANOUT; i++) slots.push(SUB_SLOT0 + i);
    for (const slot of slots) {
      const r = yield* dsPublishLabel(ctx, `p${slot}`, slot as Endpoint);
      if (r !== OK) {
        s.error = r;
        return 1;
      }
    }
    for (const slot of slots) yield* notify(slot as Endpoint);
    const va = malloc(ctx, 64, 64);
    for (;;) yield* receive(ANY, va);
  }
  function* publisher(ctx: ProcessContext): Syscall {
    const va = malloc(ctx, 64, 64);
    const status: IpcStatus = { value: 0 };
    while (subscribed < FANOUT) yield* receive(ANY, va, status);
    for (let v = 0; ; v++) {
      const r = yield* dsPublishU32(ctx, "fan", v, DSF_OVERWRITE);
      if (r !== OK) {
        s.error = r;
        return 1;
      }
      // Wait for the subscriber that counted the last notification.
      do yield* receive(ANY, va, status);
      while (!isIpcNotify(status.value) || received < FANOUT * (v + 1));
      s.ops++;
    }
  }
  function* subscriber(ctx: ProcessContext): Syscall {
    const va = malloc(ctx, 64, 64);
    const status: IpcStatus = { value: 0 };
    while ((yield* receive(ANY, va, status)) !== OK || !isIpcNotify(status.value));
    const r = yield* dsSubscribe(ctx, "fan");
    if (r !== OK) {
      s.error = r;
      return 1;
    }
    if (++subscribed === FANOUT) yield* notify(PUBLISHER_SLOT as Endpoint);
    for (;;) {
      if ((yield* receive(ANY, va, status)) !== OK) continue;
      if (!isIpcNotify(status.value)) continue;
      if (++received % FANOUT === 0) yield* notify(PUBLISHER_SLOT as Endpoint);
    }
  }
  const image: BootImageEntry[] = [
    dsEntry,
    { name: "rs", slot: RS_PROC_NR, program: namer, priority: 4 },
    { name: "publisher", slot: PUBLISHER_SLOT, program: publisher, priority: 7 },
  ];
  for (let i = 0; i < FANOUT; i++) {
    image.push({ name: `sub${i}`, slot: SUB_SLOT0 + i, program: subscriber, priority: 6 });
  }
  const m = Machine.boot({
    memoryBytes: 128 << 20,
    nrProcs: 256,
    nrSysProcs: 160,
    ds: { maxSubs: FANOUT + 8, maxEntries: FANOUT + 16 },
    image,
  });
  return countedOps("ds.notify_fanout_100", "µs", m, s, 400);
}
