import { describe, expect, it } from "vitest";
import {
  figuresJson,
  formatTable,
  median,
  roundSig,
  toFigure,
  type Measurement,
} from "./format.ts";

const pingpong: Measurement = {
  name: "host.generator_pingpong",
  unit: "ns",
  samples: [40, 42, 41],
  baseline: null,
};
const sendrec: Measurement = {
  name: "ipc.sendrec_roundtrip",
  unit: "ns",
  samples: [410, 420, 400, 412.4, 500],
  baseline: { name: "host.generator_pingpong", samples: [80, 85, 90, 84.2, 70] },
};

describe("median", () => {
  it("takes the middle of an odd count, unsorted input untouched", () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
  });
  it("averages the two middle values of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it("sorts numerically, not as strings", () => {
    expect(median([100, 9, 20])).toBe(20);
  });
  it("rejects no samples", () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe("roundSig", () => {
  it("keeps three significant digits", () => {
    expect(roundSig(412.4, 3)).toBe(412);
    expect(roundSig(35.847, 3)).toBe(35.8);
    expect(roundSig(5.3149, 3)).toBe(5.31);
    expect(roundSig(0.012345, 3)).toBe(0.0123);
  });
  it("never drops integer digits", () => {
    expect(roundSig(123456.7, 3)).toBe(123457);
  });
  it("passes 0 through", () => {
    expect(roundSig(0, 3)).toBe(0);
  });
});

describe("toFigure", () => {
  it("has no baseline and no ratio without a lower bound", () => {
    expect(toFigure(pingpong)).toEqual({
      name: "host.generator_pingpong",
      value: 41,
      unit: "ns",
      baseline: null,
      ratio: null,
    });
  });
  it("divides the medians of the figure and of the samples taken beside it", () => {
    const f = toFigure(sendrec);
    expect(f.value).toBe(412);
    expect(f.baseline).toBe("host.generator_pingpong");
    expect(f.ratio).toBe(4.9); // 412.4 / 84.2 = 4.898
  });
});

describe("units", () => {
  it("keeps two significant digits of a small ratio", () => {
    const small: Measurement = {
      name: "grant.safecopy_64B",
      unit: "MB/s",
      samples: [47],
      baseline: { name: "host.copywithin_64KiB", samples: [33663] },
    };
    expect(toFigure(small).ratio).toBe(0.0014);
    expect(formatTable([small])).toContain(" 0.0014");
  });
  it("publishes MB/s figures as throughputs: the ratio is the fraction of the bound reached", () => {
    const copy: Measurement = {
      name: "grant.safecopy_64KiB",
      unit: "MB/s",
      samples: [20000, 25000, 30000],
      baseline: { name: "host.copywithin_64KiB", samples: [50000, 48000, 52000] },
    };
    expect(toFigure(copy)).toEqual({
      name: "grant.safecopy_64KiB",
      value: 25000,
      unit: "MB/s",
      baseline: "host.copywithin_64KiB",
      ratio: 0.5,
    });
  });
  it("publishes µs figures with their unit", () => {
    const fork: Measurement = {
      name: "vm.fork_exit",
      unit: "µs",
      samples: [164.2, 163.1, 168],
      baseline: null,
    };
    expect(figuresJson([toFigure(fork)])).toBe(
      '{"figures":[{"name":"vm.fork_exit","value":164,"unit":"µs","baseline":null,"ratio":null}]}',
    );
    expect(formatTable([fork]).split("\n")[2]).toMatch(/^vm\.fork_exit\s+164 µs\s+163\.\.168\s+3/);
  });
});

describe("figuresJson", () => {
  it("is one line in the published shape and key order", () => {
    const line = figuresJson([toFigure(pingpong), toFigure(sendrec)]);
    expect(line).not.toContain("\n");
    expect(line).toBe(
      '{"figures":[' +
        '{"name":"host.generator_pingpong","value":41,"unit":"ns","baseline":null,"ratio":null},' +
        '{"name":"ipc.sendrec_roundtrip","value":412,"unit":"ns","baseline":"host.generator_pingpong","ratio":4.9}' +
        "]}",
    );
  });
});

describe("formatTable", () => {
  it("prints a header, a rule and one aligned row per figure", () => {
    const lines = formatTable([pingpong, sendrec]).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^figure\s+median\s+min\.\.max\s+n\s+lower bound \(beside\)\s+ratio$/);
    expect(lines[2]).toMatch(/^host\.generator_pingpong\s+41 ns\s+40\.\.42\s+3\s+-\s+-$/);
    expect(lines[3]).toContain("412 ns");
    expect(lines[3]).toContain("400..500");
    expect(lines[3]).toContain("host.generator_pingpong 84.2 ns");
    expect(lines[3]).toMatch(/4\.90$/);
    // The median column is right-aligned: both values end at the same column.
    expect(lines[2]!.indexOf("41 ns") + 5).toBe(lines[3]!.indexOf("412 ns") + 6);
  });
});
