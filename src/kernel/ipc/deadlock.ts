/**
 * Deadlock detection before blocking: follow "who is X blocked on" from the peer; a chain
 * back to the caller is a deadlock, except two processes doing opposite operations.
 * MINIX: kernel/proc.c `deadlock` (MINIX-SPEC §2.9).
 */
import { ANY, NONE, type Endpoint } from "../../include/endpoint.ts";
import { SEND } from "../../include/ipc.ts";
import type { Kernel } from "../kernel.ts";
import { RTS_RECEIVING, RTS_SENDING, type Proc } from "../proc.ts";

/** `P_BLOCKEDON(p)`: the endpoint `p` is blocked sending to or receiving from, or NONE. */
export function blockedOn(p: Proc): Endpoint {
  if ((p.rtsFlags & RTS_SENDING) !== 0) return p.sendto;
  if ((p.rtsFlags & RTS_RECEIVING) !== 0) return p.getfrom;
  return NONE;
}

/** True if `caller` blocking in `fn` (SEND or RECEIVE) on `peer` would close a cycle. */
export function deadlock(k: Kernel, fn: number, caller: Proc, peer: Endpoint): boolean {
  let groupSize = 1;
  let next: Endpoint = peer;
  for (let hops = 0; hops <= k.procs.length; hops++) {
    if (next === ANY) return false;
    const xp = k.isokendpt(next);
    if (xp === undefined) return false;
    groupSize++;
    next = blockedOn(xp);
    if (next === NONE) return false;
    if (next === caller.endpoint) {
      // Two processes doing opposite operations (one sends, the other receives) is fine.
      const callerSends = fn === SEND;
      const peerSends = (xp.rtsFlags & RTS_SENDING) !== 0;
      if (groupSize === 2 && callerSends !== peerSends) return false;
      return true;
    }
  }
  return false;
}
