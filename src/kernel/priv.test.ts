import { describe, expect, test } from "vitest";
import { CLOCK, INIT_PROC_NR, NR_BOOT_PROCS, PM_PROC_NR, VM_PROC_NR } from "../include/endpoint.ts";
import { EBUSY, EINVAL, ENOSPC } from "../include/errno.ts";
import { RECEIVE, SEND, SENDREC } from "../include/ipc.ts";
import {
  NO_OWNER,
  NULL_PRIV_ID,
  type Priv,
  PrivTable,
  RECEIVE_ONLY_MASK,
  setSendtoBit,
  staticPrivId,
  SYS_PROC,
  unsetSendtoBit,
  USER_PRIV_ID,
} from "./priv.ts";

const FULL_TRAPS = (1 << SEND) | (1 << RECEIVE) | (1 << SENDREC);

function claimed(t: PrivTable, slot: number, id: number): Priv {
  const r = t.claim(slot, id);
  if (typeof r === "number") throw new Error(`claim(${slot}, ${id}) failed: ${r}`);
  return r;
}

describe("privilege ids", () => {
  test("static ids are NR_TASKS + slot; INIT's is the shared user id", () => {
    expect(staticPrivId(CLOCK)).toBe(1);
    expect(staticPrivId(PM_PROC_NR)).toBe(4);
    expect(staticPrivId(VM_PROC_NR)).toBe(12);
    expect(staticPrivId(INIT_PROC_NR)).toBe(14);
    expect(USER_PRIV_ID).toBe(14);
    expect(NR_BOOT_PROCS).toBe(15);
  });
});

describe("PrivTable.claim (get_priv)", () => {
  test("claims a free static id for a slot", () => {
    const t = new PrivTable(32);
    const p = claimed(t, PM_PROC_NR, staticPrivId(PM_PROC_NR));
    expect(p.id).toBe(4);
    expect(p.procNr).toBe(PM_PROC_NR);
    expect(p.isFree).toBe(false);
    expect(t.byId(4)).toBe(p);
  });

  test("a static id already owned is EBUSY", () => {
    const t = new PrivTable(32);
    claimed(t, 0, 4);
    expect(t.claim(1, 4)).toBe(EBUSY);
    expect(t.byId(4)!.procNr).toBe(0);
  });

  test("a non-static id (dynamic range, negative, beyond the table) is EINVAL", () => {
    const t = new PrivTable(32);
    expect(t.claim(20, NR_BOOT_PROCS)).toBe(EINVAL);
    expect(t.claim(20, 31)).toBe(EINVAL);
    expect(t.claim(20, -2)).toBe(EINVAL);
    expect(t.claim(20, 32)).toBe(EINVAL);
    expect(t.privs.every((p) => p.isFree)).toBe(true);
  });

  test("NULL_PRIV_ID takes dynamic ids first-free, then ENOSPC", () => {
    const t = new PrivTable(NR_BOOT_PROCS + 3);
    const a = claimed(t, 20, NULL_PRIV_ID);
    const b = claimed(t, 21, NULL_PRIV_ID);
    const c = claimed(t, 22, NULL_PRIV_ID);
    expect([a.id, b.id, c.id]).toEqual([15, 16, 17]);
    expect(t.claim(23, NULL_PRIV_ID)).toBe(ENOSPC);
    // Static ids are never handed out dynamically, even when free.
    expect(t.byId(0)!.isFree).toBe(true);
    b.reset();
    expect(b.procNr).toBe(NO_OWNER);
    const d = claimed(t, 24, NULL_PRIV_ID);
    expect(d.id).toBe(16);
    expect(d.procNr).toBe(24);
  });

  test("a reclaimed structure starts clean", () => {
    const t = new PrivTable(NR_BOOT_PROCS + 1);
    const p = claimed(t, 20, NULL_PRIV_ID);
    p.flags = SYS_PROC;
    p.trapMask = FULL_TRAPS;
    p.ipcTo.set(3);
    p.notifyPending.set(5);
    p.kCallMask.set(1);
    p.asynsize = 4;
    p.sigPending = 8;
    p.reset();
    const q = claimed(t, 21, NULL_PRIV_ID);
    expect(q).toBe(p);
    expect([q.flags, q.trapMask, q.asynsize, q.sigPending, q.alarmAt]).toEqual([0, 0, 0, 0, -1]);
    expect(q.ipcTo.isEmpty() && q.notifyPending.isEmpty() && q.kCallMask.isEmpty()).toBe(true);
  });
});

describe("setSendtoBit (send-mask symmetry)", () => {
  function setup(): { t: PrivTable; a: Priv; b: Priv } {
    const t = new PrivTable(32);
    const a = claimed(t, 20, NULL_PRIV_ID);
    const b = claimed(t, 21, NULL_PRIV_ID);
    a.trapMask = FULL_TRAPS;
    b.trapMask = FULL_TRAPS;
    return { t, a, b };
  }

  test("allows sending to the id and lets its owner send back", () => {
    const { t, a, b } = setup();
    setSendtoBit(t, a, b.id);
    expect(a.ipcTo.has(b.id)).toBe(true);
    expect(b.ipcTo.has(a.id)).toBe(true);
    expect([...a.ipcTo.members()]).toEqual([b.id]);
    expect([...b.ipcTo.members()]).toEqual([a.id]);
  });

  test("no reverse bit for an owner whose trap mask allows only RECEIVE", () => {
    const { t, a, b } = setup();
    b.trapMask = RECEIVE_ONLY_MASK;
    setSendtoBit(t, a, b.id);
    expect(a.ipcTo.has(b.id)).toBe(true);
    expect(b.ipcTo.has(a.id)).toBe(false);
  });

  test("no reverse bit for an owner that may use no trap at all", () => {
    const { t, a, b } = setup();
    b.trapMask = 0;
    setSendtoBit(t, a, b.id);
    expect(a.ipcTo.has(b.id)).toBe(true);
    expect(b.ipcTo.has(a.id)).toBe(false);
  });

  test("reverse bit when the owner may RECEIVE and anything else", () => {
    const { t, a, b } = setup();
    b.trapMask = RECEIVE_ONLY_MASK | (1 << SENDREC);
    setSendtoBit(t, a, b.id);
    expect(b.ipcTo.has(a.id)).toBe(true);
  });

  test("an unowned id is never allowed (an existing bit is cleared)", () => {
    const { t, a } = setup();
    const free = 25;
    expect(t.byId(free)!.isFree).toBe(true);
    a.ipcTo.set(free);
    setSendtoBit(t, a, free);
    expect(a.ipcTo.has(free)).toBe(false);
    expect(t.byId(free)!.ipcTo.has(a.id)).toBe(false);
    setSendtoBit(t, a, 999);
    expect(a.ipcTo.isEmpty()).toBe(true);
  });

  test("sending to oneself is never allowed (an existing bit is cleared)", () => {
    const { t, a } = setup();
    a.ipcTo.set(a.id);
    setSendtoBit(t, a, a.id);
    expect(a.ipcTo.has(a.id)).toBe(false);
  });

  test("unsetSendtoBit clears both directions", () => {
    const { t, a, b } = setup();
    setSendtoBit(t, a, b.id);
    unsetSendtoBit(t, a, b.id);
    expect(a.ipcTo.has(b.id)).toBe(false);
    expect(b.ipcTo.has(a.id)).toBe(false);
  });
});
