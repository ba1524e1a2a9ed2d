import { describe, expect, test } from "vitest";
import { ANY, CLOCK, NONE, type Endpoint } from "../../include/endpoint.ts";
import { EBUSY, EINVAL, ENOENT, OK } from "../../include/errno.ts";
import { EXEC_ARGV_MAX, KCALLS, PROGRAM_NAME_MAX } from "../../include/kcall.ts";
import type { Program, ProcessContext } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import {
  kernelCall,
  Machine,
  malloc,
  receive,
  send,
  sendrec,
  store,
  sysExec,
  UMessage,
  type BootImageEntry,
  type ProgramSpec,
  type Syscall,
} from "../../../test/system_harness.ts";

const EXECER = 0 as Endpoint;
const APP = 11 as Endpoint;
const SINK = 12 as Endpoint;

function boot(image: BootImageEntry[], programs: Record<string, ProgramSpec>): Machine {
  const m = Machine.boot({ memoryBytes: 4 << 20, nrProcs: 64, image, programs });
  for (let i = 0; i < 100_000 && m.step(); i++) m.check();
  expect(m.halted).toBeNull();
  return m;
}

/** A program that records its arguments, then waits in RECEIVE (a user process exits). */
function recorder(log: string[]): Program {
  return function* (ctx: ProcessContext): Syscall {
    log.push(`${ctx.argv.join(",")}`);
    const um = new UMessage(ctx, malloc(ctx, 64, 64));
    yield* receive(ANY, um.va);
    return 0;
  };
}

/** Waits for the app's request, runs `act`, then replies unless told not to. */
function execer(act: (ctx: ProcessContext) => Syscall<number | "noreply">, log: number[]): Program {
  return function* (ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, 64, 64));
    for (;;) {
      if ((yield* receive(APP, um.va)) !== OK) return 0;
      const r = yield* act(ctx);
      if (r === "noreply") {
        log.push(OK);
        continue;
      }
      log.push(r);
      um.m.type = r;
      yield* um.put();
      yield* send(APP, um.va);
    }
  };
}

/** Asks the execer once and logs the answer (never comes after a successful exec). */
function app(log: string[]): Program {
  return function* (ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, 64, 64));
    const r = yield* sendrec(EXECER, um.va);
    log.push(`reply ${r} ${(yield* um.get()).type}`);
    return 0;
  };
}

describe("doExec()", () => {
  test("the process starts the program with the arguments; its request gets no reply", () => {
    const ran: string[] = [];
    const apps: string[] = [];
    const statuses: number[] = [];
    const m = boot(
      [
        {
          name: "execer",
          slot: EXECER,
          program: execer(function* (ctx) {
            const r = yield* sysExec(ctx, APP, "hello", ["hello", "a", "", "b"]);
            return r === OK ? "noreply" : r;
          }, statuses),
        },
        // A system process, so that the new program may block in RECEIVE.
        { name: "app", slot: APP, program: app(apps) },
      ],
      { hello: { program: recorder(ran), imagePages: 1 } },
    );
    expect(statuses).toEqual([OK]);
    expect(ran).toEqual(["hello,a,,b"]);
    expect(apps).toEqual([]);
    const snap = m.snapshot().procs.find((p) => p.slot === APP);
    expect(snap?.name).toBe("hello");
    expect(snap?.rts).toBe("RECEIVING");
  });

  test("unknown program ENOENT, bad target or lengths EINVAL: the process is untouched", () => {
    const apps: string[] = [];
    const statuses: number[] = [];
    const m = boot(
      [
        {
          name: "execer",
          slot: EXECER,
          program: execer(function* (ctx) {
            const buf = malloc(ctx, EXEC_ARGV_MAX + 64);
            yield* store(ctx, buf, new TextEncoder().encode("hello\0x"));
            const call = (endpt: Endpoint, nameLen: number, argvLen: number, argv = buf + 6) =>
              kernelCall(ctx, "SYS_EXEC", {
                endpt,
                name: buf,
                nameLen,
                argv: virAddr(argv),
                argvLen,
              });
            statuses.push(yield* sysExec(ctx, APP, "nope", ["nope"]));
            statuses.push(yield* sysExec(ctx, APP, "hell", []));
            statuses.push((yield* call(99 as Endpoint, 5, 0)).status);
            statuses.push((yield* call(CLOCK, 5, 0)).status);
            statuses.push((yield* call(APP, 0, 0)).status);
            statuses.push((yield* call(APP, PROGRAM_NAME_MAX + 1, 0)).status);
            statuses.push((yield* call(APP, 5, -1)).status);
            statuses.push((yield* call(APP, 5, EXEC_ARGV_MAX + 1)).status);
            // "hello\0x": the block "x" does not end in NUL.
            statuses.push((yield* call(APP, 5, 1)).status);
            return ENOENT;
          }, statuses),
        },
        { name: "app", slot: APP, priv: "user", program: app(apps) },
      ],
      { hello: { program: recorder([]), imagePages: 1 } },
    );
    expect(statuses).toEqual([
      ENOENT,
      ENOENT,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      ENOENT,
    ]);
    expect(apps).toEqual([`reply ${OK} ${ENOENT}`]);
    expect(m.snapshot().procs.find((p) => p.slot === APP)).toBeUndefined();
  });

  test("a process blocked sending is refused with EBUSY", () => {
    const statuses: number[] = [];
    boot(
      [
        {
          name: "execer",
          slot: EXECER,
          priority: 10,
          program: function* (ctx) {
            statuses.push(yield* sysExec(ctx, APP, "hello", []));
            // Let the app's send complete: the sink is told to receive.
            const um = new UMessage(ctx, malloc(ctx, 64, 64));
            yield* send(SINK, um.va);
            return 0;
          },
        },
        {
          name: "app",
          slot: APP,
          program: function* (ctx) {
            yield* send(SINK, malloc(ctx, 64, 64));
            return 0;
          },
        },
        {
          name: "sink",
          slot: SINK,
          program: function* (ctx) {
            const b = malloc(ctx, 64, 64);
            yield* receive(EXECER, b);
            yield* receive(APP, b);
            return 0;
          },
        },
      ],
      { hello: { program: recorder([]), imagePages: 1 } },
    );
    expect(statuses).toEqual([EBUSY]);
  });

  test("a process may exec itself: no reply, the new program runs", () => {
    const ran: string[] = [];
    const after: number[] = [];
    boot(
      [
        {
          name: "self",
          slot: EXECER,
          program: function* (ctx) {
            after.push(yield* sysExec(ctx, EXECER, "hello", ["me"]));
            return 0;
          },
        },
      ],
      { hello: { program: recorder(ran), imagePages: 0 } },
    );
    expect(ran).toEqual(["me"]);
    expect(after).toEqual([]);
  });

  test("SYS_EXEC has a layout", () => {
    expect(Object.keys(KCALLS.SYS_EXEC.req.read(new DataView(new ArrayBuffer(64))))).toEqual([
      "endpt",
      "name",
      "nameLen",
      "argv",
      "argvLen",
    ]);
  });
});

describe("boot option programs", () => {
  const prog: Program = recorder([]);
  test.each([
    ["not an object", 5],
    ["an array", []],
    ["empty name", { "": { program: prog, imagePages: 0 } }],
    ["name too long", { ["x".repeat(PROGRAM_NAME_MAX + 1)]: { program: prog, imagePages: 0 } }],
    ["entry not an object", { a: 3 }],
    ["program not a function", { a: { program: 1, imagePages: 0 } }],
    ["imagePages negative", { a: { program: prog, imagePages: -1 } }],
    ["imagePages fractional", { a: { program: prog, imagePages: 1.5 } }],
    ["imagePages too big", { a: { program: prog, imagePages: 65537 } }],
  ])("%s is refused, naming the option", (_why, programs) => {
    expect(() =>
      Machine.boot({
        image: [{ name: "x", program: prog }],
        programs: programs as never,
      }),
    ).toThrow(/Invalid boot option programs/);
  });

  test("a name of 32 bytes and 65536 pages are fine", () => {
    expect(() =>
      Machine.boot({
        image: [{ name: "x", program: prog }],
        programs: { ["x".repeat(PROGRAM_NAME_MAX)]: { program: prog, imagePages: 65536 } },
      }),
    ).not.toThrow();
  });
});

describe("doExec() with endpoint NONE", () => {
  test("only looks the name up: OK for a registered program, ENOENT otherwise; nothing runs", () => {
    const statuses: number[] = [];
    const ran: string[] = [];
    boot(
      [
        {
          name: "pm",
          slot: EXECER,
          program: function* (ctx) {
            statuses.push(yield* sysExec(ctx, NONE, "hello", ["x"]));
            statuses.push(yield* sysExec(ctx, NONE, "nosuch", []));
            statuses.push(yield* sysExec(ctx, NONE, "", []));
            return 0;
          },
        },
      ],
      { hello: { program: recorder(ran), imagePages: 1 } },
    );
    expect(statuses).toEqual([OK, ENOENT, EINVAL]);
    expect(ran).toEqual([]);
  });
});
