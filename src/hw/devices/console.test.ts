// Tests for the console device.

import { describe, expect, it } from "vitest";
import { Console } from "./console.ts";

describe("Console", () => {
  it("accumulates output and clears it", () => {
    const c = new Console();
    expect(c.output()).toBe("");
    c.write("hello ");
    c.write("world\n");
    expect(c.output()).toBe("hello world\n");
    c.clear();
    expect(c.output()).toBe("");
    c.write("x");
    expect(c.output()).toBe("x");
  });

  it("notifies output listeners until they unsubscribe", () => {
    const c = new Console();
    const got: string[] = [];
    const off = c.onOutput((t) => got.push(t));
    c.write("a");
    c.write("");
    c.write("b");
    off();
    off();
    c.write("c");
    expect(got).toEqual(["a", "b"]);
    expect(c.output()).toBe("abc");
  });

  it("queues input FIFO with arrival times", () => {
    const c = new Console();
    expect(c.takeInput()).toBeUndefined();
    expect(c.nextInputAt()).toBeUndefined();
    const buf = Uint8Array.of(1, 2);
    c.pushInput(buf, 10);
    buf[0] = 99;
    c.pushInput(Uint8Array.of(3), 20);
    expect(c.nextInputAt()).toBe(10);
    expect(c.takeInput(5)).toBeUndefined();
    expect([...(c.takeInput(10) ?? [])]).toEqual([1, 2]);
    expect(c.nextInputAt()).toBe(20);
    expect([...(c.takeInput() ?? [])]).toEqual([3]);
    expect(c.takeInput()).toBeUndefined();
    c.pushInput(Uint8Array.of(4), 5);
    expect([...(c.takeInput() ?? [])]).toEqual([4]);
  });

  it("rejects input stamped before already queued input", () => {
    const c = new Console();
    c.pushInput(Uint8Array.of(1), 10);
    expect(() => c.pushInput(Uint8Array.of(2), 9)).toThrow(RangeError);
    expect(() => c.pushInput(Uint8Array.of(2), -1)).toThrow(RangeError);
    c.pushInput(Uint8Array.of(2), 10);
  });
});
