/**
 * Prints `N passed, N failed` as the very last line of a vitest run.
 *
 * N counts individual tests. A test file that failed without any failing test in it
 * (import/collection error, or an error in a hook) counts as one failure, so a broken
 * file can never yield "0 failed". Skipped and todo tests are counted in neither.
 */
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from "vitest/node";

export interface RunCounts {
  passed: number;
  failed: number;
}

export function countResults(testModules: ReadonlyArray<TestModule>): RunCounts {
  let passed = 0;
  let failed = 0;
  for (const mod of testModules) {
    let failedInModule = 0;
    for (const test of mod.children.allTests()) {
      const state = test.result().state;
      if (state === "passed") passed++;
      else if (state === "failed") failedInModule++;
    }
    if (failedInModule === 0 && (mod.state() === "failed" || mod.errors().length > 0)) {
      failedInModule = 1;
    }
    failed += failedInModule;
  }
  return { passed, failed };
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    _unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): Promise<void> {
    const { passed, failed } = countResults(testModules);
    // vitest calls onTestRunEnd and the legacy onFinished (where the built-in reporters print
    // their error list and summary) in parallel, onTestRunEnd first: wait a macrotask so ours
    // is written after theirs.
    return new Promise((resolve) => {
      setImmediate(() => {
        process.stdout.write(`${passed} passed, ${failed} failed\n`);
        resolve();
      });
    });
  }
}
