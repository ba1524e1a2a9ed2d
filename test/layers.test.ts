import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  checkDeterminism,
  checkLayers,
  formatViolation,
  readSourceFiles,
  type SourceFile,
} from "./layers.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const files = readSourceFiles(root, ["src", "web"]);

describe("repository", () => {
  test("imports respect the layers", () => {
    expect(checkLayers(files).map(formatViolation)).toEqual([]);
  });

  test("simulator code is deterministic", () => {
    expect(checkDeterminism(files).map(formatViolation)).toEqual([]);
  });
});

describe("layer checker", () => {
  const file = (path: string, text: string): SourceFile => ({ path, text });

  test("reports imports that break the layers", () => {
    const synthetic = [
      file(
        "src/lib/x.ts",
        'import { a } from "./ok.ts";\nimport { proc } from "../kernel/proc.ts";\n',
      ),
      file("src/servers/pm/a.ts", 'import type { V } from "../vm/vm.ts";\nimport "./b.ts";\n'),
      file(
        "src/kernel/k.ts",
        'export * from "../servers/pm/a.ts";\nconst m = import("../lib/x.ts");\n',
      ),
      file("src/include/i.ts", 'type T = import("../hw/cpu.ts").Cpu;\n'),
      file("src/hw/h.ts", 'import { readFileSync } from "node:fs";\nimport path from "path";\n'),
      file(
        "src/cli/main.ts",
        'import "../kernel/k.ts";\nimport "node:fs";\nimport "../boot/boot.ts";\n',
      ),
      file("web/app.ts", 'import "../src/boot/boot.ts";\nimport "../src/lib/x.ts";\n'),
      file("src/servers/stray.ts", ""),
      file("src/misc/z.ts", ""),
    ];
    expect(checkLayers(synthetic).map(formatViolation)).toEqual([
      "src/lib/x.ts:2: imports '../kernel/proc.ts' (src/kernel/proc.ts): src/lib may only import src/include, src/lib",
      "src/servers/pm/a.ts:1: imports '../vm/vm.ts' (src/servers/vm/vm.ts): src/servers/pm may only import src/include, src/lib, src/servers/pm",
      "src/kernel/k.ts:1: imports '../servers/pm/a.ts' (src/servers/pm/a.ts): src/kernel may only import src/hw, src/include, src/kernel",
      "src/kernel/k.ts:2: imports '../lib/x.ts' (src/lib/x.ts): src/kernel may only import src/hw, src/include, src/kernel",
      "src/include/i.ts:1: imports '../hw/cpu.ts' (src/hw/cpu.ts): src/include may only import src/include",
      "src/hw/h.ts:1: imports 'node:fs': src/hw must run in a browser, no Node built-ins",
      "src/hw/h.ts:2: imports 'path': src/hw must run in a browser, no Node built-ins",
      "src/cli/main.ts:1: imports '../kernel/k.ts' (src/kernel/k.ts): src/cli may only import src/boot, src/cli, src/include",
      "web/app.ts:2: imports '../src/lib/x.ts' (src/lib/x.ts): web may only import src/boot, web",
      "src/servers/stray.ts:1: files under src/servers must live in a src/servers/<name>/ folder",
      'src/misc/z.ts:1: "src/misc/z.ts" is in no known layer (add it to test/layers.ts)',
    ]);
  });

  test("ignores comments and strings, accepts allowed imports", () => {
    const synthetic = [
      file(
        "src/lib/y.ts",
        '// import { p } from "../kernel/proc.ts";\nconst s = "import x from \'../hw/cpu.ts\'";\nimport "vitest";\n',
      ),
      file("src/boot/boot.ts", 'import "../kernel/k.ts";\nimport "node:fs";\n'),
      file("src/kernel/k.test.ts", 'import "node:fs";\nimport "../../test/layers.ts";\n'),
    ];
    expect(checkLayers(synthetic)).toEqual([]);
  });

  test("reports nondeterminism outside cli, bench and tests", () => {
    const text = [
      "const a = Date.now();",
      "const b = performance.now() + Math.random();",
      "setTimeout(() => {}, 1);",
      "const c = new Date(0);",
      "const d = process.hrtime.bigint();",
      "// Date.now() in a comment, and a method named setInterval are fine:",
      "const o = { setInterval() {} }; o.setInterval();",
    ].join("\n");
    const synthetic = [
      file("src/kernel/clock.ts", text),
      file("src/cli/main.ts", text),
      file("src/bench/main.ts", text),
      file("src/kernel/clock.test.ts", text),
    ];
    expect(checkDeterminism(synthetic).map(formatViolation)).toEqual([
      "src/kernel/clock.ts:1: Date.now (nondeterministic: use the simulated clock / seeded PRNG)",
      "src/kernel/clock.ts:2: performance.now (nondeterministic: use the simulated clock / seeded PRNG)",
      "src/kernel/clock.ts:2: Math.random (nondeterministic: use the simulated clock / seeded PRNG)",
      "src/kernel/clock.ts:3: setTimeout (nondeterministic: use the simulated clock / seeded PRNG)",
      "src/kernel/clock.ts:4: new Date(...) (nondeterministic: use the simulated clock / seeded PRNG)",
      "src/kernel/clock.ts:5: process.hrtime (nondeterministic: use the simulated clock / seeded PRNG)",
    ]);
  });
});
