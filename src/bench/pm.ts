/**
 * `pm.fork_exec_exit_wait`: the whole process life cycle through the real PM. A machine with
 * VM, PM and INIT, whose program `main` loops: fork (PM → VM_FORK: copy-on-write copy, SYS_FORK),
 * the child execs the program `tiny` (PM: lookup, VM_EXEC_NEWMEM of one image page, SYS_EXEC),
 * `tiny` returns at once (the kernel sends PM_EXIT on its behalf; PM: SYS_CLEAR, VM_EXIT, the
 * zombie), and main's waitpid collects the status. One operation is one such cycle, in µs of
 * host time.
 */
import { Machine } from "../boot/machine.ts";
import { initEntry, pmEntry, vmEntry } from "../boot/services.ts";
import { OK } from "../include/errno.ts";
import type { ProcessContext } from "../include/trap.ts";
import type { Syscall } from "../lib/ipc.ts";
import { execve, fork, waitpid } from "../lib/libc/pm.ts";
import type { Workload } from "./measure.ts";
import { countedOps, type Progress } from "./workloads.ts";

export function pmForkExecExitWait(): Workload {
  const state: Progress = { ops: 0, error: OK };
  function* child(ctx: ProcessContext): Syscall {
    return yield* execve(ctx, "tiny", []);
  }
  function* main(ctx: ProcessContext): Syscall {
    for (;;) {
      const pid = yield* fork(ctx, child);
      if (pid < 0) {
        state.error = pid;
        return 1;
      }
      const r = yield* waitpid(ctx, pid);
      if (typeof r === "number" || r.status !== 0) {
        state.error = typeof r === "number" ? r : -r.status;
        return 2;
      }
      state.ops++;
    }
  }
  // eslint-disable-next-line require-yield -- exits at once
  function* tiny(): Syscall {
    return 0;
  }
  const m = Machine.boot({
    memoryBytes: 32 << 20,
    nrProcs: 64,
    image: [vmEntry, pmEntry, initEntry(["main"])],
    programs: { main: { program: main, imagePages: 1 }, tiny: { program: tiny, imagePages: 1 } },
  });
  // 39 kernel steps per cycle.
  return countedOps("pm.fork_exec_exit_wait", "µs", m, state, 40);
}
