import { describe, expect, test } from "vitest";
import { KernelPanic } from "./panic.ts";
import { Proc } from "./proc.ts";
import { IDLE_Q, NR_SCHED_QUEUES, RunQueues, TASK_Q, USER_Q } from "./sched.ts";

function proc(nr: number, priority: number): Proc {
  const p = new Proc(nr);
  p.name = `p${nr}`;
  p.priority = priority;
  return p;
}

function names(rq: RunQueues): string[] {
  return [...rq.all()].map((p) => p.name);
}

describe("RunQueues", () => {
  test("pick takes the head of the highest-priority (lowest number) non-empty queue", () => {
    const rq = new RunQueues();
    expect(rq.pick()).toBeNull();
    const user = proc(1, USER_Q);
    const idle = proc(2, IDLE_Q);
    const task = proc(3, TASK_Q);
    const mid = proc(4, 3);
    for (const p of [user, idle, task, mid]) rq.enqueue(p);
    expect(rq.pick()).toBe(task);
    rq.dequeue(task);
    expect(rq.pick()).toBe(mid);
    rq.dequeue(mid);
    expect(rq.pick()).toBe(user);
    rq.dequeue(user);
    expect(rq.pick()).toBe(idle);
    rq.dequeue(idle);
    expect(rq.pick()).toBeNull();
    expect(names(rq)).toEqual([]);
  });

  test("all() lists queues in priority order", () => {
    const rq = new RunQueues();
    rq.enqueue(proc(1, 9));
    rq.enqueue(proc(2, 2));
    rq.enqueue(proc(3, 9));
    rq.enqueue(proc(4, 0));
    expect(names(rq)).toEqual(["p4", "p2", "p1", "p3"]);
  });

  test("processes of one priority run FIFO", () => {
    const rq = new RunQueues();
    const ps = [1, 2, 3, 4].map((n) => proc(n, USER_Q));
    for (const p of ps) rq.enqueue(p);
    const order: string[] = [];
    for (let p = rq.pick(); p !== null; p = rq.pick()) {
      order.push(p.name);
      rq.dequeue(p);
    }
    expect(order).toEqual(["p1", "p2", "p3", "p4"]);
  });

  test("dequeue from the middle and the tail keeps head and tail right", () => {
    const rq = new RunQueues();
    const [a, b, c] = [proc(1, 5), proc(2, 5), proc(3, 5)] as const;
    for (const p of [a, b, c]) rq.enqueue(p);
    rq.dequeue(b);
    expect(names(rq)).toEqual(["p1", "p3"]);
    rq.dequeue(c);
    expect(rq.tails[5]).toBe(a);
    rq.enqueue(b);
    expect(names(rq)).toEqual(["p1", "p2"]);
    expect(rq.tails[5]).toBe(b);
    rq.dequeue(a);
    rq.dequeue(b);
    expect(rq.heads[5]).toBeNull();
    expect(rq.tails[5]).toBeNull();
  });

  test("rotate moves the head of a queue to its tail", () => {
    const rq = new RunQueues();
    const [a, b, c] = [proc(1, USER_Q), proc(2, USER_Q), proc(3, USER_Q)] as const;
    for (const p of [a, b, c]) rq.enqueue(p);
    rq.rotate(a);
    expect(names(rq)).toEqual(["p2", "p3", "p1"]);
    expect(rq.pick()).toBe(b);
    expect(rq.tails[USER_Q]).toBe(a);
    rq.rotate(b);
    rq.rotate(c);
    expect(names(rq)).toEqual(["p1", "p2", "p3"]);
  });

  test("rotate does nothing for a process that is not the head, or alone in its queue", () => {
    const rq = new RunQueues();
    const [a, b] = [proc(1, USER_Q), proc(2, USER_Q)] as const;
    const alone = proc(3, 4);
    for (const p of [a, b, alone]) rq.enqueue(p);
    rq.rotate(b);
    rq.rotate(alone);
    expect(names(rq)).toEqual(["p3", "p1", "p2"]);
  });

  test("dequeue of a process that is not queued, and a bad priority, are kernel panics", () => {
    const rq = new RunQueues();
    rq.enqueue(proc(1, USER_Q));
    expect(() => rq.dequeue(proc(2, USER_Q))).toThrow(KernelPanic);
    expect(() => rq.enqueue(proc(3, NR_SCHED_QUEUES))).toThrow(KernelPanic);
    expect(() => rq.enqueue(proc(4, -1))).toThrow(KernelPanic);
    expect(names(rq)).toEqual(["p1"]);
  });
});
