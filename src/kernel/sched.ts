/**
 * The scheduler's ready queues: 16 priorities (0 highest), FIFO within a priority. Only
 * runnable processes (rtsFlags === 0) are ever queued. MINIX: kernel/proc.c enqueue/dequeue.
 */
import type { Proc } from "./proc.ts";
import { panic } from "./panic.ts";

export const NR_SCHED_QUEUES = 16;
export const TASK_Q = 0;
export const USER_Q = 7;
export const IDLE_Q = NR_SCHED_QUEUES - 1;

export class RunQueues {
  /** Bit q set iff queue q is not empty. */
  #nonEmpty = 0;
  readonly heads: (Proc | null)[] = new Array<Proc | null>(NR_SCHED_QUEUES).fill(null);
  readonly tails: (Proc | null)[] = new Array<Proc | null>(NR_SCHED_QUEUES).fill(null);

  /** Appends `p` to the tail of its priority queue. */
  enqueue(p: Proc): void {
    const q = p.priority;
    if (q < 0 || q >= NR_SCHED_QUEUES) panic(`enqueue: ${p.name} has priority ${q}`);
    p.nextReady = null;
    const tail = this.tails[q]!;
    if (tail === null) {
      this.heads[q] = p;
      this.#nonEmpty |= 1 << q;
    } else {
      tail.nextReady = p;
    }
    this.tails[q] = p;
  }

  /** Removes `p` from its queue; panics if it is not there. */
  dequeue(p: Proc): void {
    const q = p.priority;
    let prev: Proc | null = null;
    for (let x = this.heads[q] ?? null; x !== null; prev = x, x = x.nextReady) {
      if (x !== p) continue;
      if (prev === null) this.heads[q] = x.nextReady;
      else prev.nextReady = x.nextReady;
      if (this.tails[q] === x) this.tails[q] = prev;
      if (this.heads[q] === null) this.#nonEmpty &= ~(1 << q);
      x.nextReady = null;
      return;
    }
    panic(`dequeue: ${p.name} (slot ${p.nr}) is not in run queue ${q}`);
  }

  /** The process to run next: head of the highest-priority non-empty queue. */
  pick(): Proc | null {
    const bits = this.#nonEmpty;
    if (bits === 0) return null;
    return this.heads[31 - Math.clz32(bits & -bits)]!;
  }

  /** Moves the head of `p`'s queue to its tail (round robin after a quantum). */
  rotate(p: Proc): void {
    if (this.heads[p.priority] !== p || p.nextReady === null) return;
    this.dequeue(p);
    this.enqueue(p);
  }

  *all(): Generator<Proc> {
    for (let q = 0; q < NR_SCHED_QUEUES; q++) {
      for (let x = this.heads[q] ?? null; x !== null; x = x.nextReady) yield x;
    }
  }
}
