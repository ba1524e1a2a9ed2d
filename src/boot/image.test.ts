import { describe, expect, test } from "vitest";
import {
  CLOCK,
  INIT_PROC_NR,
  LAST_SPECIAL_PROC_NR,
  NONE,
  RS_PROC_NR,
  SYSTEM,
  type Endpoint,
} from "../include/endpoint.ts";
import { ECALLDENIED, ETRAPDENIED, OK } from "../include/errno.ts";
import { NOTIFY, RECEIVE, SEND, SENDA, SENDNB, SENDREC } from "../include/ipc.ts";
import { KCALL_NR, type KcallNrName } from "../include/kcall.ts";
import { RS_MAX_LABEL_LEN, SF_NEED_COPY, SF_USE_COPY } from "../include/rs.ts";
import type { ProcessContext } from "../include/trap.ts";
import { notify, receive, send, sendrec, type Syscall } from "../lib/ipc.ts";
import { sysDiagctl, sysTimes } from "../lib/libsys/sys_misc.ts";
import { malloc } from "../lib/runtime.ts";
import { PREEMPTIBLE, SYS_PROC, USER_PRIV_ID, staticPrivId } from "../kernel/priv.ts";
import { USER_Q } from "../kernel/sched.ts";
import type { Priv } from "../kernel/priv.ts";
import { resolveImage, type BootImageEntry } from "./image.ts";
import { Machine } from "./machine.ts";

function* idle(_ctx: ProcessContext): Syscall {
  yield* [];
  return 0;
}

/** A name the type system would reject, as a caller without types could pass it. */
function unknownName<T extends string>(name: string): T {
  return name as T;
}

const entry = (name: string, extra: Partial<BootImageEntry> = {}): BootImageEntry => ({
  name,
  program: idle,
  ...extra,
});

const ALL_TRAPS =
  (1 << SEND) | (1 << RECEIVE) | (1 << SENDREC) | (1 << NOTIFY) | (1 << SENDNB) | (1 << SENDA);

describe("resolveImage: slots", () => {
  test("default slots start after the fixed MINIX boot slots, in image order", () => {
    const r = resolveImage([entry("a"), entry("b"), entry("c")], 256, 8);
    expect(r.map((x) => x.slot)).toEqual([11, 12, 13]);
    expect(LAST_SPECIAL_PROC_NR + 1).toBe(11);
  });

  test("explicit slots are kept and default slots skip them, even later ones", () => {
    const r = resolveImage(
      [entry("a"), entry("b", { slot: 12 }), entry("c"), entry("d", { slot: 0 }), entry("e")],
      256,
      8,
    );
    expect(r.map((x) => [x.entry.name, x.slot])).toEqual([
      ["a", 11],
      ["b", 12],
      ["c", 13],
      ["d", 0],
      ["e", 14],
    ]);
  });

  test("the last slot is usable; default slots running past the table are rejected", () => {
    expect(resolveImage([entry("a", { slot: 15 })], 16, 8)[0]!.slot).toBe(15);
    const five = ["a", "b", "c", "d", "e"].map((n) => entry(n));
    expect(resolveImage(five, 16, 8).map((x) => x.slot)).toEqual([11, 12, 13, 14, 15]);
    expect(() => resolveImage([...five, entry("f")], 16, 8)).toThrow(
      /image\[5\]: f: slot 16 out of range/,
    );
  });

  test("defaults for priority, quantum and data pages", () => {
    const [a, b] = resolveImage(
      [entry("a"), entry("b", { priority: 0, quantum: 3, dataPages: 2 })],
      256,
      5,
    );
    expect(a).toMatchObject({ priority: USER_Q, quantum: 5, dataPages: 16 });
    expect(b).toMatchObject({ priority: 0, quantum: 3, dataPages: 2 });
  });
});

describe("resolveImage: RS's boot services", () => {
  test("defaults: PROC_FULLVM, RS keeps a copy, no heartbeat", () => {
    const [a] = resolveImage([entry("a")], 256, 8);
    expect(a).toMatchObject({ fullvm: true, sysFlags: SF_NEED_COPY | SF_USE_COPY, period: 0 });
    const [b] = resolveImage([entry("b", { fullvm: false, sysFlags: 0, period: 60 })], 256, 8);
    expect(b).toMatchObject({ fullvm: false, sysFlags: 0, period: 60 });
  });

  test.each<[string, Partial<BootImageEntry>, string]>([
    ["RS outside RS's slot", { rs: true, slot: 11 }, `a: RS must be in slot ${RS_PROC_NR}`],
    ["sys flags beyond SF_*", { sysFlags: 0x10 }, "a: sysFlags must be a combination"],
    ["a negative period", { period: -1 }, "a: period must be an integer"],
    ["a fractional period", { period: 1.5 }, "a: period must be an integer"],
  ])("%s is rejected", (_what, extra, message) => {
    expect(() => resolveImage([entry("a", extra)], 256, 8)).toThrow(message);
  });

  test("a name must fit RS's label", () => {
    const longest = "x".repeat(RS_MAX_LABEL_LEN - 1);
    expect(resolveImage([entry(longest)], 256, 8)[0]!.entry.name).toBe(longest);
    expect(() => resolveImage([entry(`${longest}x`)], 256, 8)).toThrow(
      `name longer than ${RS_MAX_LABEL_LEN - 1} bytes`,
    );
  });
});

describe("resolveImage: privileges", () => {
  test("no priv: a system process that may use everything", () => {
    const [a] = resolveImage([entry("a")], 256, 8);
    expect(a!.priv).toEqual({
      flags: SYS_PROC | PREEMPTIBLE,
      trapMask: ALL_TRAPS,
      ipcTo: "all",
      kcalls: "all",
      sigMgr: NONE,
    });
  });

  test('"user" shares the user privileges', () => {
    expect(resolveImage([entry("u", { priv: "user" })], 256, 8)[0]!.priv).toBe("user");
  });

  test("names resolve to slots and call numbers, including later entries", () => {
    const r = resolveImage(
      [
        entry("a", {
          priv: {
            traps: ["SEND", "RECEIVE"],
            ipcTo: ["c", "b"],
            kcalls: ["SYS_TIMES", "SYS_DIAGCTL"],
            sigMgr: 12 as Endpoint,
          },
        }),
        entry("b", { slot: 40 }),
        entry("c", { priv: { traps: [], ipcTo: [], kcalls: [] } }),
      ],
      256,
      8,
    );
    expect(r[0]!.priv).toEqual({
      flags: SYS_PROC | PREEMPTIBLE,
      trapMask: (1 << SEND) | (1 << RECEIVE),
      ipcTo: [12, 40],
      kcalls: [KCALL_NR.SYS_TIMES, KCALL_NR.SYS_DIAGCTL],
      sigMgr: 12,
    });
    expect(r[2]!.priv).toMatchObject({ trapMask: 0, ipcTo: [], kcalls: [] });
  });

  test("errors name the entry and the bad name", () => {
    expect(() => resolveImage([entry("a", { priv: { ipcTo: ["a", "zz"] } })], 256, 8)).toThrow(
      "Invalid boot option image[0]: a: unknown IPC target zz",
    );
    expect(() =>
      resolveImage(
        [entry("a"), entry("b", { priv: { kcalls: [unknownName<KcallNrName>("SYS_X")] } })],
        256,
        8,
      ),
    ).toThrow("Invalid boot option image[1]: b: unknown kernel call SYS_X");
  });
});

describe("privileges in the booted kernel", () => {
  function boot(image: BootImageEntry[]): Machine {
    return Machine.boot({ memoryBytes: 4 << 20, image });
  }
  const privOf = (m: Machine, slot: number): Priv => m.kernel.procAddr(slot)!.priv!;

  test("system processes own a structure; slots below INIT use the static ids", () => {
    const m = boot([entry("low", { slot: 3 }), entry("a"), entry("b")]);
    expect(privOf(m, 3).id).toBe(staticPrivId(3));
    expect(privOf(m, 11).id).not.toBe(privOf(m, 12).id);
    for (const slot of [3, 11, 12]) {
      const p = privOf(m, slot);
      expect(p.procNr).toBe(slot);
      expect(p.flags).toBe(SYS_PROC | PREEMPTIBLE);
      expect(p.trapMask).toBe(ALL_TRAPS);
      expect(p.kCallMask.has(KCALL_NR.SYS_DIAGCTL)).toBe(true);
    }
  });

  test("user processes share INIT's structure", () => {
    const m = boot([entry("u1", { priv: "user" }), entry("u2", { priv: "user" })]);
    expect(privOf(m, 11)).toBe(privOf(m, 12));
    expect(privOf(m, 11).id).toBe(USER_PRIV_ID);
    expect(privOf(m, 11).procNr).toBe(INIT_PROC_NR);
    expect(privOf(m, 11).trapMask).toBe(1 << SENDREC);
    expect(privOf(m, 11).kCallMask.isEmpty()).toBe(true);
  });

  test('ipcTo "all" reaches every boot process and CLOCK/SYSTEM; a list reaches only those', () => {
    const m = boot([
      entry("all"),
      entry("some", { priv: { ipcTo: ["all"] } }),
      entry("none", { priv: { ipcTo: [] } }),
      entry("u", { priv: "user" }),
    ]);
    const [all, some, none, user] = [11, 12, 13, 14].map((s) => privOf(m, s));
    const clock = m.kernel.procAddr(CLOCK)!.priv!;
    const system = m.kernel.procAddr(SYSTEM)!.priv!;
    for (const p of [some!, none!, user!]) expect(all!.ipcTo.has(p.id)).toBe(true);
    expect(all!.ipcTo.has(all!.id)).toBe(false);
    expect(all!.ipcTo.has(clock.id)).toBe(true);
    expect(all!.ipcTo.has(system.id)).toBe(true);
    expect(some!.ipcTo.has(all!.id)).toBe(true);
    expect(some!.ipcTo.has(none!.id)).toBe(false);
    expect(some!.ipcTo.has(clock.id)).toBe(false);
    expect(none!.ipcTo.isEmpty()).toBe(true);
  });

  test("the kernel enforces the resolved trap mask, targets and kernel calls", () => {
    const got: number[] = [];
    function* server(ctx: ProcessContext): Syscall {
      const buf = malloc(ctx, 64, 64);
      for (;;) {
        const r = yield* receive(CLOCK, buf);
        if (r !== OK) return r;
      }
    }
    function* restricted(ctx: ProcessContext): Syscall {
      const buf = malloc(ctx, 64, 64);
      got.push(yield* notify(11 as Endpoint)); // trap not allowed
      got.push(yield* sendrec(12 as Endpoint, buf)); // target not allowed
      got.push((yield* sysTimes(ctx, NONE)).status); // allowed kernel call
      got.push(yield* sysDiagctl(ctx, "x")); // kernel call not allowed
      got.push(yield* send(11 as Endpoint, buf)); // allowed: blocks until the end
      return 0;
    }
    const m = boot([
      entry("srv", { program: server }),
      entry("other", { program: server }),
      entry("r", {
        program: restricted,
        priv: { traps: ["SEND", "SENDREC"], ipcTo: ["srv"], kcalls: ["SYS_TIMES"] },
      }),
    ]);
    m.runUntilIdle();
    m.check();
    expect(got).toEqual([ETRAPDENIED, ECALLDENIED, OK, ECALLDENIED]);
    expect(m.snapshot().procs.find((p) => p.name === "r")!.rts).toBe("SENDING");
  });
});
