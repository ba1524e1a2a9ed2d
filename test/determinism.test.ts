/**
 * Determinism (DESIGN §8): the same seed and inputs give the same event trace, byte for
 * byte; what the trace depends on (the clock rate, the PRNG seed when a program asks for
 * randomness) changes it, and nothing else does.
 */
import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { demoImage } from "../src/boot/demo.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { Machine } from "../src/boot/machine.ts";
import type { BootOptions } from "../src/boot/options.ts";
import { OK } from "../src/include/errno.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { MachineEvent } from "../src/hw/events.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { sysRandomness } from "../src/lib/libsys/sys_getinfo.ts";
import { sysDiagctl } from "../src/lib/libsys/sys_misc.ts";
import { load } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";

interface Run {
  readonly hash: string;
  readonly events: readonly MachineEvent[];
  readonly console: string;
  readonly steps: number;
}

/** Boots, records every event from boot to idle, and hashes the JSON of the stream. */
function run(options: BootOptions): Run {
  const m = Machine.boot(options);
  const events: MachineEvent[] = [];
  m.onEvent((e) => events.push(e));
  const steps = m.runUntilIdle(100_000);
  expect(m.halted).toBeNull();
  const hash = createHash("sha256").update(JSON.stringify(events)).digest("hex");
  return { hash, events, console: m.console, steps };
}

const kinds = (r: Run): Set<string> => new Set(r.events.map((e) => e.kind));

/** Prints 8 random bytes from the machine's generator. */
function* randomPrinter(ctx: ProcessContext): Syscall {
  const buf = malloc(ctx, 8);
  if ((yield* sysRandomness(ctx, buf, 8)) !== OK) return 1;
  const bytes = new Uint8Array(8);
  yield* load(ctx, buf, bytes);
  yield* sysDiagctl(ctx, `random: ${Array.from(bytes).join(",")}\n`);
  return 0;
}

describe("determinism", () => {
  test("the same seed gives the same trace and console", () => {
    const a = run({ seed: 1234 });
    const b = run({ seed: 1234 });
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    expect(b.console).toBe(a.console);
    expect(b.steps).toBe(a.steps);
  });

  test("the demo's trace is not trivial", () => {
    const r = run({ seed: 1234 });
    const k = kinds(r);
    for (const kind of ["ipc", "kcall", "notify", "tick", "switch", "exit", "console"]) {
      expect(k.has(kind), kind).toBe(true);
    }
    // The full system: RS's requests, PM's and VM's work, the driver's answers.
    const sendrecs = r.events.filter((e) => e.kind === "ipc" && e.call === "SENDREC");
    expect(sendrecs.length).toBeGreaterThanOrEqual(4);
    // The driver crashed and its restarted instance answered.
    expect(r.console).toContain("client: ECHO 2 -> 3 (from the restarted instance)");
    expect(r.events.length).toBeGreaterThan(20);
  });

  test("the clock rate changes the trace: alarms fire after different amounts of work", () => {
    const fast = run({ seed: 1234, cyclesPerTick: 100_000 });
    const slow = run({ seed: 1234, cyclesPerTick: 1_000 });
    expect(slow.hash).not.toBe(fast.hash);
    // Same story, different timing.
    const ticks = (r: Run): number => r.events.filter((e) => e.kind === "tick").length;
    expect(ticks(slow)).toBeGreaterThan(ticks(fast));
    for (const r of [fast, slow]) expect(r.console).toContain("client: done");
  });

  test("the seed only matters to programs that ask for randomness", () => {
    // The demo never asks: its trace is the same under every seed (only the banner differs).
    const a = run({ seed: 1 });
    const b = run({ seed: 2 });
    expect(b.hash).toBe(a.hash);
    expect(b.console.replace("seed 2", "seed 1")).toBe(a.console);

    const image: BootImageEntry[] = [{ name: "rnd", program: randomPrinter }];
    const r1 = run({ seed: 1, image });
    const r1again = run({ seed: 1, image });
    const r2 = run({ seed: 2, image });
    expect(r1again.hash).toBe(r1.hash);
    expect(r1.console).toMatch(/random: \d+(,\d+){7}\n/);
    const line = (r: Run): string => r.console.split("\n").find((l) => l.startsWith("random:"))!;
    expect(line(r1again)).toBe(line(r1));
    expect(line(r2)).not.toBe(line(r1));
  });

  test("boot order changes the interleaving but not the outcome", () => {
    const normal = run({ seed: 5 });
    const reversed = run({ seed: 5, image: [...demoImage].reverse() });
    expect(reversed.hash).toBe(run({ seed: 5, image: [...demoImage].reverse() }).hash);
    expect(reversed.hash).not.toBe(normal.hash);
    // Boot through RS accepts any order: the same story is told.
    const story = (r: Run): string[] =>
      r.console.split("\n").filter((l) => l.startsWith("client:") || l.startsWith("rs:"));
    expect(story(reversed)).toEqual(story(normal));
    expect(story(normal)).toContain("client: done");
  });
});
