/**
 * The timed workloads. The IPC ones run the real kernel of a booted machine, whose event
 * stream nobody subscribes to; their programs use the lib stubs on message buffers allocated
 * once (no `um.put()`/`um.get()` in the loops: those are user-space copies, not IPC).
 */
import { Machine } from "../boot/machine.ts";
import { vmEntry } from "../boot/services.ts";
import { ANY, PM_PROC_NR, type Endpoint } from "../include/endpoint.ts";
import { EINVAL, errName, OK } from "../include/errno.ts";
import { isIpcNotify } from "../include/ipc.ts";
import { SYS_PRIV_ALLOW, SYS_PRIV_SET_USER } from "../include/kcall.ts";
import type { ProcessContext, Program } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import { setForkEntry } from "../lib/fork.ts";
import { notify, receive, send, sendrec, type IpcStatus, type Syscall } from "../lib/ipc.ts";
import { vmExit, vmFork } from "../lib/libc/vm_ipc.ts";
import { sysPrivctl } from "../lib/libsys/sys_misc.ts";
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
export function runUntil(m: Machine, stepsHint: number, done: () => boolean, what: string): void {
  while (!done()) {
    const steps = m.runUntilIdle(Math.max(1, stepsHint));
    if (m.halted !== null) throw new Error(`${what}: kernel panic: ${m.halted}`);
    if (steps === 0) throw new Error(`${what}: machine went idle`);
  }
}

/** What a workload's test program reports: operations completed, and its error (OK while none). */
export interface Progress {
  ops: number;
  error: number;
}

/**
 * A workload on one machine whose test program counts the operations it completes in `s`:
 * runs it until `firstOps` have completed (set-up, not timed); `run(n)` steps it until `n`
 * more have, with `stepsPerOp` kernel steps per operation as the hint of how far to run
 * between checks. An error the program reports ends the benchmark.
 */
export function countedOps(
  name: string,
  unit: Workload["unit"],
  m: Machine,
  s: Progress,
  stepsPerOp: number,
  firstOps = 1,
): Workload {
  const until = (target: number, hint: number): void => {
    runUntil(m, hint, () => s.ops >= target || s.error !== OK, name);
    if (s.error !== OK) throw new Error(`${name}: ${errName(s.error)}`);
  };
  until(firstOps, stepsPerOp);
  return {
    name,
    unit,
    run(n: number): number {
      const start = s.ops;
      until(start + n, stepsPerOp * n);
      return s.ops - start;
    },
  };
}

export const PAGE = 4096;
const ONE = Uint8Array.of(1);

/** Stores one byte in each page of the `bytes` at page-aligned `va`. */
export function* touch(ctx: ProcessContext, va: number, bytes: number): Syscall<void> {
  for (let a = 0; a < bytes; a += PAGE) yield* store(ctx, virAddr(va + a), ONE);
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
  commitRam(m);
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
  // Three kernel steps per fault: the process's store traps (after its previous store was
  // retried), VM gets VM_PAGEFAULT and makes its VMCTL call, VM's next RECEIVE.
  return machinePool({
    name: "vm.pagefault",
    capacity: TOUCH_PAGES,
    stepsPerOp: 3,
    boot: bootToucher,
    done: (t) => t.state.touched,
  });
}

/**
 * The host commits the simulated RAM lazily: the first write to each of its pages costs a
 * host page fault (microseconds), which would be charged to whichever simulated access came
 * first (VM zeroing or copying into the frame). Commits it with writes that change no byte:
 * the figures are the simulated paths, as on a machine whose RAM exists.
 */
export function commitRam(m: Machine): void {
  const ram = m.hw.mem.u8;
  for (let pa = 0; pa < ram.length; pa += PAGE) ram[pa] = ram[pa]!;
}

// fork through VM: "pm" (PM's slot, so VM lets it make VM_FORK and VM_EXIT) forks the
// process that asks it, as PM would (MINIX-SPEC §7.2, §8.7; test/vm_fork.test.ts).
const FORK_PARENT_SLOT = 11;
const FORK_CHILD_SLOT = 20;

/**
 * A "pm" that serves every request from FORK_PARENT_SLOT the same way: VM_FORK of the
 * requester into FORK_CHILD_SLOT, user privileges for the child (the child of a system
 * process waits in RTS_NO_PRIV until then); with `reap`, waits for the child's death (a
 * SENDREC to the child, which never receives, ends when it exits) and frees its memory
 * (VM_EXIT). Replies with the status in `m_type`.
 */
function forkingPm(reap: boolean): Program {
  return function* pm(ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    const probe = malloc(ctx, UMessage.SIZE, 64);
    const parent = FORK_PARENT_SLOT as Endpoint;
    for (;;) {
      if ((yield* receive(parent, um.va)) !== OK) return 1;
      const f = yield* vmFork(ctx, parent, FORK_CHILD_SLOT);
      let s = f.status;
      if (s === OK) s = yield* sysPrivctl(ctx, f.child, SYS_PRIV_SET_USER);
      if (s === OK) s = yield* sysPrivctl(ctx, f.child, SYS_PRIV_ALLOW);
      if (s === OK && reap) {
        s = (yield* sendrec(f.child, probe)) === OK ? EINVAL : yield* vmExit(ctx, f.child);
      }
      um.m.type = s;
      yield* um.put();
      if ((yield* send(parent, um.va)) !== OK) return 2;
    }
  };
}

/** A fork request to "pm" from the buffer `um`: the status pm answered. */
function* askFork(um: UMessage): Syscall {
  const r = yield* sendrec(PM_PROC_NR, um.va);
  return r !== OK ? r : (yield* um.get()).type;
}

/** Data pages of the process that forks, then writes: a quarter of the 64 MiB machine. */
const COW_PAGES = 4096;

/** A forked machine whose parent writes its shared pages; `written` counts completed stores. */
interface CowWriter {
  readonly m: Machine;
  readonly state: { written: number; error: number };
}

/** Stores to pages 1 … COW_PAGES-1 (page 0, the message page, is copied by the fork's reply). */
const COW_WRITES = COW_PAGES - 1;

/**
 * Boots VM, pm and a process that stores one byte into each of its COW_PAGES data pages
 * (demand-zero faults), has pm fork it (its child waits for good, keeping every frame
 * shared), then stores one byte into each page again: each store is a copy-on-write
 * fault. Runs it until the first such store has completed (set-up not timed).
 */
function bootCowWriter(): CowWriter {
  const state = { written: 0, error: OK };
  function* child(ctx: ProcessContext): Syscall {
    // A user process may only SENDREC: to pm, which never receives from it, so it waits for
    // good (pm receives from the parent alone).
    state.error = yield* sendrec(PM_PROC_NR, virAddr(ctx.heapBase));
    return 1;
  }
  function* parent(ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    yield* touch(ctx, ctx.heapBase, COW_PAGES * PAGE);
    const e = yield* setForkEntry(child);
    const r = e === OK ? yield* askFork(um) : e;
    if (r !== OK) {
      state.error = r;
      return 1;
    }
    const two = Uint8Array.of(2);
    for (let i = 1; i < COW_PAGES; i++) {
      yield* store(ctx, virAddr(ctx.heapBase + i * PAGE), two);
      state.written++;
    }
    for (;;) yield* receive(ANY, um.va);
  }
  const m = Machine.boot({
    memoryBytes: 64 * MiB,
    image: [
      vmEntry,
      { name: "pm", slot: PM_PROC_NR, program: forkingPm(false) },
      { name: "parent", slot: FORK_PARENT_SLOT, dataPages: COW_PAGES, program: parent },
    ],
  });
  runUntil(m, 1, () => state.written > 0 || state.error !== OK, "vm.cow_fault");
  if (state.error !== OK) throw new Error(`vm.cow_fault: fork failed: ${errName(state.error)}`);
  commitRam(m);
  return { m, state };
}

/**
 * Copy-on-write fault resolved end to end: a store to a page the process shares with its
 * fork child traps (present, read-only), the kernel sends VM_PAGEFAULT to VM, VM takes a
 * frame, copies the page into it, maps it writable in place of the shared one, drops a
 * reference on the old frame, has the TLB flushed (VMCTL_FLUSHTLB: a present entry changed)
 * and clears the fault, and the store is retried. One operation is one such store that
 * completed. `prepare` boots enough forked machines before each timed run.
 */
export function vmCowFault(): Workload {
  // Four kernel steps per fault: the store traps, VM gets VM_PAGEFAULT and asks for a TLB
  // flush, VM clears the fault, VM's next RECEIVE.
  return machinePool({
    name: "vm.cow_fault",
    capacity: COW_WRITES,
    stepsPerOp: 4,
    boot: bootCowWriter,
    done: (t) => t.state.written,
    failed: (t) => t.state.error,
  });
}

/** Data pages of the process forked by vm.fork_exit: 1 MiB, all touched before. */
const FORK_EXIT_PAGES = 256;

/**
 * fork + exit + wait of a process with 1 MiB of touched memory: the process asks pm, pm has
 * VM fork it (VM_FORK: a page directory for the child, 256 entries copied read-only with a
 * reference more on each frame, the parent's entries write-protected, SYS_FORK, TLB flush,
 * VMCTL_SETADDRSPACE), gives the child user privileges (SYS_PRIVCTL ×2), waits for it; the
 * child exits at once (the kernel frees its slot, pm's SENDREC to it fails), pm frees its
 * memory (VM_EXIT: the child's page tables and references) and answers the parent, whose
 * message page, write-protected by the fork, faults writable again on the reply. One
 * operation is one answered request; the slot is reused with the next generation.
 */
export function vmForkExit(): Workload {
  const state: Progress = { ops: 0, error: OK };
  // eslint-disable-next-line require-yield -- the child exits at once
  function* child(_ctx: ProcessContext): Syscall {
    return 0;
  }
  function* parent(ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    yield* touch(ctx, ctx.heapBase, FORK_EXIT_PAGES * PAGE);
    const e = yield* setForkEntry(child);
    if (e !== OK) {
      state.error = e;
      return 1;
    }
    for (;;) {
      const r = yield* askFork(um);
      if (r !== OK) {
        state.error = r;
        return 2;
      }
      state.ops++;
    }
  }
  const m = Machine.boot({
    memoryBytes: 64 * MiB,
    image: [
      vmEntry,
      { name: "pm", slot: PM_PROC_NR, program: forkingPm(true) },
      { name: "parent", slot: FORK_PARENT_SLOT, dataPages: FORK_EXIT_PAGES, program: parent },
    ],
  });
  const w = countedOps("vm.fork_exit", "µs", m, state, 24);
  commitRam(m);
  return w;
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

interface PoolSpec<T extends { readonly m: Machine }> {
  readonly name: string;
  /** Operations one machine can perform before it is used up. */
  readonly capacity: number;
  /** Kernel steps one operation takes (a hint for how far to run). */
  readonly stepsPerOp: number;
  readonly boot: () => T;
  /** Operations completed so far on a machine. */
  readonly done: (t: T) => number;
  /** A machine's error status, OK while all is well. */
  readonly failed?: (t: T) => number;
}

/**
 * A workload over machines that get used up (pages to fault in): `prepare` boots enough of
 * them outside the timed part, `run` performs `n` operations across them.
 */
function machinePool<T extends { readonly m: Machine }>(spec: PoolSpec<T>): Workload {
  const ready: T[] = [];
  const left = (t: T): number => spec.capacity - spec.done(t);
  const error = (t: T): number => spec.failed?.(t) ?? OK;
  return {
    name: spec.name,
    unit: "ns",
    prepare(n: number): void {
      let have = 0;
      for (const t of ready) have += left(t);
      while (have < n) {
        const t = spec.boot();
        ready.push(t);
        have += left(t);
      }
    },
    run(n: number): number {
      let done = 0;
      while (done < n) {
        const t = ready[0];
        if (t === undefined) throw new Error(`${spec.name}: run without prepare`);
        const start = spec.done(t);
        const target = start + Math.min(n - done, left(t));
        runUntil(
          t.m,
          spec.stepsPerOp * (target - start),
          () => spec.done(t) >= target || error(t) !== OK,
          spec.name,
        );
        if (error(t) !== OK) throw new Error(`${spec.name}: ${errName(error(t))}`);
        done += spec.done(t) - start;
        if (left(t) === 0) ready.shift();
      }
      return done;
    },
  };
}
