import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { serviceMain } from "../src/commands/service.ts";
import { recordEvents } from "./system_harness.ts";
import { initEntry, pmEntry } from "../src/boot/services.ts";
import { execve, fork, waitpid } from "../src/lib/libc/pm.ts";
import { driverEntry, rsImage, runUntil } from "./fixtures/rs.ts";

/** The full system without PM: `service` runs as a user process with `args`. */
function runService(...args: string[]): { console: string; status: number | undefined } {
  const cmd: BootImageEntry = {
    name: "service",
    slot: 20,
    priv: "user",
    program: serviceMain,
    argv: ["service", ...args],
  };
  const m = Machine.boot({
    memoryBytes: 16 << 20,
    nrProcs: 64,
    image: rsImage([driverEntry(), cmd]),
  });
  const exits = recordEvents(m, "exit");
  m.runUntilIdle(200_000);
  expect(m.halted).toBeNull();
  const status = exits.find((e) => e.ep === 20)?.status;
  return { console: m.console, status };
}

describe("the service command", () => {
  test("list prints a table of every service RS manages", () => {
    const { console, status } = runService("list");
    expect(status).toBe(0);
    const table = console.slice(console.indexOf("label")).trimEnd().split("\n");
    expect(table[0]).toMatch(/^label\s+endpoint\s+pid\s+flags\s+restarts$/);
    expect(table.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["vm", "driver"]);
    expect(table[1]).toMatch(/^vm\s+8\s+-\s+active,core\s+0$/);
    expect(table[2]).toMatch(/^driver\s+11\s+-\s+active\s+0$/);
  });

  test("bad arguments print the usage and exit 2", () => {
    for (const args of [
      [],
      ["frobnicate"],
      ["down"],
      ["up"],
      ["up", "x", "-period", "soon"],
      ["list", "x"],
    ]) {
      const { console, status } = runService(...args);
      expect(status).toBe(2);
      expect(console).toContain("Usage: service up <program>");
    }
  });

  test("a caller RS cannot identify as root is refused with one line", () => {
    const { console, status } = runService("down", "driver");
    expect(status).toBe(1);
    expect(console).toContain("service: down driver: permission denied\n");
  });
});

/** A user "shell" running each command line in a forked child (execve of the program table). */
function shell(lines: readonly (readonly string[])[], statuses: number[]): BootImageEntry {
  return {
    name: "sh",
    slot: 20,
    priv: "user",
    priority: 9,
    program: function* (ctx) {
      for (const argv of lines) {
        const pid = yield* fork(ctx, function* (c) {
          return yield* execve(c, argv[0]!, argv);
        });
        const w = yield* waitpid(ctx, pid, 0);
        statuses.push(typeof w === "number" ? w : w.status >> 8);
      }
      return 0;
    },
  };
}

describe("the service command in the full system", () => {
  test("up, list, restart and down of a driver under a new label", () => {
    const statuses: number[] = [];
    const m = Machine.boot({
      memoryBytes: 32 << 20,
      nrProcs: 64,
      programs: { service: { program: serviceMain, imagePages: 4 } },
      image: rsImage([
        pmEntry,
        initEntry(),
        driverEntry(),
        shell(
          [
            ["service", "up", "driver", "-label", "d2", "-period", "30"],
            ["service", "list"],
            ["service", "restart", "d2"],
            ["service", "refresh", "driver"],
            ["service", "down", "d2"],
            ["service", "down", "d2"],
            ["service", "down", "vm"],
          ],
          statuses,
        ),
      ]),
    });
    runUntil(m, () => statuses.length === 7);
    expect(m.halted).toBeNull();
    expect(statuses).toEqual([0, 0, 0, 0, 0, 1, 1]);
    const c = m.console;
    expect(c).toMatch(/service: d2 is up \(endpoint \d+\)/);
    expect(c).toMatch(/\nd2\s+\d+\s+\d+\s+active\s+0\n/);
    expect(c).toContain("rs: restarted d2: endpoint ");
    // refresh: SIGTERM, SEF ends the driver, RS starts it again at once.
    expect(c).toMatch(/rs: restarted driver: endpoint 11 -> \d+\n/);
    expect(c).toContain('service: down d2: no service labelled "d2"\n');
    expect(c).toContain("service: down vm: permission denied\n");
  });
});
