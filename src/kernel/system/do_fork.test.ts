import { describe, expect, test } from "vitest";
import { makeEndpoint, SELF, VM_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, OK } from "../../include/errno.ts";
import { PFF_VMINHIBIT, VMCTL_GET_PDBR, VMCTL_SETADDRSPACE } from "../../include/kcall.ts";
import type { Program, ProcessContext } from "../../include/trap.ts";
import {
  kernelCall,
  Machine,
  malloc,
  receive,
  send,
  sendrec,
  setForkEntry,
  sysVmctl,
  UMessage,
  type BootImageEntry,
  type Syscall,
} from "../../../test/system_harness.ts";

const APP = 11 as Endpoint;
const CHILD_SLOT = 20;

/**
 * Plays VM (slot 8, the caller of SYS_FORK in MINIX): forks APP into `slot` when asked and
 * replies with the status; with PFF_VMINHIBIT it then installs the parent's page directory
 * for the child. `log` gets the status and the child endpoint.
 */
function forker(slot: number, flags: number, log: number[]): Program {
  return function* (ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, 64, 64));
    for (;;) {
      if ((yield* receive(APP, um.va)) !== OK) return 0;
      const r = yield* kernelCall(ctx, "SYS_FORK", { endpt: APP, slot, flags });
      log.push(r.status, r.reply.endpt);
      if (r.status === OK && (flags & PFF_VMINHIBIT) !== 0) {
        const root = (yield* sysVmctl(ctx, APP, VMCTL_GET_PDBR)).reply.value;
        log.push((yield* sysVmctl(ctx, r.reply.endpt, VMCTL_SETADDRSPACE, root)).status);
      }
      um.m.type = r.status;
      yield* um.put();
      yield* send(APP, um.va);
    }
  };
}

/** Names `entry` (unless "none") as its fork entry, asks the forker, logs the answer. */
function app(entry: Program | "none", log: number[]): Program {
  return function* (ctx: ProcessContext): Syscall {
    if (entry !== "none") log.push(yield* setForkEntry(entry));
    const um = new UMessage(ctx, malloc(ctx, 64, 64));
    yield* sendrec(VM_PROC_NR, um.va);
    log.push((yield* um.get()).type);
    return 0;
  };
}

function run(image: BootImageEntry[]): Machine {
  const m = Machine.boot({ image });
  m.runUntilIdle();
  expect(m.halted).toBeNull();
  m.check();
  return m;
}

describe("doFork()", () => {
  test("the child gets the slot's next generation and starts in the fork entry", () => {
    const forks: number[] = [];
    const apps: number[] = [];
    const ran: string[] = [];
    // eslint-disable-next-line require-yield
    const child: Program = function* (ctx) {
      ran.push(ctx.argv.join(","));
      return 0;
    };
    run([
      { name: "forker", slot: VM_PROC_NR, program: forker(CHILD_SLOT, 0, forks) },
      { name: "app", slot: APP, priv: "user", argv: ["app", "x"], program: app(child, apps) },
    ]);
    expect(forks).toEqual([OK, makeEndpoint(1, CHILD_SLOT)]);
    expect(apps).toEqual([OK, OK]);
    expect(ran).toEqual(["app,x"]);
  });

  test("EINVAL without a fork entry, for a busy slot and for a parent that is running", () => {
    const noEntry: number[] = [];
    run([
      { name: "forker", slot: VM_PROC_NR, program: forker(CHILD_SLOT, 0, noEntry) },
      { name: "app", slot: APP, priv: "user", program: app("none", []) },
    ]);
    expect(noEntry[0]).toBe(EINVAL);

    const busy: number[] = [];
    // eslint-disable-next-line require-yield
    const child: Program = function* () {
      return 0;
    };
    const m = run([
      { name: "forker", slot: VM_PROC_NR, program: forker(VM_PROC_NR, 0, busy) },
      { name: "app", slot: APP, priv: "user", program: app(child, []) },
    ]);
    expect(busy[0]).toBe(EINVAL);
    expect(m.snapshot().procs.filter((p) => p.slot >= 0)).toEqual([]);

    const self: number[] = [];
    run([
      {
        name: "runner",
        slot: 30,
        program: function* (ctx) {
          yield* setForkEntry(child);
          self.push(
            (yield* kernelCall(ctx, "SYS_FORK", { endpt: SELF, slot: 31, flags: 0 })).status,
          );
          self.push(yield* setForkEntry(42 as never));
          return 0;
        },
      },
    ]);
    expect(self).toEqual([EINVAL, EINVAL]);
  });

  test("a program that is not a generator function is refused", () => {
    const forks: number[] = [];
    const notGen = (() => 7) as unknown as Program;
    run([
      { name: "forker", slot: VM_PROC_NR, program: forker(CHILD_SLOT, 0, forks) },
      { name: "app", slot: APP, priv: "user", program: app(notGen, []) },
    ]);
    expect(forks[0]).toBe(EINVAL);
  });

  test("a system process's child waits in NO_PRIV; PFF_VMINHIBIT holds it until SETADDRSPACE", () => {
    const forks: number[] = [];
    const ran: number[] = [];
    // eslint-disable-next-line require-yield
    const child: Program = function* () {
      ran.push(1);
      return 0;
    };
    const m = run([
      { name: "forker", slot: VM_PROC_NR, program: forker(CHILD_SLOT, PFF_VMINHIBIT, forks) },
      { name: "app", slot: APP, program: app(child, []) },
    ]);
    expect(forks).toEqual([OK, makeEndpoint(1, CHILD_SLOT), OK]);
    expect(m.snapshot().procs.find((p) => p.slot === CHILD_SLOT)?.rts).toBe("NO_PRIV");
    expect(ran).toEqual([]);

    const userForks: number[] = [];
    const m2 = Machine.boot({
      image: [
        { name: "forker", slot: VM_PROC_NR, program: forker(CHILD_SLOT, PFF_VMINHIBIT, userForks) },
        { name: "app", slot: APP, priv: "user", program: app(child, []) },
      ],
    });
    // Before SETADDRSPACE the child is held by VMINHIBIT; afterwards it runs.
    const seen = new Set<string>();
    for (let i = 0; i < 10_000 && m2.step(); i++) {
      const c = m2.snapshot().procs.find((p) => p.slot === CHILD_SLOT);
      if (c !== undefined) seen.add(c.rts);
    }
    expect(seen.has("VMINHIBIT")).toBe(true);
    expect(ran).toEqual([1]);
  });
});
