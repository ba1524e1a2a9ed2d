import { describe, expect, test } from "vitest";
import { ANY, CLOCK, type Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { defineLayout } from "../include/message.ts";
import type { IpcCallName } from "../include/ipc.ts";
import type { KcallNrName } from "../include/kcall.ts";
import type { Program, ProcessContext } from "../include/trap.ts";
import { notify, receive, send, sendrec, type Syscall } from "../lib/ipc.ts";
import { sysWhoami } from "../lib/libsys/sys_getinfo.ts";
import { malloc } from "../lib/runtime.ts";
import { UMessage } from "../lib/umessage.ts";
import { ipcDemoImage } from "./demo.ts";
import type { BootImageEntry } from "./image.ts";
import { formatProcTable } from "./inspect.ts";
import { Machine } from "./machine.ts";
import { dsEntry, rsEntry, vmEntry } from "./services.ts";
import type { BootOptions } from "./options.ts";

const VALUE = defineLayout({ value: "i32" });

function* idle(_ctx: ProcessContext): Syscall {
  yield* [];
  return 0;
}

/** A name the type system would reject, as a caller without types could pass it. */
function unknownName<T extends string>(name: string): T {
  return name as T;
}

const one: BootImageEntry[] = [{ name: "a", program: idle }];

/** Boot must throw exactly one Error whose message names `option`. */
function expectBadOption(options: BootOptions, option: string | RegExp): void {
  let err: unknown;
  try {
    Machine.boot(options);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Error);
  const msg = (err as Error).message;
  expect(msg).toMatch(/^Invalid boot option /);
  expect(msg).toMatch(option);
}

describe("Machine.boot option validation", () => {
  test("a program that is not a generator function stops the boot with a message naming it", () => {
    const notGen = (() => 1) as unknown as Program;
    expect(() => Machine.boot({ image: [{ name: "plain", program: notGen }] })).toThrow(
      /plain.*not a generator function/,
    );
  });

  test.each<[string, BootOptions, string | RegExp]>([
    ["memoryBytes not a multiple of 4096", { memoryBytes: (1 << 20) + 1 }, "memoryBytes"],
    ["memoryBytes too small", { memoryBytes: 4096 }, "memoryBytes"],
    ["memoryBytes not an integer", { memoryBytes: 1.5 * (1 << 20) + 0.5 }, "memoryBytes"],
    ["nrProcs 0", { nrProcs: 0 }, "nrProcs"],
    ["nrProcs huge", { nrProcs: 40_000 }, "nrProcs"],
    ["nrSysProcs below the boot processes", { nrSysProcs: 1 }, "nrSysProcs"],
    ["seed -1", { seed: -1 }, "seed"],
    ["seed NaN", { seed: Number.NaN }, "seed"],
    ["cyclesPerTick 0", { cyclesPerTick: 0 }, "cyclesPerTick"],
    ["hz 0", { hz: 0 }, "hz"],
    ["quantumTicks 0", { quantumTicks: 0 }, "quantumTicks"],
    ["image empty", { image: [] }, "image"],
    ["cowSafecopy not a boolean", { cowSafecopy: 1 as unknown as boolean }, "cowSafecopy"],
    [
      "grantGenerations not a boolean",
      { grantGenerations: "yes" as unknown as boolean },
      "grantGenerations",
    ],
    ["cowSafecopyMin below a page", { cowSafecopyMin: 4095 }, "cowSafecopyMin"],
    ["cowSafecopyMin not an integer", { cowSafecopyMin: 5000.5 }, "cowSafecopyMin"],
  ])("%s", (_name, options, option) => {
    expectBadOption(options, option);
  });

  test.each<[string, BootImageEntry[], RegExp]>([
    ["empty name", [{ name: "", program: idle }], /image\[0\].*name/],
    [
      "duplicate names",
      [
        { name: "a", program: idle },
        { name: "a", program: idle },
      ],
      /image\[1\].*duplicate name a/,
    ],
    [
      "duplicate slots",
      [
        { name: "a", slot: 20, program: idle },
        { name: "b", slot: 20, program: idle },
      ],
      /image\[1\].*b.*slot 20/,
    ],
    ["slot out of range", [{ name: "a", slot: 256, program: idle }], /image\[0\].*slot 256/],
    ["negative slot", [{ name: "a", slot: -1, program: idle }], /image\[0\].*slot -1/],
    ["priority 16", [{ name: "a", priority: 16, program: idle }], /image\[0\].*priority 16/],
    ["quantum 0", [{ name: "a", quantum: 0, program: idle }], /image\[0\].*quantum/],
    ["dataPages 0", [{ name: "a", dataPages: 0, program: idle }], /image\[0\].*dataPages/],
    [
      "program not a function",
      [{ name: "a", program: 42 as unknown as Program }],
      /image\[0\].*program/,
    ],
    [
      "unknown kernel call name",
      [{ name: "a", program: idle, priv: { kcalls: [unknownName<KcallNrName>("SYS_NOPE")] } }],
      /image\[0\].*unknown kernel call SYS_NOPE/,
    ],
    [
      "unknown trap name",
      [{ name: "a", program: idle, priv: { traps: [unknownName<IpcCallName>("YIELD")] } }],
      /image\[0\].*unknown trap YIELD/,
    ],
    [
      "unknown IPC target",
      [
        { name: "a", program: idle },
        { name: "b", program: idle, priv: { ipcTo: ["a", "ghost"] } },
      ],
      /image\[1\].*unknown IPC target ghost/,
    ],
  ])("%s", (_name, image, message) => {
    expectBadOption({ image }, message);
  });

  test("a program named like a boot service RS keeps a copy of is rejected", () => {
    const image = [rsEntry, vmEntry, dsEntry];
    const programs = { ds: { program: idle, imagePages: 1 } };
    expectBadOption({ image, programs }, /programs: ds is also a boot service/);
    // Without RS nobody keeps copies: the name is free.
    expect(() => Machine.boot({ image: [vmEntry, dsEntry], programs })).not.toThrow();
  });

  test("a valid minimal machine boots", () => {
    const m = Machine.boot({ memoryBytes: 1 << 20, nrProcs: 16, image: one });
    expect(m.halted).toBeNull();
    expect(m.options.nrProcs).toBe(16);
    m.runUntilIdle();
    m.check();
  });
});

describe("the IPC demonstration image", () => {
  test("the server and client run to idle with the expected console", () => {
    const m = Machine.boot({ image: ipcDemoImage });
    m.runUntilIdle();
    expect(m.halted).toBeNull();
    m.check();
    expect(m.console.split("\n").slice(1)).toEqual([
      "Kernel: 4 tasks, 256 process slots. Boot image: server client",
      `Loader: ${m.frames.used >>> 10} KiB used by boot processes.`,
      "server: waiting for requests",
      "client: alarm set for 5 ticks",
      "client: SENDREC 10 -> 20",
      "client: SENDREC 20 -> 40",
      "client: SENDREC 30 -> 60",
      "server: notification from 12",
      "client: alarm from CLOCK at tick 5",
      "server: done",
      "client: done",
      "",
    ]);
    // Both processes exited; only the kernel tasks remain.
    const s = m.snapshot();
    expect(s.procs.map((p) => p.name)).toEqual(["idle", "clock", "system", "kernel"]);
    expect(s.ticks).toBe(5);
  });
});

describe("the default image", () => {
  test("boots the whole system through RS and shows a driver crash and its restart", () => {
    const m = Machine.boot();
    const steps = m.runUntilIdle();
    expect(steps).toBeGreaterThan(0);
    expect(m.halted).toBeNull();
    m.check();
    const lines = m.console.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "MINIX-TS 0.1.0. Simulated machine, 64 MiB, seed 1.",
      "Kernel: 4 tasks, 256 process slots. Boot image: rs vm pm ds init echo client",
      `Loader: ${m.frames.used >>> 10} KiB used by boot processes.`,
    ]);
    const restarted = /^rs: restarted echo: endpoint 11 -> (\d+)$/;
    const newEp = lines.map((l) => restarted.exec(l)?.[1]).find((x) => x !== undefined);
    expect(newEp).toBeDefined();
    expect(lines.slice(3)).toEqual([
      "client: echo is endpoint 11",
      "client: ECHO 1 -> 2 (from the fresh instance)",
      "client: asking echo to crash",
      "rs: service echo (endpoint 11) died of signal 4",
      `rs: restarted echo: endpoint 11 -> ${newEp}`,
      "client: the request ended with EDEADSRCDST",
      `client: echo is back as endpoint ${newEp}`,
      "client: ECHO 2 -> 3 (from the restarted instance)",
      "client: done",
      "",
    ]);
    // The client exited; the system services and INIT wait for work, the driver runs anew.
    const s = m.snapshot();
    expect(s.vm).toBeDefined();
    expect(s.rs?.map((r) => [r.label, r.restarts])).toEqual([
      ["vm", 0],
      ["pm", 0],
      ["ds", 0],
      ["echo", 1],
    ]);
    expect(s.rs?.find((r) => r.label === "echo")?.endpoint).toBe(Number(newEp));
    expect(s.procs.filter((p) => p.slot >= 0).map((p) => p.name)).toEqual([
      "pm",
      "rs",
      "ds",
      "vm",
      "init",
      "echo",
    ]);
    // An idle machine stays idle.
    expect(m.step()).toBe(false);
    expect(m.runUntilIdle()).toBe(0);
  });
});

describe("large process tables", () => {
  test("4000 slots: a process in slot 3999 does SENDREC with one in slot 11", () => {
    const log: string[] = [];
    const server: Program = function* (ctx) {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      const r = yield* receive(ANY, um.va);
      const m = yield* um.get();
      log.push(`server got ${m.get(VALUE).value} from ${m.source} (${r})`);
      m.set(OK, VALUE, { value: m.get(VALUE).value + 1 });
      yield* um.put();
      return yield* send(m.source, um.va);
    };
    const client: Program = function* (ctx) {
      const who = yield* sysWhoami(ctx);
      if (typeof who !== "number") log.push(`client is ${who.name} at ${who.endpoint}`);
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      um.m.set(0x1234, VALUE, { value: 41 });
      yield* um.put();
      const r = yield* sendrec(11 as Endpoint, um.va);
      const m = yield* um.get();
      log.push(`client got ${m.get(VALUE).value} type ${m.type} from ${m.source} (${r})`);
      return 0;
    };
    const m = Machine.boot({
      nrProcs: 4000,
      nrSysProcs: 64,
      image: [
        { name: "far", slot: 3999, program: client },
        { name: "near", slot: 11, program: server },
      ],
    });
    expect(m.kernel.procs.length).toBe(4004);
    m.runUntilIdle();
    expect(m.halted).toBeNull();
    m.check();
    expect(log).toEqual([
      "client is far at 3999",
      "server got 41 from 3999 (0)",
      "client got 42 type 0 from 11 (0)",
    ]);
    expect(m.console).toContain("4000 process slots");
  });
});

describe("snapshot", () => {
  /** Receives only from CLOCK, which never sends: everyone else queues up. */
  function* sink(ctx: ProcessContext): Syscall {
    return yield* receive(CLOCK, malloc(ctx, 64, 64));
  }
  function* sender(ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    um.m.set(7, VALUE, { value: 1 });
    yield* um.put();
    return yield* send(11 as Endpoint, um.va);
  }
  function* notifier(ctx: ProcessContext): Syscall {
    yield* notify(11 as Endpoint);
    return yield* receive(CLOCK, malloc(ctx, 64, 64));
  }

  test("shows every live process, its flags, queues and pending notifications", () => {
    const m = Machine.boot({
      image: [
        { name: "sink", slot: 11, program: sink },
        { name: "a", slot: 12, program: sender },
        { name: "b", slot: 13, program: sender, priority: 9 },
        { name: "n", slot: 14, program: notifier },
      ],
    });
    const boot = m.snapshot();
    expect(boot.ticks).toBe(0);
    expect(boot.panic).toBeNull();
    expect(boot.procs.map((p) => [p.slot, p.name, p.rts])).toEqual([
      [-4, "idle", "PROC_STOP"],
      [-3, "clock", "PROC_STOP"],
      [-2, "system", "PROC_STOP"],
      [-1, "kernel", "PROC_STOP"],
      [11, "sink", ""],
      [12, "a", ""],
      [13, "b", ""],
      [14, "n", ""],
    ]);

    m.runUntilIdle();
    m.check();
    const s = m.snapshot();
    expect(s.cycles).toBeGreaterThan(0);
    expect(s.vmrequests).toEqual([]);
    const byName = new Map(s.procs.map((p) => [p.name, p]));
    const sinkP = byName.get("sink")!;
    const nP = byName.get("n")!;
    expect(sinkP).toMatchObject({
      slot: 11,
      endpoint: 11,
      rts: "RECEIVING",
      getfrom: "CLOCK",
      callerQ: [12, 13],
      notifyPending: [nP.privId],
      priority: 7,
    });
    expect(byName.get("a")).toMatchObject({ rts: "SENDING", sendto: "11", callerQ: [] });
    expect(byName.get("b")).toMatchObject({ rts: "SENDING", sendto: "11", priority: 9 });
    expect(nP).toMatchObject({ rts: "RECEIVING", getfrom: "CLOCK", notifyPending: [] });
    // Each system process has its own privilege structure.
    expect(new Set(s.procs.filter((p) => p.slot >= 0).map((p) => p.privId)).size).toBe(4);

    // The snapshot is a copy: running on does not change it.
    const json = JSON.stringify(s);
    m.runUntilIdle();
    expect(JSON.stringify(s)).toBe(json);

    const table = formatProcTable(s);
    expect(table.split("\n")[0]).toMatch(/slot\s+endpt\s+name/);
    expect(table).toMatch(/11\s+11\s+sink\s+7\s+RECEIVING/);
    expect(table).toMatch(/12\s+12\s+a\s+7\s+SENDING/);
  });

  test("records a kernel panic", () => {
    const m = Machine.boot({ image: one });
    m.kernel.panicMessage = "test";
    expect(m.snapshot().panic).toBe("test");
    expect(m.halted).toBe("test");
    expect(m.step()).toBe(false);
  });
});
