import { defineConfig } from "vitest/config";

const summary = "./test/summary-reporter.ts";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    reporters: process.env.CI ? ["dot", summary] : ["default", summary],
  },
});
