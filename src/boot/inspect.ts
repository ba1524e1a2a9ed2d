/**
 * The inspector: a read-only snapshot of the kernel's state for tests, the CLI and the web
 * playground. Nothing here changes the machine.
 */
import { endpointName } from "../include/endpoint.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { rtsFlagNames } from "../kernel/proc.ts";
import { RS_PROC_NR } from "../include/endpoint.ts";
import { inspectRs, type RsServiceInspect } from "../servers/rs/main.ts";
import { inspectVm, type VmInspect } from "../servers/vm/main.ts";
import { inspectDs, type DsInspect } from "../servers/ds/inspect.ts";

export interface ProcSnapshot {
  readonly slot: number;
  readonly endpoint: number;
  readonly name: string;
  /** RTS flags by name, `""` when runnable. */
  readonly rts: string;
  readonly rtsFlags: number;
  readonly miscFlags: number;
  readonly priority: number;
  readonly privId: number;
  readonly getfrom: string;
  readonly sendto: string;
  /** Endpoints queued sending to this process, in order. */
  readonly callerQ: readonly number[];
  /** Privilege ids with a pending notification for this process. */
  readonly notifyPending: readonly number[];
  readonly userTime: number;
}

export interface Snapshot {
  readonly cycles: number;
  readonly ticks: number;
  readonly procs: readonly ProcSnapshot[];
  readonly vmrequests: readonly number[];
  /** The VM server's memory statistics, when VM runs. */
  readonly vm: VmInspect | undefined;
  /** The services RS manages, when the machine booted through RS. */
  readonly rs: readonly RsServiceInspect[] | undefined;
  /** DS's store (entries, subscriptions, journal), when DS runs. */
  readonly ds: DsInspect | undefined;
  readonly panic: string | null;
}

export function snapshot(k: Kernel): Snapshot {
  const procs: ProcSnapshot[] = [];
  for (const p of k.procs) {
    if (p.isFree) continue;
    const callerQ: number[] = [];
    for (let s = p.callerQ; s !== null; s = s.qLink) callerQ.push(s.endpoint);
    procs.push({
      slot: p.nr,
      endpoint: p.endpoint,
      name: p.name,
      rts: rtsFlagNames(p.rtsFlags),
      rtsFlags: p.rtsFlags,
      miscFlags: p.miscFlags,
      priority: p.priority,
      privId: p.priv?.id ?? -1,
      getfrom: endpointName(p.getfrom),
      sendto: endpointName(p.sendto),
      callerQ,
      notifyPending: p.priv !== null ? [...p.priv.notifyPending.members()] : [],
      userTime: p.userTime,
    });
  }
  const vmCtx = k.vmProc()?.context;
  const rsProc = k.procAddr(RS_PROC_NR);
  const rsCtx = rsProc === undefined || rsProc.isFree ? undefined : rsProc.context;
  const vmrequests: number[] = [];
  for (let p = k.vmrequest; p !== null; p = p.vmreq.next) vmrequests.push(p.endpoint);
  return {
    cycles: k.hw.clock.cycles,
    ticks: k.ticks,
    procs,
    vmrequests,
    vm: vmCtx === null || vmCtx === undefined ? undefined : inspectVm(vmCtx),
    rs: rsCtx === null || rsCtx === undefined ? undefined : inspectRs(rsCtx),
    ds: dsOf(k),
    panic: k.panicMessage,
  };
}

/** The running DS's contents: DS is in its slot, or wherever RS restarted it. */
function dsOf(k: Kernel): DsInspect | undefined {
  for (const p of k.procs) {
    if (p.isFree || p.context === null) continue;
    const d = inspectDs(p.context);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** The process table as text, in the style of MINIX's F1 dump. */
export function formatProcTable(s: Snapshot): string {
  const lines = ["slot  endpt  name        prio  flags"];
  for (const p of s.procs) {
    lines.push(
      `${String(p.slot).padStart(4)}  ${String(p.endpoint).padStart(5)}  ${p.name.padEnd(10)}  ${String(p.priority).padStart(4)}  ${p.rts || "-"}`,
    );
  }
  return lines.join("\n");
}

/** The store as text: one line per entry, then one per subscription. */
export function formatDs(d: DsInspect): string {
  const lines = ["key                   type   owner       value"];
  for (const e of d.entries) {
    const value = e.value !== undefined ? String(e.value) : `${e.length ?? 0} bytes`;
    lines.push(`${e.key.padEnd(20)}  ${e.type.padEnd(5)}  ${e.owner.padEnd(10)}  ${value}`);
  }
  for (const s of d.subscriptions) {
    const types = s.types.length > 0 ? ` [${s.types.join(",")}]` : "";
    const pending = s.pending.length > 0 ? `, pending: ${s.pending.join(", ")}` : "";
    lines.push(`subscription of ${s.owner}: ${s.pattern}${types}${pending}`);
  }
  return lines.join("\n");
}
