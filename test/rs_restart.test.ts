import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { initEntry, pmEntry } from "../src/boot/services.ts";
import { ANY, CLOCK, type Endpoint } from "../src/include/endpoint.ts";
import { ENXIO, ESRCH, OK } from "../src/include/errno.ts";
import {
  MAX_BACKOFF,
  SEF_INIT_FRESH,
  SEF_INIT_RESTART,
  SF_CORE_SRV,
  SF_NEED_COPY,
} from "../src/include/rs.ts";
import { backoffPeriods } from "../src/servers/rs/manager.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { receive, sendrec, type Syscall } from "../src/lib/ipc.ts";
import { rsLookup } from "../src/lib/rs.ts";
import { malloc } from "../src/lib/runtime.ts";
import { sefStartup } from "../src/lib/sef.ts";
import { UMessage } from "../src/lib/umessage.ts";
import {
  CRASH_EXIT,
  CRASH_KILL,
  CRASH_RETURN,
  CRASH_SEGV,
  CRASH_THROW,
  driverEntry,
  driverInits,
  ECHO,
  ECHO_LAYOUT,
  HANG,
  rsImage,
  runUntil,
} from "./fixtures/rs.ts";

interface Log {
  replies: { value: number; incarnation: number; ep: number }[];
  errors: number;
}

/** A client that runs `script` against the driver, finding it by label and retrying ECHO. */
function client(script: readonly number[], log: Log): BootImageEntry {
  return {
    name: "client",
    slot: 12,
    priv: "user",
    program: function* (ctx: ProcessContext): Syscall {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      let ep = -1;
      let value = 0;
      for (const op of script) {
        for (let tries = 0; tries < 100_000; tries++) {
          if (ep < 0) {
            const r = yield* rsLookup(ctx, "driver");
            if (r < 0) continue;
            ep = r;
          }
          um.m.set(op, ECHO_LAYOUT, { value, incarnation: 0 });
          yield* um.put();
          const r = yield* sendrec(ep as Endpoint, um.va);
          if (op !== ECHO) break;
          const m = yield* um.get();
          if (r === OK && m.type === OK) {
            const rep = m.get(ECHO_LAYOUT);
            log.replies.push({ value: rep.value, incarnation: rep.incarnation, ep });
            value = rep.value;
            break;
          }
          log.errors++;
          ep = -1;
        }
      }
      return 0;
    },
  };
}

function bootFull(extra: readonly BootImageEntry[]): Machine {
  return Machine.boot({
    memoryBytes: 32 << 20,
    nrProcs: 64,
    image: rsImage([pmEntry, initEntry(), ...extra]),
  });
}

describe("RS restarts crashed services", () => {
  test("a driver that throws, touches unmapped memory or is killed comes back under its label", () => {
    driverInits.length = 0;
    const log: Log = { replies: [], errors: 0 };
    const m = bootFull([
      driverEntry(),
      client([ECHO, CRASH_THROW, ECHO, CRASH_SEGV, ECHO, CRASH_KILL, ECHO], log),
    ]);
    m.runUntilIdle(3_000_000);
    expect(m.halted).toBeNull();
    m.check();
    expect(log.replies.map((r) => r.value)).toEqual([1, 2, 3, 4]);
    expect(log.replies.map((r) => r.incarnation)).toEqual([0, 2, 2, 2]);
    const eps = log.replies.map((r) => r.ep);
    expect(new Set(eps).size).toBe(4);
    expect(driverInits.map((d) => d.type)).toEqual([0, 2, 2, 2]);
    const c = m.console;
    expect(c).toContain(`rs: restarted driver: endpoint 11 -> ${eps[1]}\n`);
    // The first death restarts at once; later ones wait 2, then 4 RS periods (60 ticks each).
    expect(c.match(/restarted in \d+ ticks/g)).toEqual([
      "restarted in 120 ticks",
      "restarted in 240 ticks",
    ]);
  });
});

describe("restart after an unexpected exit", () => {
  test.each([
    ["exits through sys_exit", CRASH_EXIT],
    ["returns from its program", CRASH_RETURN],
  ])("a driver that %s is restarted (SIGABRT through RS)", (_how, crash) => {
    driverInits.length = 0;
    const log: Log = { replies: [], errors: 0 };
    const m = bootFull([driverEntry(), client([ECHO, crash, ECHO], log)]);
    m.runUntilIdle(3_000_000);
    expect(m.halted).toBeNull();
    m.check();
    expect(log.replies.map((r) => [r.value, r.incarnation])).toEqual([
      [1, 0],
      [2, 2],
    ]);
    expect(m.console).toContain("rs: service driver (endpoint 11) died of signal 6\n");
  });
});

describe("restart policy", () => {
  test("backoff doubles per restart and is capped at MAX_BACKOFF periods", () => {
    expect([1, 2, 3, 4, 5, 6, 40].map(backoffPeriods)).toEqual([2, 4, 8, 16, 30, 30, 30]);
    expect(backoffPeriods(100)).toBe(MAX_BACKOFF);
  });

  test("a driver that stops answering pings is killed after two periods and restarted", () => {
    driverInits.length = 0;
    const log: Log = { replies: [], errors: 0 };
    const m = bootFull([driverEntry({ period: 20 }), client([ECHO, HANG, ECHO], log)]);
    // RS keeps pinging, so the machine never goes idle: run until the client is done.
    runUntil(m, () => log.replies.length === 2);
    expect(m.halted).toBeNull();
    expect(log.replies.map((r) => [r.value, r.incarnation])).toEqual([
      [1, 0],
      [2, 2],
    ]);
    expect(m.console).toContain("rs: service driver does not answer pings\n");
    expect(m.console).toContain("rs: service driver (endpoint 11) died of signal 9\n");
  });

  test("a service whose init fails is killed and restarted (MINIX: as a crash)", () => {
    const started: number[] = [];
    const m = bootFull([
      driverEntry({
        program: function* (ctx) {
          const type = yield* sefStartup(ctx, {
            // eslint-disable-next-line require-yield
            init: function* (_c, t) {
              return t === SEF_INIT_FRESH ? ENXIO : OK;
            },
          });
          started.push(type);
          yield* receive(ANY, malloc(ctx, 64, 64));
          return 0;
        },
      }),
    ]);
    m.runUntilIdle(3_000_000);
    expect(m.halted).toBeNull();
    // The fresh instance never got past its init; the restarted one did.
    expect(started).toEqual([SEF_INIT_RESTART]);
    expect(m.console).toContain(`rs: service driver failed to initialise (${ENXIO})\n`);
    expect(m.console).toMatch(/rs: restarted driver: endpoint 11 -> \d+\n/);
  });

  test("a service that never answers its init request is killed after RS_INIT_T and given up", () => {
    const m = bootFull([
      driverEntry({
        program: function* (ctx) {
          yield* receive(CLOCK, malloc(ctx, 64, 64)); // never takes RS_INIT
          return 0;
        },
      }),
    ]);
    runUntil(m, () => m.snapshot().rs?.some((s) => s.label === "driver") === false);
    expect(m.halted).toBeNull();
    expect(m.console).toContain("rs: service driver does not answer pings\n");
    expect(m.console).toContain("rs: service driver (endpoint 11) died of signal 9\n");
    expect(m.console).not.toContain("restarted driver");
    expect(m.snapshot().rs?.map((s) => s.label)).not.toContain("driver");
  });

  test("a core service that cannot be restarted panics the system naming it", () => {
    const log: Log = { replies: [], errors: 0 };
    const m = bootFull([
      driverEntry({ sysFlags: SF_CORE_SRV | SF_NEED_COPY }),
      client([ECHO, CRASH_THROW, ECHO], log),
    ]);
    m.runUntilIdle(3_000_000);
    expect(m.halted).toBe("rs: core service driver cannot be restarted (-1)");
    expect(m.console).toContain("kernel panic: rs: core service driver cannot be restarted");
  });

  test("a service without a copy of its program is given up; its label goes away", () => {
    const found: number[] = [];
    const m = bootFull([
      driverEntry({ sysFlags: SF_NEED_COPY }),
      client([ECHO, CRASH_THROW], { replies: [], errors: 0 }),
      {
        name: "later",
        slot: 13,
        priv: "user",
        program: function* (ctx) {
          // Runs after the client (lower priority): the driver is gone by then.
          found.push(yield* rsLookup(ctx, "driver"));
          return 0;
        },
        priority: 12,
      },
    ]);
    m.runUntilIdle(3_000_000);
    expect(m.halted).toBeNull();
    expect(m.console).toContain("rs: service driver cannot be restarted (-1)");
    expect(found).toEqual([ESRCH]);
  });
});
