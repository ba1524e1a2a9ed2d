import { describe, expect, test } from "vitest";
import {
  ANY,
  CLOCK,
  makeEndpoint,
  NR_BOOT_PROCS,
  RS_PROC_NR,
  SELF,
  type Endpoint,
} from "../../include/endpoint.ts";
import { EBUSY, ECALLDENIED, EFAULT, EINVAL, EPERM, ETRAPDENIED, OK } from "../../include/errno.ts";
import { RECEIVE, SENDREC } from "../../include/ipc.ts";
import {
  KCALL_NR,
  PRIV_ARG,
  SYS_PRIV_ALLOW,
  SYS_PRIV_DISALLOW,
  SYS_PRIV_SET_SYS,
  SYS_PRIV_SET_USER,
} from "../../include/kcall.ts";
import type { Fields } from "../../include/message.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import type { Kernel } from "../kernel.ts";
import {
  DYN_PRIV_ID,
  PREEMPTIBLE,
  staticPrivId,
  SYS_PROC,
  USER_PRIV_ID,
  type Priv,
} from "../priv.ts";
import { RTS_NO_PRIV, RTS_RECEIVING } from "../proc.ts";
import { DEF_SYS_F } from "./do_privctl.ts";
import {
  bootImage,
  bootSettled,
  idler,
  malloc,
  peek,
  poke,
  receive,
  runChecked,
  send,
  sendrec,
  settle,
  sysPrivctl,
  sysSetalarm,
  sysTimes,
  sysWhoami,
  type BootImageEntry,
  type Syscall,
} from "../../../test/system_harness.ts";

const RS = RS_PROC_NR;
const T1 = 12 as Endpoint;
const T2 = 13 as Endpoint;
const P = 14 as Endpoint;

type PrivArg = Fields<typeof PRIV_ARG.fields>;

/**
 * RS (slot 2, every kernel call) running `body`, then staying alive; with `serve` it echoes
 * every request back to its sender.
 */
function rs(body: (ctx: ProcessContext) => Syscall<void>, serve = false): BootImageEntry {
  return {
    name: "rs",
    slot: RS,
    program: function* (ctx) {
      yield* body(ctx);
      const buf = malloc(ctx, 64, 64);
      for (;;) {
        yield* receive(ANY, buf);
        if (!serve) continue;
        // Echo the request back to whoever sent it (the m_source word).
        const src = new DataView((yield* peek(ctx, buf, 4)).buffer).getInt32(0, true);
        yield* send(src as Endpoint, buf);
      }
    },
  };
}

function* writeArg(ctx: ProcessContext, arg: PrivArg): Syscall<VirAddr> {
  const bytes = new Uint8Array(PRIV_ARG.size);
  PRIV_ARG.write(new DataView(bytes.buffer), arg);
  const va = malloc(ctx, PRIV_ARG.size, 4);
  yield* poke(ctx, va, bytes);
  return va;
}

const privOf = (k: Kernel, ep: Endpoint): Priv => k.isokendpt(ep)!.priv!;

describe("SYS_PRIVCTL ALLOW / DISALLOW", () => {
  test("a boot entry with runnable:false waits in NO_PRIV and runs after ALLOW", () => {
    const ran: string[] = [];
    const results: number[] = [];
    const image: BootImageEntry[] = [
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
      }),
      {
        name: "late",
        slot: T1,
        runnable: false,
        program: function* () {
          ran.push("late");
          yield* [];
          return 0;
        },
      },
    ];
    const m = bootImage(image);
    expect(m.snapshot().procs.find((p) => p.slot === T1)?.rts).toBe("NO_PRIV");
    runChecked(m);
    expect(results).toEqual([OK]);
    expect(ran).toEqual(["late"]);
  });

  test("ALLOW on a process without RTS_NO_PRIV is EPERM (SELF too)", () => {
    const results: number[] = [];
    bootSettled([
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
        results.push(yield* sysPrivctl(ctx, SELF, SYS_PRIV_ALLOW));
      }),
      idler("t1", T1),
    ]);
    expect(results).toEqual([EPERM, EPERM]);
  });

  test("DISALLOW stops a process; a second DISALLOW is EPERM; ALLOW restores it", () => {
    const results: number[] = [];
    const flags: number[] = [];

    const m = bootImage([
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_DISALLOW));
        flags.push(m.kernel.isokendpt(T1)!.rtsFlags);
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_DISALLOW));
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
        flags.push(m.kernel.isokendpt(T1)!.rtsFlags);
      }),
      idler("t1", T1),
    ]);
    settle(m);
    expect(results).toEqual([OK, EPERM, OK]);
    expect(flags).toEqual([RTS_RECEIVING | RTS_NO_PRIV, RTS_RECEIVING]);
  });

  test("a disallowed runnable process does not run until allowed again", () => {
    const order: string[] = [];
    bootSettled([
      rs(function* (ctx) {
        yield* sysPrivctl(ctx, T1, SYS_PRIV_DISALLOW);
        order.push("rs: disallowed t1");
        yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW);
        order.push("rs: allowed t1");
      }),
      {
        name: "t1",
        slot: T1, // same queue as rs, behind it
        program: function* () {
          order.push("t1 ran");
          yield* [];
          return 0;
        },
      },
    ]);
    expect(order).toEqual(["rs: disallowed t1", "rs: allowed t1", "t1 ran"]);
  });
});

describe("SYS_PRIVCTL SET_USER / SET_SYS", () => {
  test("SET_USER and SET_SYS need RTS_NO_PRIV", () => {
    const results: number[] = [];
    const m = bootSettled([
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_USER));
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS));
      }),
      idler("t1", T1),
    ]);
    expect(results).toEqual([EPERM, EPERM]);
    expect(privOf(m.kernel, T1).procNr).toBe(T1);
  });

  test("SET_USER gives the shared user structure: after ALLOW no kernel call is allowed", () => {
    const results: number[] = [];
    const t1: unknown[] = [];
    let oldPriv: Priv | undefined;

    const m = bootImage([
      rs(function* (ctx) {
        oldPriv = m.kernel.isokendpt(T1)!.priv!;
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_USER));
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
      }),
      {
        name: "t1",
        slot: T1,
        runnable: false,
        program: function* (ctx) {
          t1.push(yield* sysWhoami(ctx));
          t1.push(yield* receive(ANY, malloc(ctx, 64, 64))); // RECEIVE is not allowed
          return 0;
        },
      },
    ]);
    settle(m);
    expect(results).toEqual([OK, OK]);
    expect(t1).toEqual([ECALLDENIED, ETRAPDENIED]);
    expect(oldPriv!.isFree).toBe(true);
  });

  test("SET_SYS without an argument gives a dynamic id with the DEF_SYS defaults", () => {
    const results: number[] = [];
    const who: unknown[] = [];
    const m = bootSettled([
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS));
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
      }),
      {
        name: "t1",
        slot: T1,
        runnable: false,
        priv: { kcalls: [], traps: ["RECEIVE"] },
        program: function* (ctx) {
          who.push(yield* sysWhoami(ctx));
          who.push((yield* sysTimes(ctx, SELF)).status);
          yield* receive(ANY, malloc(ctx, 64, 64));
          return 0;
        },
      },
      idler("p", P),
    ]);
    expect(results).toEqual([OK, OK]);
    expect(who).toEqual([{ endpoint: T1, name: "t1", privFlags: DEF_SYS_F }, OK]);
    const priv = privOf(m.kernel, T1);
    expect(priv.id).toBeGreaterThanOrEqual(NR_BOOT_PROCS);
    expect(priv.procNr).toBe(T1);
    expect(priv.flags).toBe(SYS_PROC | PREEMPTIBLE | DYN_PRIV_ID);
    expect(priv.trapMask).toBe(0xffffffff);
    expect(priv.sigMgr).toBe(RS);
    for (let n = 0; n < 56; n++) expect(priv.kCallMask.has(n)).toBe(true);
    // May send to every live system process but not to user processes.
    expect(priv.ipcTo.has(privOf(m.kernel, RS).id)).toBe(true);
    expect(priv.ipcTo.has(privOf(m.kernel, P).id)).toBe(true);
    expect(priv.ipcTo.has(USER_PRIV_ID)).toBe(false);
    // Symmetry: they may send back.
    expect(privOf(m.kernel, RS).ipcTo.has(priv.id)).toBe(true);
    expect(privOf(m.kernel, P).ipcTo.has(priv.id)).toBe(true);
  });

  test("SET_SYS with a PRIV_ARG applies its trap, IPC and kernel-call masks", () => {
    const results: number[] = [];
    const t1: unknown[] = [];
    const arg: PrivArg = {
      flags: SYS_PROC | PREEMPTIBLE | DYN_PRIV_ID,
      id: 0,
      trapMask: (1 << SENDREC) | (1 << RECEIVE),
      sigMgr: RS,
      ipcTo: 1 << staticPrivId(RS),
      kCallMask0: 1 << KCALL_NR.SYS_TIMES,
      kCallMask1: 0,
    };
    const m = bootSettled([
      rs(function* (ctx) {
        const va = yield* writeArg(ctx, arg);
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS, va));
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
      }, true),
      {
        name: "t1",
        slot: T1,
        runnable: false,
        program: function* (ctx) {
          const buf = malloc(ctx, 64, 64);
          t1.push((yield* sysTimes(ctx, SELF)).status);
          t1.push(yield* sysWhoami(ctx)); // SYS_GETINFO is not in the mask
          t1.push(yield* send(RS, buf)); // SEND is not in the trap mask
          t1.push(yield* sendrec(P, buf)); // P is not in the IPC mask
          t1.push(yield* sendrec(RS, buf)); // allowed, and RS may answer
          return 0;
        },
      },
      idler("p", P),
    ]);
    expect(results).toEqual([OK, OK]);
    expect(t1).toEqual([OK, ECALLDENIED, ETRAPDENIED, ECALLDENIED, OK]);
    expect(m.kernel.procAddr(T1)!.isFree).toBe(true); // it finished
  });

  test("the send mask is applied symmetrically after SET_SYS", () => {
    let snap: { t1: Priv; t2: Priv; rs: Priv; p: Priv; clock: Priv } | undefined;
    const arg = (ipcTo: number): PrivArg => ({
      flags: SYS_PROC | PREEMPTIBLE | DYN_PRIV_ID,
      id: 0,
      trapMask: 0xffffffff,
      sigMgr: RS,
      ipcTo,
      kCallMask0: 0,
      kCallMask1: 0,
    });

    const m = bootImage([
      rs(function* (ctx) {
        const k = m.kernel;
        const a1 = yield* writeArg(ctx, arg((1 << staticPrivId(RS)) | (1 << staticPrivId(CLOCK))));
        const a2 = yield* writeArg(ctx, arg(0));
        expect(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS, a1)).toBe(OK);
        expect(yield* sysPrivctl(ctx, T2, SYS_PRIV_SET_SYS, a2)).toBe(OK);
        snap = {
          t1: privOf(k, T1),
          t2: privOf(k, T2),
          rs: privOf(k, RS),
          p: privOf(k, P),
          clock: k.procAddr(CLOCK)!.priv!,
        };
      }),
      idler("t1", T1, false),
      idler("t2", T2, false),
      idler("p", P),
    ]);
    settle(m);
    const { t1, t2, rs: r, p, clock } = snap!;
    expect([...t1.ipcTo.members()]).toEqual([clock.id, r.id].sort((a, b) => a - b));
    expect([...t2.ipcTo.members()]).toEqual([]);
    // RS may answer t1 but not t2; p (allowed to send anywhere at boot) loses both.
    expect(r.ipcTo.has(t1.id)).toBe(true);
    expect(r.ipcTo.has(t2.id)).toBe(false);
    expect(p.ipcTo.has(t1.id)).toBe(false);
    expect(p.ipcTo.has(t2.id)).toBe(false);
    // CLOCK only receives: the rule never gives it a send bit.
    expect(clock.ipcTo.has(t1.id)).toBe(false);
    expect(m.kernel.isokendpt(T1)!.rtsFlags).toBe(RTS_NO_PRIV);
  });

  test("SET_SYS with a static id takes it; a used id is EBUSY, a dynamic one EINVAL", () => {
    const results: number[] = [];
    let before: Priv | undefined;

    const arg = (id: number): PrivArg => ({
      flags: SYS_PROC | PREEMPTIBLE,
      id,
      trapMask: 0xffffffff,
      sigMgr: RS,
      ipcTo: 0,
      kCallMask0: 0,
      kCallMask1: 0,
    });
    const m = bootImage([
      rs(function* (ctx) {
        before = m.kernel.isokendpt(T1)!.priv!;
        const ids = [staticPrivId(RS), NR_BOOT_PROCS, staticPrivId(9)];
        for (const [i, id] of ids.entries()) {
          const va = yield* writeArg(ctx, arg(id));
          results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS, va));
          if (i < 2) {
            // A failed SET_SYS leaves the old structure in place.
            results.push(m.kernel.isokendpt(T1)!.priv === before ? 1 : 0);
          }
        }
      }),
      idler("t1", T1, false),
    ]);
    settle(m);
    expect(results).toEqual([EBUSY, 1, EINVAL, 1, OK]);
    const priv = privOf(m.kernel, T1);
    expect(priv.id).toBe(staticPrivId(9));
    expect(priv.flags).toBe(SYS_PROC | PREEMPTIBLE);
    expect(before!.isFree).toBe(true);
  });

  test("an unreadable PRIV_ARG gives EFAULT when there is no VM", () => {
    const results: number[] = [];
    const m = bootSettled([
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS, virAddr(0x10)));
      }),
      idler("t1", T1, false),
    ]);
    expect(results).toEqual([EFAULT]);
    expect(privOf(m.kernel, T1).procNr).toBe(T1);
    expect(m.kernel.isokendpt(T1)!.rtsFlags).toBe(RTS_NO_PRIV);
  });
});

describe("SYS_PRIVCTL and alarms", () => {
  for (const request of [SYS_PRIV_SET_USER, SYS_PRIV_SET_SYS]) {
    test(`${request === SYS_PRIV_SET_SYS ? "SET_SYS" : "SET_USER"} cancels the target's alarm; other alarms still fire`, () => {
      const results: number[] = [];
      const woke: number[] = [];
      const m = bootImage([
        rs(function* (ctx) {
          results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_DISALLOW));
          results.push(yield* sysPrivctl(ctx, T1, request));
        }),
        {
          name: "t1",
          slot: T1,
          priority: 6,
          program: function* (ctx) {
            yield* sysSetalarm(ctx, 5);
            yield* receive(ANY, malloc(ctx, 64, 64));
            return 0;
          },
        },
        {
          name: "p",
          slot: P,
          priority: 6,
          program: function* (ctx) {
            yield* sysSetalarm(ctx, 10);
            yield* receive(CLOCK, malloc(ctx, 64, 64));
            woke.push(m.kernel.ticks);
            return 0;
          },
        },
      ]);
      settle(m);
      expect(results).toEqual([OK, OK]);
      expect(woke).toEqual([10]);
      expect(m.kernel.timers.size).toBe(0);
      expect(m.kernel.isokendpt(T1)!.rtsFlags).toBe(RTS_RECEIVING | RTS_NO_PRIV);
    });
  }
  test("a failed SET_SYS keeps the target's alarm", () => {
    const results: number[] = [];
    const woke: number[] = [];
    const m = bootImage([
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_DISALLOW));
        const va = yield* writeArg(ctx, {
          flags: SYS_PROC | PREEMPTIBLE,
          id: staticPrivId(RS), // taken
          trapMask: 0xffffffff,
          sigMgr: RS,
          ipcTo: 0,
          kCallMask0: 0,
          kCallMask1: 0,
        });
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS, va));
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
      }),
      {
        name: "t1",
        slot: T1,
        priority: 6,
        program: function* (ctx) {
          yield* sysSetalarm(ctx, 5);
          yield* receive(CLOCK, malloc(ctx, 64, 64));
          woke.push(m.kernel.ticks);
          return 0;
        },
      },
    ]);
    settle(m);
    expect(results).toEqual([OK, EBUSY, OK]);
    expect(woke).toEqual([5]);
  });
});

describe("SYS_PRIVCTL checks", () => {
  test("bad targets, kernel tasks and unknown requests are EINVAL", () => {
    const results: number[] = [];
    bootSettled([
      rs(function* (ctx) {
        results.push(yield* sysPrivctl(ctx, makeEndpoint(1, T1), SYS_PRIV_DISALLOW));
        results.push(yield* sysPrivctl(ctx, makeEndpoint(0, 40), SYS_PRIV_DISALLOW));
        results.push(yield* sysPrivctl(ctx, CLOCK, SYS_PRIV_DISALLOW));
        results.push(yield* sysPrivctl(ctx, T1, 99));
      }),
      idler("t1", T1),
    ]);
    expect(results).toEqual([EINVAL, EINVAL, EINVAL, EINVAL]);
  });

  test("a user process cannot make the call; a process without SYS_PROC gets EPERM", () => {
    const results: number[] = [];
    const t1: number[] = [];
    bootSettled([
      rs(function* (ctx) {
        const va = yield* writeArg(ctx, {
          flags: PREEMPTIBLE | DYN_PRIV_ID, // not a system process
          id: 0,
          trapMask: 0xffffffff,
          sigMgr: RS,
          ipcTo: 0,
          kCallMask0: 1 << KCALL_NR.SYS_PRIVCTL,
          kCallMask1: 0,
        });
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_SET_SYS, va));
        results.push(yield* sysPrivctl(ctx, T1, SYS_PRIV_ALLOW));
      }),
      {
        name: "t1",
        slot: T1,
        runnable: false,
        program: function* (ctx) {
          t1.push(yield* sysPrivctl(ctx, T2, SYS_PRIV_ALLOW));
          return 0;
        },
      },
      {
        name: "u",
        slot: T2,
        priv: "user",
        program: function* (ctx) {
          t1.push(yield* sysPrivctl(ctx, SELF, SYS_PRIV_DISALLOW));
          return 0;
        },
      },
    ]);
    expect(results).toEqual([OK, OK]);
    expect(t1).toEqual([ECALLDENIED, EPERM]);
  });
});
