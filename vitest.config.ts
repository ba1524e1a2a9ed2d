import { defineConfig } from "vitest/config";

const summary = "./test/summary-reporter.ts";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Whole-system scenarios and property tests boot many machines; on a loaded two-core CI
    // runner they take seconds. Time is never asserted here (that is `npm run bench`).
    testTimeout: 60_000,
    reporters: process.env.CI ? ["dot", summary] : ["default", summary],
  },
});
