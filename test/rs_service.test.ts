import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { serviceMain } from "../src/commands/service.ts";
import { recordEvents } from "./system_harness.ts";
import { driverEntry, rsImage } from "./fixtures/rs.ts";

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
