import { describe, expect, test } from "vitest";
import { DS_CALL_NR, DS_RQ_BASE, DS_TYPES, dsCallName, isDsType } from "./ds.ts";

describe("DS protocol table", () => {
  test("isDsType accepts exactly the five types, one bit each", () => {
    for (let t = -1; t <= 0x2000; t++) {
      expect(isDsType(t)).toBe((DS_TYPES as readonly number[]).includes(t));
    }
  });

  test("dsCallName names every call number and nothing else", () => {
    for (const [name, nr] of Object.entries(DS_CALL_NR)) expect(dsCallName(nr)).toBe(name);
    expect(dsCallName(DS_RQ_BASE - 1)).toBeUndefined();
    expect(dsCallName(DS_RQ_BASE + Object.keys(DS_CALL_NR).length)).toBeUndefined();
  });
});
