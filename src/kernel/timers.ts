/**
 * Alarm timers: at most one per privilege structure (`s_alarm_timer`), kept ordered by
 * expiry tick and then by privilege id so that expiry order is deterministic.
 * MINIX: kernel/clock.c, lib/timers.
 */
import type { Priv } from "./priv.ts";

export class Timers {
  readonly #queue: Priv[] = [];

  /** (Re)arms `priv`'s alarm to fire at absolute tick `at`. */
  set(priv: Priv, at: number): void {
    this.cancel(priv);
    priv.alarmAt = at;
    const q = this.#queue;
    let i = q.length;
    while (i > 0) {
      const prev = q[i - 1]!;
      if (prev.alarmAt < at || (prev.alarmAt === at && prev.id < priv.id)) break;
      i--;
    }
    q.splice(i, 0, priv);
  }

  cancel(priv: Priv): void {
    if (priv.alarmAt < 0) return;
    const i = this.#queue.indexOf(priv);
    if (i >= 0) this.#queue.splice(i, 1);
    priv.alarmAt = -1;
  }

  /** The earliest expiry tick, or -1 when no alarm is set. */
  next(): number {
    return this.#queue[0]?.alarmAt ?? -1;
  }

  /** Removes and returns, in order, every timer due at or before `now`. */
  expire(now: number): Priv[] {
    const q = this.#queue;
    let n = 0;
    while (n < q.length && q[n]!.alarmAt <= now) n++;
    const due = q.splice(0, n);
    for (const p of due) p.alarmAt = -1;
    return due;
  }

  get size(): number {
    return this.#queue.length;
  }
}
