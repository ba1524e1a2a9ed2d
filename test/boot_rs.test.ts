import { describe, expect, test } from "vitest";
import { RS_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import { ECALLDENIED } from "../src/include/errno.ts";
import { SYS_PRIV_DISALLOW } from "../src/include/kcall.ts";
import { sysPrivctl } from "../src/lib/libsys/sys_misc.ts";
import { PROC_FULLVM, PROC_ROOT } from "../src/include/kcall.ts";
import { rsEntry, vmEntry } from "../src/boot/services.ts";
import { Machine } from "../src/boot/machine.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { RTS_NO_PRIV } from "../src/kernel/proc.ts";
import { SYS_PROC, USER_PRIV_ID } from "../src/kernel/priv.ts";
import { rsLookup } from "../src/lib/rs.ts";
import { driverEntry, driverInits } from "./fixtures/rs.ts";

function boot(image: readonly BootImageEntry[], seed = 1): Machine {
  return Machine.boot({ memoryBytes: 16 << 20, nrProcs: 64, seed, image });
}

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const lookups: number[] = [];
const privctl: number[] = [];
const user: BootImageEntry = {
  name: "init",
  slot: 10,
  priv: "user",
  program: function* (ctx) {
    lookups.push(yield* rsLookup(ctx, "driver"));
    // A user process may not change privileges: the call mask refuses it.
    privctl.push(yield* sysPrivctl(ctx, 11 as Endpoint, SYS_PRIV_DISALLOW));
    return 0;
  },
};

describe("boot through RS", () => {
  test("right after kernel start only RS is runnable; the others wait without privileges", () => {
    const m = boot([rsEntry, vmEntry, driverEntry(), user]);
    const k = m.kernel;
    for (const slot of [8, 11, 10]) {
      const p = k.procAddr(slot)!;
      expect(p.rtsFlags & RTS_NO_PRIV).toBe(RTS_NO_PRIV);
      expect(p.priv!.id).toBe(USER_PRIV_ID);
    }
    const rs = k.procAddr(RS_PROC_NR)!;
    expect(rs.rtsFlags).toBe(0);
    expect(rs.priv!.flags & SYS_PROC).toBe(SYS_PROC);
    expect(rs.priv!.sigMgr).toBe(RS_PROC_NR);
    const flags = Object.fromEntries(k.image.map((e) => [e.name, e.flags]));
    expect(flags).toMatchObject({ rs: PROC_ROOT, vm: 0, driver: PROC_FULLVM, init: PROC_FULLVM });
  });

  test("RS gives every boot process its privileges and lets it run (several shuffled orders)", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      driverInits.length = 0;
      lookups.length = 0;
      privctl.length = 0;
      const image = shuffle([rsEntry, vmEntry, driverEntry(), user], seed);
      const m = boot(image, seed);
      m.runUntilIdle(200_000);
      expect(m.halted).toBeNull();
      m.check();
      const k = m.kernel;
      const vm = k.procAddr(8)!;
      const drv = k.procAddr(11)!;
      for (const p of [vm, drv]) expect(p.rtsFlags & RTS_NO_PRIV).toBe(0);
      // Static ids for the fixed boot slots, a dynamic one above them, INIT shares the user one.
      expect(vm.priv!.id).toBe(4 + 8);
      expect(drv.priv!.id).toBeGreaterThanOrEqual(15);
      // INIT ran with user privileges: it asked RS for the driver and exited normally.
      expect(lookups).toEqual([11]);
      expect(privctl).toEqual([ECALLDENIED]);
      expect(driverInits).toEqual([{ endpoint: 11, type: 0 }]);
    }
  });

  test("a boot process without a priv-table entry panics the system naming it", () => {
    // The RS entry's tables are made from the image; a process added behind the loader's
    // back is missing from them.
    const m = boot([rsEntry, vmEntry, driverEntry()]);
    m.kernel.image.push({
      procNr: 20,
      flags: 0,
      quantum: 8,
      priority: 8,
      endpoint: 20 as never,
      name: "ghost",
    });
    m.runUntilIdle(100_000);
    expect(m.halted).toContain("ghost");
    expect(m.console).toContain("kernel panic: rs: boot process ghost has no entry");
  });
});
