/**
 * The timed workloads. The IPC ones run the real kernel of a booted machine, whose event
 * stream nobody subscribes to; their programs use the lib stubs on message buffers allocated
 * once (no `um.put()`/`um.get()` in the loops: those are user-space copies, not IPC).
 */
import { Machine } from "../boot/machine.ts";
import { vmEntry } from "../boot/services.ts";
import { ANY, type Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { isIpcNotify } from "../include/ipc.ts";
import type { ProcessContext } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import { notify, receive, send, sendrec, type IpcStatus, type Syscall } from "../lib/ipc.ts";
import { store } from "../lib/mem.ts";
import { malloc } from "../lib/runtime.ts";
import { UMessage } from "../lib/umessage.ts";
import type { Workload } from "./measure.ts";

const MiB = 1024 * 1024;

/**
 * The lower bound of a process switch: two generators, each yielding a small object in an
 * endless loop, resumed alternately by a plain loop over a two-entry run queue. One operation
 * is one round trip (one resume of each).
 */
export function generatorPingPong(): Workload {
  function* ping(): Generator<{ n: number }, never, number> {
    for (let n = 0; ; n++) yield { n };
  }
  function* pong(): Generator<{ n: number }, never, number> {
    for (let n = 0; ; n++) yield { n };
  }
  const rq: Generator<{ n: number }, never, number>[] = [ping(), pong()];
  let last: { n: number } | undefined;
  return {
    name: "host.generator_pingpong",
    unit: "ns",
    run(n: number): number {
      const resumes = 2 * n;
      for (let i = 0; i < resumes; i++) last = rq[i & 1]!.next(0).value;
      if (last === undefined) throw new Error("generator ended");
      return n;
    },
  };
}

/** Steps the machine until `done()`; throws if it panics or idles first. */
function runUntil(m: Machine, stepsHint: number, done: () => boolean, what: string): void {
  while (!done()) {
    const steps = m.runUntilIdle(Math.max(1, stepsHint));
    if (m.halted !== null) throw new Error(`${what}: kernel panic: ${m.halted}`);
    if (steps === 0) throw new Error(`${what}: machine went idle`);
  }
}

const SERVER_SLOT = 11;
const CLIENT_SLOT = 12;

/**
 * SENDREC round trip: a client loops `sendrec(server)`; the server loops `receive(ANY)` then
 * `send(client)` of the same buffer. The reply goes to the client's known endpoint, since
 * reading `m_source` from the buffer would be a user-space copy. One operation is one
 * SENDREC that returned OK.
 */
export function sendrecRoundtrip(): Workload {
  let replies = 0;
  let served = 0;
  function* server(ctx: ProcessContext): Syscall {
    const va = malloc(ctx, UMessage.SIZE, 64);
    const status: IpcStatus = { value: 0 };
    const client = CLIENT_SLOT as Endpoint;
    for (;;) {
      if ((yield* receive(ANY, va, status)) !== OK) return 1;
      served++;
      if ((yield* send(client, va)) !== OK) return 2;
    }
  }
  function* client(ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    um.m.type = 0x7f01;
    yield* um.put(); // once, before the loop
    const va = um.va;
    const status: IpcStatus = { value: 0 };
    const srv = SERVER_SLOT as Endpoint;
    for (;;) {
      if ((yield* sendrec(srv, va, status)) !== OK) return 1;
      replies++;
    }
  }
  const m = Machine.boot({
    image: [
      { name: "server", slot: SERVER_SLOT, program: server },
      { name: "client", slot: CLIENT_SLOT, program: client },
    ],
  });
  // Steady state: the client has had one reply and issued its next SENDREC.
  runUntil(m, 1, () => replies > 0, "ipc.sendrec_roundtrip");
  return {
    name: "ipc.sendrec_roundtrip",
    unit: "ns",
    run(n: number): number {
      const start = replies;
      const target = start + n;
      // About three kernel steps per round trip: client SENDREC, server SEND, server RECEIVE.
      runUntil(m, 3 * n, () => replies >= target, "ipc.sendrec_roundtrip");
      if (served < replies) throw new Error("ipc.sendrec_roundtrip: reply without a request");
      return replies - start;
    },
  };
}

const RECEIVER_SLOT = 11;
const NOTIFIER_SLOT = 12;

/**
 * NOTIFY delivery: a notifier loops `notify(receiver)`; the receiver, one priority above it,
 * loops `receive(ANY)`, so it takes each notification before the notifier runs again and no
 * notification is collapsed into a pending bit. One operation is one notification received.
 */
export function notifyDelivery(): Workload {
  let sent = 0;
  let received = 0;
  let other = 0;
  function* receiver(ctx: ProcessContext): Syscall {
    const va = malloc(ctx, UMessage.SIZE, 64);
    const status: IpcStatus = { value: 0 };
    for (;;) {
      if ((yield* receive(ANY, va, status)) !== OK) return 1;
      if (isIpcNotify(status.value)) received++;
      else other++;
    }
  }
  function* notifier(_ctx: ProcessContext): Syscall {
    const dst = RECEIVER_SLOT as Endpoint;
    for (;;) {
      if ((yield* notify(dst)) !== OK) return 1;
      sent++;
    }
  }
  const m = Machine.boot({
    image: [
      { name: "receiver", slot: RECEIVER_SLOT, program: receiver, priority: 6 },
      { name: "notifier", slot: NOTIFIER_SLOT, program: notifier, priority: 7 },
    ],
  });
  runUntil(m, 1, () => received > 0, "ipc.notify");
  return {
    name: "ipc.notify",
    unit: "ns",
    run(n: number): number {
      const start = received;
      const target = start + n;
      // Two kernel steps per notification: the notifier's NOTIFY, the receiver's RECEIVE.
      runUntil(m, 2 * n, () => received >= target, "ipc.notify");
      // Every NOTIFY was delivered, none collapsed: the counts differ by at most the one in
      // flight (the notifier counts its NOTIFY when it next runs, after the receiver).
      if (other !== 0 || Math.abs(sent - received) > 1) {
        throw new Error(`ipc.notify: ${sent} sent, ${received} received, ${other} other`);
      }
      return received - start;
    },
  };
}

const TOUCHER_SLOT = 11;
/** Data pages of the faulting process: a quarter of the 64 MiB machine's frames. */
const TOUCH_PAGES = 4096;
const PAGE = 4096;

/** A machine whose process touches fresh pages; `touched` counts the stores that completed. */
interface Toucher {
  readonly m: Machine;
  readonly state: { touched: number };
}

/**
 * Boots VM and one process whose data area of TOUCH_PAGES demand-zero pages it stores one
 * byte into, page after page, then parks in RECEIVE. Runs it until the first store has
 * completed: VM has taken over memory and served one fault (its set-up is not timed).
 */
function bootToucher(): Toucher {
  const state = { touched: 0 };
  function* toucher(ctx: ProcessContext): Syscall {
    const one = Uint8Array.of(1);
    for (let i = 0; i < TOUCH_PAGES; i++) {
      yield* store(ctx, virAddr(ctx.heapBase + i * PAGE), one);
      state.touched++;
    }
    for (;;) yield* receive(ANY, virAddr(ctx.heapBase));
  }
  const m = Machine.boot({
    memoryBytes: 64 * MiB,
    image: [
      vmEntry,
      { name: "toucher", slot: TOUCHER_SLOT, dataPages: TOUCH_PAGES, program: toucher },
    ],
  });
  runUntil(m, 1, () => state.touched > 0, "vm.pagefault");
  // The host commits the simulated RAM lazily: the first write to each of its pages costs a
  // host page fault (microseconds), which would be charged to whichever simulated access
  // came first (VM zeroing the frame). Commit it now, with writes that change no byte: the
  // figure is the simulated fault path, as on a machine whose RAM exists.
  const ram = m.hw.mem.u8;
  for (let pa = 0; pa < ram.length; pa += PAGE) ram[pa] = ram[pa]!;
  return { m, state };
}

/**
 * Demand-zero page fault resolved end to end: a store to an untouched data page traps, the
 * kernel sends VM_PAGEFAULT to VM on the process's behalf, VM takes a frame, zeroes it, maps
 * it (page-table writes through its physical window) and clears the fault with VMCTL, and
 * the store is retried. One operation is one store to a fresh page that completed. Machines
 * run out of pages: `prepare` boots enough of them before each timed run.
 */
export function vmPagefault(): Workload {
  const ready: Toucher[] = [];
  const left = (t: Toucher): number => TOUCH_PAGES - t.state.touched;
  return {
    name: "vm.pagefault",
    unit: "ns",
    prepare(n: number): void {
      let have = 0;
      for (const t of ready) have += left(t);
      while (have < n) {
        const t = bootToucher();
        ready.push(t);
        have += left(t);
      }
    },
    run(n: number): number {
      let done = 0;
      while (done < n) {
        const t = ready[0];
        if (t === undefined) throw new Error("vm.pagefault: run without prepare");
        const start = t.state.touched;
        const target = start + Math.min(n - done, left(t));
        // Three kernel steps per fault: the process's store traps (after its previous store
        // was retried), VM gets VM_PAGEFAULT and makes its VMCTL call, VM's next RECEIVE.
        runUntil(t.m, 3 * (target - start), () => t.state.touched >= target, "vm.pagefault");
        done += t.state.touched - start;
        if (left(t) === 0) ready.shift();
      }
      return done;
    },
  };
}

/** Boot of a 64 MiB machine with the default demonstration image, run to idle. */
export function bootToIdle(): Workload {
  return {
    name: "boot.to_idle",
    unit: "ms",
    run(n: number): number {
      for (let i = 0; i < n; i++) {
        const m = Machine.boot({ memoryBytes: 64 * MiB });
        m.runUntilIdle();
        if (m.halted !== null) throw new Error(`boot.to_idle: kernel panic: ${m.halted}`);
      }
      return n;
    },
  };
}
