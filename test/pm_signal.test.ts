/**
 * Signals with the real PM (MINIX-SPEC §7.4): default actions (terminate, ignore), SIG_IGN,
 * handlers run before the interrupted call returns, masks and pending signals, SIGKILL,
 * kernel-raised signals (a crash is SIGILL, a bad access SIGSEGV), kill permissions, and a
 * system process asking PM to exit.
 */
import { describe, expect, test } from "vitest";
import { ANY, type Endpoint } from "../src/include/endpoint.ts";
import { Message } from "../src/include/message.ts";
import { EINTR, EINVAL, EPERM, ESRCH, OK } from "../src/include/errno.ts";
import {
  SIG_BLOCK,
  SIG_CATCH,
  SIG_DFL,
  SIG_SETMASK,
  SIG_UNBLOCK,
  WNOHANG,
} from "../src/include/pm.ts";
import {
  SIGCHLD,
  SIGILL,
  SIGKILL,
  SIGSEGV,
  SIGTERM,
  SIGUSR1,
  SIGUSR2,
} from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr, type VirAddr } from "../src/include/types.ts";
import { receive, send, sendrec, type Syscall } from "../src/lib/ipc.ts";
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
import { getEpinfo } from "../src/lib/libsys/srv.ts";
import { load, store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { bootPm, liveNames, runPm } from "./fixtures/pm.ts";

/** The sender of the message at `buf`. */
function* sourceOf(ctx: ProcessContext, buf: VirAddr): Syscall<Endpoint> {
  const m = new Message();
  yield* load(ctx, buf, m.bytes);
  return m.source;
}

/** A child that waits in pause (at most a few times; its end comes from a signal). */
function* sleeper(ctx: ProcessContext): Syscall {
  for (let i = 0; i < 10; i++) yield* pause(ctx);
  return 99;
}

function* nothing(): Syscall<void> {}

/**
 * Forks a child that runs `setup`, tells the parent it is ready (SIGUSR1, which the parent
 * keeps blocked except in sigsuspend) and then runs `body`. Returns its pid.
 */
function* spawnReady(
  ctx: ProcessContext,
  setup: (c: ProcessContext) => Syscall<void>,
  body: (c: ProcessContext) => Syscall = sleeper,
): Syscall {
  yield* sigaction(ctx, SIGUSR1, nothing);
  yield* sigprocmask(ctx, SIG_BLOCK, sigmask(SIGUSR1));
  const pid = yield* fork(ctx, function* (c) {
    yield* sigaction(c, SIGUSR1, "default");
    yield* setup(c);
    const parent = yield* getppid(c);
    yield* kill(c, parent, SIGUSR1);
    return yield* body(c);
  });
  yield* sigsuspend(ctx, 0);
  yield* sigprocmask(ctx, SIG_SETMASK, sigmask(SIGUSR1));
  return pid;
}

/** Signals `pid` with each of `sigs` and returns its wait status. */
function* killAndWait(ctx: ProcessContext, pid: number, ...sigs: number[]): Syscall {
  for (const s of sigs) yield* kill(ctx, pid, s);
  const r = yield* waitpid(ctx, pid);
  return typeof r === "number" ? r : r.status;
}

describe("signals: default actions and SIG_IGN", () => {
  test("termination statuses, SIGCHLD ignored by default, SIG_IGN, SIGKILL", () => {
    const got: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      got.push(yield* killAndWait(ctx, yield* spawnReady(ctx, nothing), SIGTERM));
      got.push(yield* killAndWait(ctx, yield* spawnReady(ctx, nothing), SIGUSR2));
      // SIGCHLD is ignored by default, SIGUSR2 when SIG_IGN: only SIGKILL ends the child.
      const pid = yield* spawnReady(ctx, function* (c) {
        yield* sigaction(c, SIGUSR2, "ignore");
      });
      got.push(yield* kill(ctx, pid, SIGCHLD), yield* kill(ctx, pid, SIGUSR2));
      got.push(yield* waitpid(ctx, pid, WNOHANG));
      got.push(yield* kill(ctx, pid, 0));
      got.push(yield* killAndWait(ctx, pid, SIGKILL));
      got.push(yield* kill(ctx, pid, 0));
      // Bad requests.
      got.push(yield* sigaction(ctx, SIGKILL, "ignore"));
      got.push(yield* sigaction(ctx, 0, "ignore"));
      got.push(yield* sigaction(ctx, 32, "default"));
      got.push(yield* kill(ctx, 1 << 20, SIGTERM));
      got.push(yield* kill(ctx, 1, 99));
      got.push(yield* sigprocmask(ctx, 7, 0));
      return 0;
    }
    const { m } = bootPm({ main });
    runPm(m);
    expect(got).toEqual([
      SIGTERM,
      SIGUSR2,
      OK,
      OK,
      { pid: 0, status: 0 },
      OK,
      SIGKILL,
      ESRCH,
      EINVAL,
      EINVAL,
      EINVAL,
      ESRCH,
      EINVAL,
      EINVAL,
    ]);
    expect(liveNames(m)).toEqual(["init", "pm", "vm"]);
  });

  test("kernel signals: a crash ends with SIGILL, a bad access with SIGSEGV; neither can be ignored", () => {
    const got: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      for (const crash of [
        // eslint-disable-next-line require-yield
        function* (): Syscall {
          throw new Error("illegal instruction");
        },
        function* (c: ProcessContext): Syscall {
          yield* sigaction(c, SIGSEGV, "ignore");
          yield* store(c, virAddr(0x10), Uint8Array.of(1)); // nothing is mapped there
          return 0;
        },
      ]) {
        const pid = yield* fork(ctx, crash);
        const r = yield* waitpid(ctx, pid);
        got.push(typeof r === "number" ? r : r.status);
      }
      return 0;
    }
    const { m } = bootPm({ main });
    runPm(m);
    expect(got).toEqual([SIGILL, SIGSEGV]);
  });
});

describe("signals: handlers", () => {
  test("a handler runs before the interrupted call returns; it may make calls itself", () => {
    const log: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      const me = yield* getpid(ctx);
      yield* sigaction(ctx, SIGUSR1, function* (c, sig) {
        log.push(["handler", sig, (yield* getpid(c)) === me]);
      });
      // Signalling oneself: the handler runs before kill returns.
      log.push(["kill", yield* kill(ctx, me, SIGUSR1)]);
      // Blocked: pending until unblocked, then delivered before sigprocmask returns.
      yield* sigprocmask(ctx, SIG_BLOCK, sigmask(SIGUSR1));
      log.push(["kill blocked", yield* kill(ctx, me, SIGUSR1)]);
      log.push(["unblock", yield* sigprocmask(ctx, SIG_UNBLOCK, sigmask(SIGUSR1))]);
      // A child interrupts main's pause: pause returns EINTR after the handler.
      yield* fork(ctx, function* (c) {
        yield* kill(c, yield* getppid(c), SIGUSR1);
        return 0;
      });
      log.push(["pause", yield* pause(ctx)]);
      log.push(["old action", yield* sigaction(ctx, SIGUSR1, "default")]);
      return 0;
    }
    const { m } = bootPm({ main });
    runPm(m);
    expect(log).toEqual([
      ["handler", SIGUSR1, true],
      ["kill", OK],
      ["kill blocked", OK],
      ["handler", SIGUSR1, true],
      ["unblock", sigmask(SIGUSR1)],
      ["handler", SIGUSR1, true],
      ["pause", EINTR],
      ["old action", SIG_CATCH],
    ]);
  });

  test("handlers are inherited by fork; the handler's mask holds while it runs", () => {
    const log: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      yield* sigaction(
        ctx,
        SIGUSR2,
        function* (c) {
          log.push("usr2 in");
          // SIGUSR1 is in the handler's mask: it stays pending until the handler is done.
          yield* kill(c, yield* getpid(c), SIGUSR1);
          log.push("usr2 out");
        },
        sigmask(SIGUSR1),
      );
      yield* sigaction(ctx, SIGUSR1, function* (c) {
        log.push("usr1");
        yield* getpid(c);
      });
      const pid = yield* fork(ctx, function* (c) {
        yield* kill(c, yield* getpid(c), SIGUSR2);
        return 3;
      });
      const r = yield* waitpid(ctx, pid);
      log.push(r);
      return 0;
    }
    const { m } = bootPm({ main });
    runPm(m);
    expect(log).toEqual([
      "usr2 in",
      "usr2 out",
      "usr1",
      { pid: expect.any(Number) as number, status: 3 << 8 },
    ]);
  });
});

describe("signals: permissions and system processes", () => {
  test("users cannot signal system processes; a system process calling exit is killed via the kernel", () => {
    const got: unknown[] = [];
    const sysGot: unknown[] = [];
    function* main(ctx: ProcessContext): Syscall {
      const sys = yield* getEpinfo(ctx, 11 as Endpoint);
      got.push(typeof sys === "number" ? sys : "found");
      if (typeof sys !== "number") {
        got.push(yield* kill(ctx, sys.pid, SIGTERM));
        got.push(yield* kill(ctx, sys.pid, 0));
      }
      // Tell sysproc to go on (it answers, then asks PM to exit).
      got.push(yield* sendrec(11 as Endpoint, malloc(ctx, 64, 64)));
      return 0;
    }
    const { m, ev } = bootPm(
      { main },
      {
        extra: [
          {
            name: "sysproc",
            slot: 11,
            priority: 9,
            program: function* (ctx) {
              sysGot.push(yield* sigaction(ctx, SIGUSR1, nothing));
              sysGot.push(yield* sigaction(ctx, SIGUSR1, "ignore"));
              const buf = malloc(ctx, 64, 64);
              yield* receive(ANY, buf); // until main is done
              yield* send(yield* sourceOf(ctx, buf), buf);
              yield* exit(ctx, 0);
              sysGot.push("not reached");
              return 0;
            },
          },
        ],
      },
    );
    runPm(m);
    expect(got).toEqual(["found", EPERM, EPERM, OK]);
    expect(sysGot).toEqual([EPERM, SIG_DFL]);
    // Without a signal manager (no RS here) the kernel ends it.
    expect(
      ev.some((e) => e.kind === "exit" && e.ep === 11 && e.reason === `signal ${SIGKILL}`),
    ).toBe(true);
  });

  test("PM re-routes a signal for a system process through the kernel (its manager decides)", () => {
    const got: unknown[] = [];
    const { m, ev } = bootPm(
      {
        // eslint-disable-next-line require-yield
        main: function* () {
          return 0;
        },
      },
      {
        extra: [
          {
            name: "killer",
            slot: 11,
            priority: 9,
            program: function* (ctx) {
              const victim = yield* getEpinfo(ctx, 12 as Endpoint);
              if (typeof victim !== "number") got.push(yield* kill(ctx, victim.pid, SIGTERM));
              return 0;
            },
          },
          {
            name: "victim",
            slot: 12,
            priority: 9,
            program: function* (ctx) {
              yield* receive(ANY, malloc(ctx, 64, 64));
              return 0;
            },
          },
        ],
      },
    );
    runPm(m);
    expect(got).toEqual([OK]);
    // No RS in this image: the kernel applies the default action (it ends the process).
    expect(
      ev.some((e) => e.kind === "exit" && e.ep === 12 && e.reason === `signal ${SIGTERM}`),
    ).toBe(true);
  });
});
