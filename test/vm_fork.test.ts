/**
 * fork through VM (VM_FORK, MINIX-SPEC §7.2, §8.7): a system process in PM's slot plays PM —
 * on an app's request it asks VM to fork the app into a free slot (VM copies the address
 * space copy-on-write, makes the kernel create the child with SYS_FORK and installs the
 * child's page table), gives the child system privileges (as RS would; the child of a
 * system process starts without any) and replies with the child's endpoint. Later it waits
 * for the child's death and tells VM (VM_EXIT). VM checks its invariants after every
 * request, the kernel its own after every step, and VM must still be running at the end.
 *
 * The child starts in the program the app named with `setForkEntry`; it uses only its own
 * context (closures over the parent's context would reach the parent's memory).
 */
import { describe, expect, test } from "vitest";
import type { BootImageEntry } from "../src/boot/image.ts";
import {
  ANY,
  makeEndpoint,
  NONE,
  PM_PROC_NR,
  VM_PROC_NR,
  type Endpoint,
} from "../src/include/endpoint.ts";
import { EINVAL, EPERM, OK } from "../src/include/errno.ts";
import { SYS_PRIV_ALLOW, SYS_PRIV_SET_SYS } from "../src/include/kcall.ts";
import { defineLayout } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../src/include/vm.ts";
import { setForkEntry } from "../src/lib/fork.ts";
import { receive, send, sendrec, type Syscall } from "../src/lib/ipc.ts";
import { minixMmap, vmInfo } from "../src/lib/libc/mmap.ts";
import { vmExit, vmFork, vmRemap } from "../src/lib/libc/vm_ipc.ts";
import { sysPrivctl } from "../src/lib/libsys/sys_misc.ts";
import { load } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { bootVm as boot, exits, peek, poke, runVm as run } from "./fixtures/vm.ts";

const PAGE = 4096;
const DATA = 0x40_0000;
const PM = PM_PROC_NR;
const APP = 11 as Endpoint;
const CHILD_SLOT = 20;
/** The app's data area has 4 pages; the library's messages live in page 0. */
const X = DATA + 3 * PAGE; // written before fork; the parent writes it after
const Y = DATA + 2 * PAGE + 8; // written before fork; the child writes it after
const Z = DATA + PAGE + 16; // never touched before fork

// Requests to "pm" (m_type) and its answer.
const PM_FORK = 1; // a: slot → value: child endpoint
const PM_REAP = 2; // a: endpoint: wait until it is dead, then VM_EXIT
const PM_FREE = 3; // value: VM's free frame count
const PM_REMAP = 4; // a: address, b: size of the caller's region → value: pm's address
const PM_PEEK = 5; // a: pm's address → value: the byte there
const PM_RAWFORK = 6; // a: parent, b: slot: VM_FORK as asked, no privileges → value: child
const REQ = defineLayout({ a: "u32", b: "u32", c: "u32" });
const ANSWER = defineLayout({ value: "u32" });

function* pm(ctx: ProcessContext): Syscall {
  const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  const probe = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
  for (;;) {
    if ((yield* receive(ANY, um.va)) !== OK) continue;
    const m = yield* um.get();
    const src = m.source;
    const { a, b } = m.get(REQ);
    let status = OK;
    let value = 0;
    if (m.type === PM_FORK || m.type === PM_RAWFORK) {
      const parent = m.type === PM_FORK ? src : (a as Endpoint);
      const r = yield* vmFork(ctx, parent, m.type === PM_FORK ? a : b);
      status = r.status;
      value = r.child;
      if (status === OK && m.type === PM_FORK) {
        // A system process's child has no privileges until someone sets them (§7.2).
        status = yield* sysPrivctl(ctx, r.child, SYS_PRIV_SET_SYS);
        if (status === OK) status = yield* sysPrivctl(ctx, r.child, SYS_PRIV_ALLOW);
      }
    } else if (m.type === PM_REAP) {
      // Blocks until the process is gone (it never receives from pm), then frees its memory.
      probe.m.set(0, REQ, { a: 0, b: 0, c: 0 });
      yield* probe.put();
      const dead = yield* sendrec(a as Endpoint, probe.va);
      status = dead === OK ? EINVAL : yield* vmExit(ctx, a as Endpoint);
    } else if (m.type === PM_FREE) {
      value = (yield* vmInfo(ctx)).freeFrames;
    } else if (m.type === PM_REMAP) {
      const r = yield* vmRemap(ctx, PM, src, 0, a, b);
      status = r.status;
      value = r.addr;
    } else if (m.type === PM_PEEK) {
      const byte = new Uint8Array(1);
      yield* load(ctx, virAddr(a), byte);
      value = byte[0]!;
    }
    um.m.set(status, ANSWER, { value });
    yield* um.put();
    yield* send(src, um.va);
  }
}

const pmEntry: BootImageEntry = { name: "pm", slot: PM, program: pm };

const askBuffers = new WeakMap<ProcessContext, UMessage>();

/** One request to pm: status and value. */
function* ask(
  ctx: ProcessContext,
  type: number,
  a = 0,
  b = 0,
): Syscall<{ status: number; value: number }> {
  let um = askBuffers.get(ctx);
  if (um === undefined) {
    um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    askBuffers.set(ctx, um);
  }
  um.m.set(type, REQ, { a, b, c: 0 });
  yield* um.put();
  const r = yield* sendrec(PM, um.va);
  if (r !== OK) return { status: r, value: 0 };
  const m = yield* um.get();
  return { status: m.type, value: m.get(ANSWER).value };
}

// Parent ↔ child: the parent sends GO with addresses, the child answers with what it saw.
const GO = 0x60;
const SEEN = defineLayout({ x: "u32", y: "u32", z: "u32", p: "u32", s: "u32" });

describe("VM_FORK", () => {
  test("copy-on-write in both directions, demand-zero pages apart, shared memory stays shared, exit frees the child's frames", () => {
    const log: Record<string, number | string> = {};
    const childSaw: Record<string, number>[] = [];

    /** The child: waits for GO, reads and writes, answers, exits. Uses only its own ctx. */
    function* childMain(ctx: ProcessContext): Syscall {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      if ((yield* receive(APP, um.va)) !== OK) return 1;
      const { a: priv, b: shared } = (yield* um.get()).get(REQ);
      const saw = {
        x: yield* peek(ctx, X), // the parent wrote 0x22 after fork: the child keeps 0x11
        y: yield* peek(ctx, Y),
        z: yield* peek(ctx, Z),
        p: yield* peek(ctx, priv),
        s: yield* peek(ctx, shared),
      };
      yield* poke(ctx, Y, 0x33); // the parent keeps 0x12
      yield* poke(ctx, Z, 0x44); // the parent's page stays zero
      yield* poke(ctx, priv, 0x66); // private mmap memory: the parent keeps 0x55
      yield* poke(ctx, shared + 1, 0x77); // shared memory: the parent and pm see it
      childSaw.push({
        ...saw,
        x2: yield* peek(ctx, X),
        y2: yield* peek(ctx, Y),
        z2: yield* peek(ctx, Z),
      });
      um.m.set(0, SEEN, saw);
      yield* um.put();
      yield* send(APP, um.va);
      return 0;
    }

    const { m, ev } = boot([
      pmEntry,
      {
        name: "app",
        slot: APP,
        dataPages: 4,
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
          const priv = yield* minixMmap(ctx, {
            len: 2 * PAGE,
            prot: PROT_READ | PROT_WRITE,
            flags: MAP_ANON | MAP_PRIVATE,
          });
          const shm = yield* minixMmap(ctx, {
            len: PAGE,
            prot: PROT_READ | PROT_WRITE,
            flags: MAP_ANON | MAP_PRIVATE,
          });
          yield* poke(ctx, X, 0x11);
          yield* poke(ctx, Y, 0x12);
          yield* poke(ctx, priv.addr, 0x55);
          yield* poke(ctx, shm.addr, 0x5a);
          const inPm = yield* ask(ctx, PM_REMAP, shm.addr, PAGE);
          log.remap = inPm.status;
          // Everything the parent will use is present now: the count below is exact.
          yield* ask(ctx, PM_FREE);
          const free0 = (yield* ask(ctx, PM_FREE)).value;

          log.entry = yield* setForkEntry(childMain);
          const f = yield* ask(ctx, PM_FORK, CHILD_SLOT);
          log.fork = f.status;
          log.child = f.value;
          const child = f.value as Endpoint;

          yield* poke(ctx, X, 0x22); // parent's write after fork: a copy for the parent
          um.m.set(GO, REQ, { a: priv.addr, b: shm.addr, c: 0 });
          yield* um.put();
          log.go = yield* sendrec(child, um.va);
          const seen = (yield* um.get()).get(SEEN);
          log.seenX = seen.x;

          log.x = yield* peek(ctx, X);
          log.y = yield* peek(ctx, Y);
          log.p = yield* peek(ctx, priv.addr);
          log.s = yield* peek(ctx, shm.addr + 1);
          log.pmSees = (yield* ask(ctx, PM_PEEK, inPm.value + 1)).value;

          log.reap = (yield* ask(ctx, PM_REAP, child)).status;
          log.freeDelta = (yield* ask(ctx, PM_FREE)).value - free0;
          // Untouched before fork: still a zero page of the parent's own (present only now).
          log.z = yield* peek(ctx, Z);
          log.xAfter = yield* peek(ctx, X);
          return 0;
        },
      },
    ]);
    run(m);
    const child = makeEndpoint(1, CHILD_SLOT);
    expect(log).toEqual({
      remap: OK,
      entry: OK,
      fork: OK,
      child,
      go: OK,
      seenX: 0x11,
      x: 0x22,
      y: 0x12,
      p: 0x55,
      s: 0x77,
      pmSees: 0x77,
      reap: OK,
      freeDelta: 0,
      z: 0,
      xAfter: 0x22,
    });
    expect(childSaw).toEqual([
      { x: 0x11, y: 0x12, z: 0, p: 0x55, s: 0x5a, x2: 0x11, y2: 0x33, z2: 0x44 },
    ]);
    expect(exits(ev)).toEqual([`${child}:exit`, `${APP}:exit`].sort());
  });

  test("the child runs after the parent went on; the parent's page writes never reach it", () => {
    // The parent writes the same page several times while the child is alive: one copy.
    const childSaw: number[] = [];
    function* childMain(ctx: ProcessContext): Syscall {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      if ((yield* receive(APP, um.va)) !== OK) return 1;
      for (let i = 0; i < 4; i++) childSaw.push(yield* peek(ctx, X + i));
      yield* send(APP, um.va);
      return 0;
    }
    const log: number[] = [];
    const { m, ev } = boot([
      pmEntry,
      {
        name: "app",
        slot: APP,
        dataPages: 4,
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
          for (let i = 0; i < 4; i++) yield* poke(ctx, X + i, i + 1);
          yield* ask(ctx, PM_FREE);
          const free0 = (yield* ask(ctx, PM_FREE)).value;
          yield* setForkEntry(childMain);
          const child = (yield* ask(ctx, PM_FORK, CHILD_SLOT)).value as Endpoint;
          for (let i = 0; i < 4; i++) yield* poke(ctx, X + i, 0xf0 + i);
          log.push(yield* sendrec(child, um.va));
          log.push((yield* ask(ctx, PM_REAP, child)).status);
          log.push((yield* ask(ctx, PM_FREE)).value - free0);
          for (let i = 0; i < 4; i++) log.push(yield* peek(ctx, X + i));
          return 0;
        },
      },
    ]);
    run(m);
    expect(childSaw).toEqual([1, 2, 3, 4]);
    expect(log).toEqual([OK, OK, 0, 0xf0, 0xf1, 0xf2, 0xf3]);
    expect(exits(ev)).toEqual([`${makeEndpoint(1, CHILD_SLOT)}:exit`, `${APP}:exit`].sort());
  });

  test("bad requests: unknown parent, slot in use, a slot the kernel refuses, unprivileged caller — nothing changes", () => {
    const log: Record<string, number> = {};
    const { m, ev } = boot([
      pmEntry,
      {
        name: "app",
        slot: APP,
        dataPages: 4,
        program: function* (ctx) {
          yield* poke(ctx, X, 0x11);
          yield* ask(ctx, PM_FREE);
          const free0 = (yield* ask(ctx, PM_FREE)).value;
          yield* setForkEntry(function* (child) {
            yield* poke(child, X, 0x99); // never runs: no fork succeeds
            return 0;
          });
          const unknown = yield* ask(ctx, PM_RAWFORK, 50, CHILD_SLOT);
          log.unknown = unknown.status;
          log.unknownChild = unknown.value;
          log.slotInUse = (yield* ask(ctx, PM_RAWFORK, APP, PM)).status;
          log.slotInUseVm = (yield* ask(ctx, PM_RAWFORK, APP, VM_PROC_NR)).status;
          log.badSlot = (yield* ask(ctx, PM_RAWFORK, APP, 100_000)).status;
          // The app asks VM itself: not privileged.
          const self = yield* vmFork(ctx, APP, CHILD_SLOT);
          log.unprivileged = self.status;
          log.unprivilegedChild = self.child;
          log.freeDelta = (yield* ask(ctx, PM_FREE)).value - free0;
          // Its pages were never write-protected for good: writing needs no copy.
          yield* poke(ctx, X, 0x12);
          log.freeDelta2 = (yield* ask(ctx, PM_FREE)).value - free0;
          log.x = yield* peek(ctx, X);
          return 0;
        },
      },
    ]);
    run(m);
    expect(log).toEqual({
      unknown: EINVAL,
      unknownChild: NONE,
      slotInUse: EINVAL,
      slotInUseVm: EINVAL,
      badSlot: EINVAL,
      unprivileged: EPERM,
      unprivilegedChild: NONE,
      freeDelta: 0,
      freeDelta2: 0,
      x: 0x12,
    });
    expect(exits(ev)).toEqual([`${APP}:exit`]);
    expect(m.snapshot().procs.find((p) => p.slot === CHILD_SLOT)).toBeUndefined();
  });
});
