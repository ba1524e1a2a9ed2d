/**
 * PM in the whole system booted through RS (seed 002): PM starts through SEF, its boot
 * process tree (MINIX-SPEC §7.1: INIT pid 1 its own parent, RS under INIT, the other services
 * under RS, pids from 3 on), and a fork/exec/exit/wait cycle of INIT's program.
 */
import { describe, expect, test } from "vitest";
import { Machine } from "../src/boot/machine.ts";
import { initEntry, pmEntry, rsEntry, vmEntry } from "../src/boot/services.ts";
import { INIT_PROC_NR, PM_PROC_NR, RS_PROC_NR, VM_PROC_NR } from "../src/include/endpoint.ts";
import { INIT_PID } from "../src/include/pm.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { execve, fork, getpid, getppid, waitpid } from "../src/lib/libc/pm.ts";
import { getEpinfo } from "../src/lib/libsys/srv.ts";

describe("PM booted through RS", () => {
  test("the boot process tree and a fork/exec/exit/wait cycle", () => {
    const got: unknown[] = [];
    const tree: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      for (const ep of [INIT_PROC_NR, PM_PROC_NR, RS_PROC_NR, VM_PROC_NR]) {
        tree.push(yield* getEpinfo(ctx, ep));
      }
      got.push(yield* getppid(ctx), (yield* getpid(ctx)) > 5);
      const pid = yield* fork(ctx, function* (c) {
        return yield* execve(c, "tiny", ["q"]);
      });
      got.push(yield* waitpid(ctx, pid));
      return 0;
    }
    // eslint-disable-next-line require-yield
    function* tiny(ctx: ProcessContext): Syscall {
      got.push([...ctx.argv]);
      return 4;
    }
    const m = Machine.boot({
      memoryBytes: 16 << 20,
      nrProcs: 64,
      image: [rsEntry, vmEntry, pmEntry, initEntry(["main"])],
      programs: { main: { program: main, imagePages: 1 }, tiny: { program: tiny, imagePages: 1 } },
    });
    let i = 0;
    for (; i < 200_000 && m.step(); i++) m.check();
    expect(i).toBeLessThan(200_000);
    expect(m.halted).toBeNull();
    const pids = tree.map((t) => (t as { pid: number }).pid);
    const ppids = tree.map((t) => (t as { ppid: number }).ppid);
    expect(pids[0]).toBe(INIT_PID);
    expect(new Set(pids.slice(1))).toEqual(new Set([3, 4, 5]));
    const rsPid = pids[2];
    // INIT is its own parent, RS's parent is INIT, PM's and VM's parent is RS.
    expect(ppids).toEqual([INIT_PID, rsPid, INIT_PID, rsPid]);
    expect(got).toEqual([
      INIT_PID,
      true,
      ["q"],
      { pid: expect.any(Number) as number, status: 4 << 8 },
    ]);
    const live = m.snapshot().procs.filter((p) => p.slot >= 0);
    expect(live.map((p) => `${p.name} ${p.rts}`).sort()).toEqual([
      "init RECEIVING",
      "pm RECEIVING",
      "rs RECEIVING",
      "vm RECEIVING",
    ]);
  });
});
