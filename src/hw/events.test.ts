// Tests for the machine event stream.

import { describe, expect, it } from "vitest";
import { EventStream, type MachineEvent } from "./events.ts";

const tick: MachineEvent = { kind: "tick", t: 100, ticks: 1 };

describe("EventStream", () => {
  it("is inactive without listeners and active with some", () => {
    const s = new EventStream();
    expect(s.active).toBe(false);
    const off1 = s.subscribe(() => {});
    const off2 = s.subscribe(() => {});
    expect(s.active).toBe(true);
    off1();
    expect(s.active).toBe(true);
    off2();
    expect(s.active).toBe(false);
    s.emit(tick);
  });

  it("delivers events to every listener in subscription order", () => {
    const s = new EventStream();
    const seen: string[] = [];
    s.subscribe((e) => seen.push(`a:${e.kind}`));
    s.subscribe((e) => seen.push(`b:${e.kind}`));
    s.emit(tick);
    s.emit({ kind: "console", t: 5, text: "hi" });
    expect(seen).toEqual(["a:tick", "b:tick", "a:console", "b:console"]);
  });

  it("unsubscribes only that subscription, idempotently", () => {
    const s = new EventStream();
    const seen: number[] = [];
    const fn = (e: MachineEvent): void => {
      seen.push(e.t);
    };
    const off = s.subscribe(fn);
    s.subscribe(fn);
    off();
    off();
    s.emit(tick);
    expect(seen).toEqual([100]);
  });

  it("applies subscription changes made during an emit to later emits", () => {
    const s = new EventStream();
    const seen: string[] = [];
    const offB = s.subscribe(() => {
      seen.push("a");
      offB();
      s.subscribe(() => seen.push("c"));
    });
    s.emit(tick);
    expect(seen).toEqual(["a"]);
    s.emit(tick);
    expect(seen).toEqual(["a", "c"]);
  });

  it("lets a listener's exception propagate to the emitter", () => {
    const s = new EventStream();
    const seen: string[] = [];
    s.subscribe(() => {
      throw new Error("boom");
    });
    s.subscribe(() => seen.push("late"));
    expect(() => s.emit(tick)).toThrow("boom");
    expect(seen).toEqual([]);
  });
});
