/**
 * fork, exit and waitpid with the real PM (MINIX-SPEC §7.2, §7.3): exit statuses
 * `(status << 8) | sig`, WNOHANG, ECHILD, getpid/getppid, orphans reaped by INIT.
 */
import { describe, expect, test } from "vitest";
import { EAGAIN, ECHILD, EINTR, OK } from "../src/include/errno.ts";
import {
  INIT_PID,
  SIG_BLOCK,
  WEXITSTATUS,
  WIFEXITED,
  WIFSIGNALED,
  WNOHANG,
  WTERMSIG,
} from "../src/include/pm.ts";
import { SIGCHLD, SIGTERM } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import {
  exit,
  fork,
  getpid,
  getppid,
  kill,
  pause,
  sigaction,
  sigmask,
  sigprocmask,
  sigsuspend,
  waitpid,
} from "../src/lib/libc/pm.ts";
import type { Syscall } from "../src/lib/ipc.ts";
import { bootPm, liveNames, runPm } from "./fixtures/pm.ts";

describe("fork / exit / waitpid", () => {
  test("statuses of a normal exit, exit(), a return and a signal; WNOHANG; ECHILD; pids", () => {
    const got: unknown[] = [];
    const child: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      const me = yield* getpid(ctx);
      got.push(me > INIT_PID, yield* getppid(ctx));
      const a = yield* fork(ctx, function* (c) {
        child.push("a", (yield* getppid(c)) === me);
        return 7;
      });
      const b = yield* fork(ctx, function* (c) {
        yield* exit(c, 300); // only the low 8 bits count
        child.push("b not reached");
        return 0;
      });
      const p = yield* fork(ctx, function* (c) {
        yield* pause(c);
        child.push("p not reached");
        return 0;
      });
      got.push(a > 0 && b > 0 && p > 0 && new Set([a, b, p, me]).size === 4);
      // p is still running: WNOHANG answers pid 0.
      got.push(yield* waitpid(ctx, p, WNOHANG));
      const ra = yield* waitpid(ctx, a);
      const rb = yield* waitpid(ctx, b);
      got.push(ra, rb);
      got.push(yield* kill(ctx, p, SIGTERM));
      const rp = yield* waitpid(ctx, -1);
      got.push(rp);
      if (typeof ra !== "number" && typeof rp !== "number" && typeof rb !== "number") {
        got.push(WIFEXITED(ra.status), WEXITSTATUS(ra.status), WEXITSTATUS(rb.status));
        got.push(WIFSIGNALED(rp.status), WTERMSIG(rp.status));
      }
      got.push(yield* waitpid(ctx, -1));
      got.push(yield* waitpid(ctx, 12345, WNOHANG));
      return 3;
    }
    const { m } = bootPm({ main });
    runPm(m);
    expect(got.slice(0, 4)).toEqual([true, INIT_PID, true, { pid: 0, status: 0 }]);
    const ra = got[4] as { pid: number; status: number };
    const rb = got[5] as { pid: number; status: number };
    expect(ra.status).toBe(7 << 8);
    expect(rb.status).toBe((300 & 0xff) << 8);
    expect(got[6]).toBe(OK);
    expect((got[7] as { status: number }).status).toBe(SIGTERM);
    expect(got.slice(8)).toEqual([true, 7, 300 & 0xff, true, SIGTERM, ECHILD, ECHILD]);
    expect(child).toEqual(["a", true]);
    // Everyone but the servers and INIT is gone, and INIT reaped main (status 3).
    expect(liveNames(m)).toEqual(["init", "pm", "vm"].sort());
  });

  test("orphans go to INIT, which reaps them and the programs it started", () => {
    const got: unknown[] = [];
    let grandchild = 0;
    function* main(ctx: ProcessContext): Syscall {
      const c = yield* fork(ctx, function* (cc) {
        grandchild = yield* fork(cc, function* (g) {
          // Wait (bounded) until the parent is gone and INIT adopted this process.
          let ppid = 0;
          for (let i = 0; i < 50 && ppid !== INIT_PID; i++) ppid = yield* getppid(g);
          got.push(["grandchild's parent", ppid]);
          return 4;
        });
        return 5;
      });
      got.push(yield* waitpid(ctx, c));
      return 9;
    }
    const { m, reaped } = bootPm({ main });
    runPm(m);
    expect(got).toEqual([
      { pid: expect.any(Number) as number, status: 5 << 8 },
      ["grandchild's parent", INIT_PID],
    ]);
    expect(liveNames(m)).toEqual(["init", "pm", "vm"].sort());
    // INIT reaped main (status 9) and the orphan (status 4).
    const r = reaped();
    expect(r.map((x) => x.status).sort()).toEqual([4 << 8, 9 << 8]);
    expect(r.map((x) => x.pid)).toContain(grandchild);
  });

  test("a zombie keeps its status until waited for; SIGCHLD reaches a catching parent", () => {
    const got: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      let chld = 0;
      // eslint-disable-next-line require-yield
      yield* sigaction(ctx, SIGCHLD, function* () {
        chld++;
      });
      // Blocked until sigsuspend, so the child's end cannot come before the wait.
      yield* sigprocmask(ctx, SIG_BLOCK, sigmask(SIGCHLD));
      // eslint-disable-next-line require-yield
      const c = yield* fork(ctx, function* () {
        return 42;
      });
      got.push(yield* sigsuspend(ctx, 0), chld);
      got.push(yield* waitpid(ctx, c));
      got.push(yield* waitpid(ctx, c));
      return 0;
    }
    const { m } = bootPm({ main });
    runPm(m);
    expect(got).toEqual([EINTR, 1, { pid: expect.any(Number) as number, status: 42 << 8 }, ECHILD]);
  });

  test("fork: EAGAIN when only the last few slots remain for a user; slots come back after wait", () => {
    const got: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      const pids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const pid = yield* fork(ctx, sleeper);
        got.push(pid > 0 ? "pid" : pid);
        if (pid > 0) pids.push(pid);
      }
      for (const pid of pids) {
        yield* kill(ctx, pid, SIGTERM);
        yield* waitpid(ctx, pid);
      }
      const again = yield* fork(ctx, sleeper);
      got.push(again > 0 ? "pid" : again);
      yield* kill(ctx, again, SIGTERM);
      yield* waitpid(ctx, again);
      return 0;
    }
    // Slots 11..15 are user slots; main takes one, so 4 are free: a user may take 2 of them.
    const { m } = bootPm({ main }, { nrProcs: 16 });
    runPm(m);
    expect(got).toEqual(["pid", "pid", EAGAIN, EAGAIN, EAGAIN, EAGAIN, "pid"]);
  });
});

function* sleeper(ctx: ProcessContext): Syscall {
  for (let i = 0; i < 10; i++) yield* pause(ctx);
  return 0;
}
