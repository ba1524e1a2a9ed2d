import { describe, expect, test } from "vitest";
import { DS_TYPES, isDsType } from "./ds.ts";

describe("DS protocol table", () => {
  test("isDsType accepts exactly the five types, one bit each", () => {
    for (let t = -1; t <= 0x2000; t++) {
      expect(isDsType(t)).toBe((DS_TYPES as readonly number[]).includes(t));
    }
  });
});
