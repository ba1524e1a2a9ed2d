/**
 * Process life cycle through VM, as a property: a system process in PM's slot plays PM and
 * runs a random script over a small population of "workers" on a 2 MiB machine with VM's
 * sanity checks on. Each step commands one worker: map anonymous memory (sometimes far too
 * much), unmap (part of) a mapping, touch a byte (inside its memory, where the value must be
 * what the model says — copy-on-write after fork included — or outside it, where VM ends the
 * worker with SIGSEGV), fork (the worker asks pm, pm asks VM and gives the child privileges),
 * exec (the worker writes a marker and asks pm; pm asks VM for the new image — sometimes too
 * big: ENOMEM, and the worker must still see its marker — then SYS_EXEC), or exit (pm then
 * sends VM_EXIT). The kernel's invariants are checked after every step; at the end VM must
 * be alive, nothing panicked, and once every worker is gone every frame is back.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { BootImageEntry } from "../src/boot/image.ts";
import { Machine } from "../src/boot/machine.ts";
import type { ProgramSpec } from "../src/boot/options.ts";
import { vmEntry } from "../src/boot/services.ts";
import { PM_PROC_NR, VM_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import { EDEADSRCDST, EINVAL, ENOMEM, OK } from "../src/include/errno.ts";
import { SYS_PRIV_ALLOW, SYS_PRIV_SET_SYS } from "../src/include/kcall.ts";
import { defineLayout } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { MAP_ANON, MAP_PREALLOC, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../src/include/vm.ts";
import type { MachineEvent } from "../src/hw/events.ts";
import { setForkEntry } from "../src/lib/fork.ts";
import { receive, send, sendrec, type Syscall } from "../src/lib/ipc.ts";
import { minixMmap, minixMunmap, vmInfo } from "../src/lib/libc/mmap.ts";
import { vmExecNewmem, vmExit, vmFork } from "../src/lib/libc/vm_ipc.ts";
import { sysExec, sysPrivctl } from "../src/lib/libsys/sys_misc.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { peek, poke } from "./fixtures/vm.ts";

const PAGE = 4096;
const DATA = 0x40_0000;
const DATA_PAGES = 4;
const PM = PM_PROC_NR;
/** Slots the workers live in (two at boot, the rest for fork children). */
const SLOTS = [11, 12, 13, 14, 15, 16];
/** Where a worker writes its marker before exec (page 0 of the data area, after the messages). */
const MARKER = DATA + PAGE - 16;
/** Touches use this offset in a page: away from the messages and the marker. */
const TOFF = 0xc07;
/** Far from anything VM places: a touch there is outside every region. */
const NOWHERE = 0x7000_0000;
const RW = PROT_READ | PROT_WRITE;

// pm → worker (m_type), and worker → pm.
const W_MMAP = 1; // len, flags → status, addr
const W_MUNMAP = 2; // addr, len → status
const W_TOUCH = 3; // addr, value → old byte
const W_FORK = 4; // a: slot → the worker asks pm (P_FORK), then answers with pm's reply
const W_EXEC = 5; // a: program index, value: marker → the worker asks pm (P_EXEC)
const W_EXIT = 6; // the worker returns
const P_FORK = 0x40; // a: slot
const P_EXEC = 0x41; // a: program index
const P_DONE = 0x42; // the answer to a command
const CMD = defineLayout({ a: "u32", len: "u32", value: "u32", flags: "i32" });
const ANSWER = defineLayout({ status: "i32", a: "u32", value: "u32" });

/** The programs exec can start: all run the worker; "huge" cannot fit in 2 MiB. */
const PROGRAMS = [
  { name: "w1", imagePages: 1 },
  { name: "w16", imagePages: 16 },
  { name: "w100", imagePages: 100 },
  { name: "huge", imagePages: 1000 },
] as const;

/**
 * A worker: serves pm's commands in its own address space until told to exit. `fresh`
 * (after exec) checks that the old data area is gone. Uses only its own context.
 */
function workerOf(problems: string[]) {
  const worker = function* (ctx: ProcessContext, fresh: boolean): Syscall {
    if (fresh) {
      const v = yield* peek(ctx, MARKER);
      if (v !== 0) problems.push(`exec'd worker sees marker ${v}`);
    }
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    const answer = function* (status: number, a = 0, value = 0): Syscall<void> {
      um.m.set(P_DONE, ANSWER, { status, a, value });
      yield* um.put();
      yield* send(PM, um.va);
    };
    const ask = function* (type: number, a: number): Syscall<{ status: number; a: number }> {
      um.m.set(type, ANSWER, { status: 0, a, value: 0 });
      yield* um.put();
      const r = yield* sendrec(PM, um.va);
      if (r !== OK) return { status: r, a: 0 };
      const m = (yield* um.get()).get(ANSWER);
      return { status: m.status, a: m.a };
    };
    for (;;) {
      if ((yield* receive(PM, um.va)) !== OK) return 1;
      const m = yield* um.get();
      const c = m.get(CMD);
      if (m.type === W_MMAP) {
        const r = yield* minixMmap(ctx, { len: c.len, prot: RW, flags: c.flags });
        yield* answer(r.status, r.addr);
      } else if (m.type === W_MUNMAP) {
        yield* answer(yield* minixMunmap(ctx, c.a, c.len));
      } else if (m.type === W_TOUCH) {
        const old = yield* peek(ctx, c.a);
        yield* poke(ctx, c.a, c.value);
        yield* answer(OK, 0, old);
      } else if (m.type === W_FORK) {
        yield* setForkEntry(child);
        const r = yield* ask(P_FORK, c.a);
        yield* answer(r.status, r.a);
      } else if (m.type === W_EXEC) {
        yield* poke(ctx, MARKER, c.value);
        const r = yield* ask(P_EXEC, c.a);
        // Only on failure: the old image goes on, marker included.
        yield* answer(r.status, 0, yield* peek(ctx, MARKER));
      } else if (m.type === W_EXIT) {
        return 0;
      }
    }
  };
  const child = (ctx: ProcessContext): Syscall => worker(ctx, false);
  return {
    boot: (ctx: ProcessContext): Syscall => worker(ctx, false),
    exec: (ctx: ProcessContext): Syscall => worker(ctx, true),
  };
}

type Op =
  | { kind: "mmap"; w: number; pages: number; prealloc: boolean }
  | { kind: "munmap"; w: number; pick: number; off: number; pages: number }
  | { kind: "touch"; w: number; pick: number; page: number; outside: boolean; value: number }
  | { kind: "fork"; w: number }
  | { kind: "exec"; w: number; prog: number; marker: number }
  | { kind: "exit"; w: number };

const W = fc.nat({ max: 7 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("mmap" as const),
      w: W,
      // Mostly small; now and then more than 2 MiB has, or more than the address space.
      pages: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }) },
        { weight: 2, arbitrary: fc.integer({ min: 60, max: 600 }) },
        { weight: 1, arbitrary: fc.constant(0x8_0000) },
      ),
      prealloc: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("munmap" as const),
      w: W,
      pick: fc.nat(),
      off: fc.nat(),
      pages: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant("touch" as const),
      w: W,
      pick: fc.nat(),
      page: fc.nat(),
      outside: fc.nat({ max: 5 }).map((n) => n === 0),
      value: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("fork" as const), w: W }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("exec" as const),
      w: W,
      prog: fc.nat({ max: PROGRAMS.length - 1 }),
      marker: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("exit" as const), w: W }) },
);

/** pm's model of one worker. */
interface Proc {
  ep: Endpoint;
  slot: number;
  /** Regions pm knows of: the data area (not unmapped here) and mmaps. */
  maps: { start: number; pages: number }[];
  /** Page → the byte at TOFF (0 if absent). */
  bytes: Map<number, number>;
}

function run(m: Machine, maxSteps: number): void {
  let i = 0;
  for (; i < maxSteps && m.step(); i++) m.check();
  expect(i).toBeLessThan(maxSteps);
}

describe("property", () => {
  test("random mmap/munmap/touch/fork/exec/exit over a few processes in 2 MiB: VM survives, data as modelled, every frame back", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 50, size: "max" }), (ops) => {
        const problems: string[] = [];
        const free: number[] = [];
        const w = workerOf(problems);
        const programs: Record<string, ProgramSpec> = Object.fromEntries(
          PROGRAMS.map((p) => [p.name, { imagePages: p.imagePages, program: w.exec }]),
        );

        function* pm(ctx: ProcessContext): Syscall {
          const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
          // Make pm's own pages present so VM_INFO later counts only the workers.
          yield* vmInfo(ctx);
          yield* um.put();
          free.push((yield* vmInfo(ctx)).freeFrames);
          const live: Proc[] = SLOTS.slice(0, 2).map((slot) => ({
            ep: slot as Endpoint,
            slot,
            maps: [{ start: DATA, pages: DATA_PAGES }],
            bytes: new Map(),
          }));

          /** One command; the worker's first message back (status EDEADSRCDST if it died). */
          const cmd = function* (
            p: Proc,
            type: number,
            c: { a?: number; len?: number; value?: number; flags?: number },
          ): Syscall<{ type: number; source: Endpoint; status: number; a: number; value: number }> {
            um.m.set(type, CMD, {
              a: c.a ?? 0,
              len: c.len ?? 0,
              value: c.value ?? 0,
              flags: c.flags ?? 0,
            });
            yield* um.put();
            const r = yield* sendrec(p.ep, um.va);
            if (r !== OK) return { type: 0, source: p.ep, status: r, a: 0, value: 0 };
            const m = yield* um.get();
            const a = m.get(ANSWER);
            return { type: m.type, source: m.source, status: a.status, a: a.a, value: a.value };
          };
          const reply = function* (to: Endpoint, status: number, a = 0): Syscall<void> {
            um.m.set(0, ANSWER, { status, a, value: 0 });
            yield* um.put();
            const r = yield* send(to, um.va);
            if (r !== OK) problems.push(`reply to ${to}: ${r}`);
          };
          /** `p` is gone; VM_EXIT must be `want` (OK after an exit, EINVAL after VM killed it). */
          const gone = function* (p: Proc, want: number): Syscall<void> {
            live.splice(live.indexOf(p), 1);
            const x = yield* vmExit(ctx, p.ep);
            if (x !== want) problems.push(`VM_EXIT ${p.ep}: ${x} not ${want}`);
          };

          for (const op of ops) {
            if (live.length === 0) break;
            const p = live[op.w % live.length]!;
            if (op.kind === "mmap") {
              const flags = MAP_ANON | MAP_PRIVATE | (op.prealloc ? MAP_PREALLOC : 0);
              const r = yield* cmd(p, W_MMAP, { len: op.pages * PAGE, flags });
              if (r.status === OK) {
                p.maps.push({ start: r.a, pages: op.pages });
              } else if (r.status !== ENOMEM) {
                problems.push(`mmap ${JSON.stringify(op)}: ${r.status}`);
              }
            } else if (op.kind === "munmap") {
              const mm = p.maps.slice(1);
              if (mm.length === 0) continue;
              const reg = mm[op.pick % mm.length]!;
              const off = op.off % reg.pages;
              const n = Math.min(op.pages, reg.pages - off);
              const at = reg.start + off * PAGE;
              const r = yield* cmd(p, W_MUNMAP, { a: at, len: n * PAGE });
              if (r.status !== OK) {
                problems.push(`munmap ${at}+${n}: ${r.status}`);
                continue;
              }
              const stop = at + n * PAGE;
              p.maps.splice(p.maps.indexOf(reg), 1);
              if (off > 0) p.maps.push({ start: reg.start, pages: off });
              if (off + n < reg.pages) p.maps.push({ start: stop, pages: reg.pages - off - n });
              for (const k of [...p.bytes.keys()]) if (k >= at && k < stop) p.bytes.delete(k);
            } else if (op.kind === "touch") {
              // Data pages 1.. and mapped pages; outside: far above everything.
              const reg = p.maps[op.pick % p.maps.length]!;
              const first = reg.start === DATA ? 1 : 0;
              const page = op.outside
                ? NOWHERE + (op.page % 64) * PAGE
                : reg.start + (first + (op.page % (reg.pages - first))) * PAGE;
              const before = op.outside ? 0 : (yield* vmInfo(ctx)).freeFrames;
              const r = yield* cmd(p, W_TOUCH, { a: page + TOFF, value: op.value });
              if (r.status === EDEADSRCDST) {
                // SIGSEGV outside; inside only when memory ran out.
                if (!op.outside && before > 2)
                  problems.push(`touch ${page} killed, ${before} free`);
                yield* gone(p, EINVAL);
              } else if (op.outside) {
                problems.push(`touch ${page} outside survived: ${r.status}`);
              } else if (r.value !== (p.bytes.get(page) ?? 0)) {
                problems.push(`touch ${p.ep} ${page}: ${r.value} not ${p.bytes.get(page) ?? 0}`);
              } else {
                p.bytes.set(page, op.value);
              }
            } else if (op.kind === "fork") {
              const slot = SLOTS.find((s) => !live.some((q) => q.slot === s));
              if (slot === undefined) continue;
              const q = yield* cmd(p, W_FORK, { a: slot });
              if (q.type !== P_FORK || q.source !== p.ep || q.a !== slot) {
                problems.push(`fork: got ${q.type} ${q.status}`);
                continue;
              }
              const f = yield* vmFork(ctx, p.ep, slot);
              let status = f.status;
              if (status === OK) {
                // A system process's child has no privileges until someone sets them.
                status = yield* sysPrivctl(ctx, f.child, SYS_PRIV_SET_SYS);
                if (status === OK) status = yield* sysPrivctl(ctx, f.child, SYS_PRIV_ALLOW);
                if (status !== OK) problems.push(`privctl ${f.child}: ${status}`);
                live.push({
                  ep: f.child,
                  slot,
                  maps: p.maps.map((x) => ({ ...x })),
                  bytes: new Map(p.bytes),
                });
              } else if (status !== ENOMEM) {
                problems.push(`fork ${p.ep} → ${slot}: ${status}`);
              }
              yield* reply(p.ep, status, f.child);
              const done = yield* receive(p.ep, um.va);
              const a = (yield* um.get()).get(ANSWER);
              if (done !== OK || a.status !== status)
                problems.push(`fork answer ${done} ${a.status}`);
            } else if (op.kind === "exec") {
              const prog = PROGRAMS[op.prog]!;
              const q = yield* cmd(p, W_EXEC, { a: op.prog, value: op.marker });
              if (q.type !== P_EXEC || q.source !== p.ep) {
                problems.push(`exec: got ${q.type} ${q.status}`);
                continue;
              }
              const r = yield* vmExecNewmem(ctx, p.ep, prog.imagePages);
              if (r.status === OK) {
                const x = yield* sysExec(ctx, p.ep, prog.name, [prog.name]);
                if (x !== OK) problems.push(`SYS_EXEC ${p.ep}: ${x}`);
                // A new image: only the (demand-zero) data area is known.
                p.maps = [{ start: DATA, pages: DATA_PAGES }];
                p.bytes.clear();
                continue;
              }
              if (r.status !== ENOMEM) problems.push(`exec ${prog.name}: ${r.status}`);
              yield* reply(p.ep, r.status);
              const done = yield* receive(p.ep, um.va);
              const a = (yield* um.get()).get(ANSWER);
              if (done !== OK || a.status !== r.status || a.value !== op.marker) {
                problems.push(`after failed exec ${p.ep}: ${done} ${a.status} marker ${a.value}`);
              }
            } else {
              const r = yield* cmd(p, W_EXIT, {});
              if (r.status !== EDEADSRCDST) problems.push(`exit ${p.ep}: ${r.status}`);
              yield* gone(p, OK);
            }
          }
          while (live.length > 0) {
            const p = live[0]!;
            const r = yield* cmd(p, W_EXIT, {});
            if (r.status !== EDEADSRCDST) problems.push(`final exit ${p.ep}: ${r.status}`);
            yield* gone(p, OK);
          }
          free.push((yield* vmInfo(ctx)).freeFrames);
          return 0;
        }

        const image: BootImageEntry[] = [
          vmEntry,
          { name: "pm", slot: PM, program: pm },
          ...SLOTS.slice(0, 2).map((slot) => ({
            name: `w${slot}`,
            slot,
            dataPages: DATA_PAGES,
            program: w.boot,
          })),
        ];
        const m = Machine.boot({ memoryBytes: 2 << 20, vmSanity: true, image, programs });
        const ev: MachineEvent[] = [];
        m.onEvent((e) => ev.push(e));
        run(m, 2_000_000);
        expect(problems).toEqual([]);
        expect(m.halted).toBeNull();
        expect(ev.filter((e) => e.kind === "panic")).toEqual([]);
        expect(m.snapshot().procs.find((p) => p.slot === VM_PROC_NR)?.rts).toBe("RECEIVING");
        expect(free).toHaveLength(2);
        expect(free[1]).toBe(free[0]);
      }),
      { numRuns: 50, seed: 11 },
    );
  });
});
