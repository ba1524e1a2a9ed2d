/**
 * `kernel.check()`: the kernel's invariants, for tests to call after every step. Any broken
 * invariant is a KernelPanic naming the process and the rule.
 */
import { ANY, NONE } from "../include/endpoint.ts";
import type { Kernel } from "./kernel.ts";
import { checkMapInfo } from "./mapinfo.ts";
import { panic } from "./panic.ts";
import { NR_SCHED_QUEUES } from "./sched.ts";
import { RTS_RECEIVING, RTS_SENDING, RTS_SLOT_FREE, RTS_VMREQUEST, type Proc } from "./proc.ts";

export function checkKernel(k: Kernel): void {
  // Run queues hold exactly the runnable processes, once each, at their own priority.
  const queued = new Set<Proc>();
  for (let q = 0; q < NR_SCHED_QUEUES; q++) {
    let last: Proc | null = null;
    for (let p = k.rq.heads[q] ?? null; p !== null; p = p.nextReady) {
      if (queued.has(p)) panic(`check: ${p.name} is queued twice`);
      queued.add(p);
      if (p.priority !== q)
        panic(`check: ${p.name} has priority ${p.priority} but is in queue ${q}`);
      last = p;
    }
    if (k.rq.tails[q] !== last) panic(`check: tail of run queue ${q} is wrong`);
  }

  const endpoints = new Set<number>();
  for (const p of k.procs) {
    if (p.isFree) {
      if (p.rtsFlags !== RTS_SLOT_FREE) panic(`check: free slot ${p.nr} has flags ${p.rtsFlags}`);
      if (queued.has(p)) panic(`check: free slot ${p.nr} is queued`);
      continue;
    }
    if ((p.rtsFlags === 0) !== queued.has(p)) {
      panic(`check: ${p.name} rtsFlags=${p.rtsFlags} but queued=${queued.has(p)}`);
    }
    if (endpoints.has(p.endpoint)) panic(`check: endpoint ${p.endpoint} used twice`);
    endpoints.add(p.endpoint);
    if (p.priv === null) panic(`check: live ${p.name} has no privilege structure`);
    if ((p.rtsFlags & RTS_SENDING) !== 0) {
      const dst = k.isokendpt(p.sendto);
      if (dst === undefined) panic(`check: ${p.name} sends to dead endpoint ${p.sendto}`);
      if (!inQueue(dst, p)) panic(`check: ${p.name} is SENDING but not in ${dst.name}'s queue`);
    }
    if ((p.rtsFlags & RTS_RECEIVING) !== 0 && p.getfrom !== ANY) {
      if (p.getfrom === NONE || k.isokendpt(p.getfrom) === undefined) {
        panic(`check: ${p.name} receives from dead endpoint ${p.getfrom}`);
      }
    }
    const seen = new Set<Proc>();
    for (let s = p.callerQ; s !== null; s = s.qLink) {
      if (seen.has(s)) panic(`check: caller queue of ${p.name} has a cycle`);
      seen.add(s);
      if (s.isFree || (s.rtsFlags & RTS_SENDING) === 0 || s.sendto !== p.endpoint) {
        panic(`check: ${s.name} is in ${p.name}'s caller queue but not sending to it`);
      }
    }
  }

  const seenReq = new Set<Proc>();
  for (let p = k.vmrequest; p !== null; p = p.vmreq.next) {
    if (seenReq.has(p)) panic("check: vmrequest list has a cycle");
    seenReq.add(p);
    if ((p.rtsFlags & RTS_VMREQUEST) === 0)
      panic(`check: ${p.name} is in vmrequest without RTS_VMREQUEST`);
  }

  for (const priv of k.privs.privs) {
    if (priv.isFree) continue;
    const owner = k.procAddr(priv.procNr);
    if (owner === undefined) panic(`check: privilege id ${priv.id} has a bad owner slot`);
  }

  checkMapInfo(k);
}

function inQueue(dst: Proc, p: Proc): boolean {
  for (let s = dst.callerQ; s !== null; s = s.qLink) if (s === p) return true;
  return false;
}
