/**
 * RS completes the boot (MINIX `sef_cb_init_fresh` of servers/rs/main.c, MINIX-SPEC §6.3):
 * 1. read the boot tables the loader left in RS's memory, right below its heap (priv and sys
 *    tables);
 * 2. fetch the kernel's boot image table (`sys_getimage`); every boot process must have a
 *    table entry and every entry a boot process, else the system panics naming it;
 * 3. install every service's privileges — a static id for the fixed boot slots below INIT, a
 *    dynamic one otherwise; user processes share INIT's structure (SET_USER);
 * 4. let them run (ALLOW) and send each system service RS_INIT (SEF_INIT_FRESH): services
 *    with SF_SYNCH_BOOT first (VM before them all), each waited for before going on; the
 *    other answers are taken by the main loop. Once DS is up, RS publishes every label.
 * Only services whose sys flags keep a copy (SF_USE_COPY) can be restarted: the boot loader
 * registered their programs under their names (RS's boot image buffer).
 */
import {
  INIT_PROC_NR,
  NR_TASKS,
  RS_PROC_NR,
  VM_PROC_NR,
  type Endpoint,
} from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import {
  RS_BOOTINFO,
  RS_BOOTINFO_PAGES,
  RS_BOOTINFO_MAGIC,
  RS_BOOTPROC,
  RS_BOOTPROC_IPC_ALL,
  RS_BOOTPROC_KCALL_ALL,
  RS_BOOTPROC_USER,
  RS_ACTIVE,
  RS_INIT,
  RS_INIT_LAYOUT,
  RS_INITIALIZING,
  SEF_INIT_FRESH,
  SF_SYNCH_BOOT,
  SF_USE_COPY,
} from "../../include/rs.ts";
import { virAddr } from "../../include/types.ts";
import { I386_PAGE_SIZE } from "../../include/vmpt.ts";
import { asynsend } from "../../lib/asynsend.ts";
import { receive, send, type Syscall } from "../../lib/ipc.ts";
import { sysGetimage } from "../../lib/libsys/sys_getinfo.ts";
import { load } from "../../lib/mem.ts";
import { cString } from "../../include/message.ts";
import { dsLabelsAll, isDs } from "./ds_labels.ts";
import { newRproc, type PrivSpec, type Rproc } from "./rproc.ts";
import type { RsState } from "./state.ts";

/** `static_priv_id(slot)`: kernel tasks take the first NR_TASKS privilege ids. */
function staticPrivId(slot: number): number {
  return NR_TASKS + slot;
}

interface BootProc {
  readonly slot: number;
  readonly rp: Rproc;
}

/** Reads RS's boot tables; a malformed block is a panic. */
function* readTables(rs: RsState): Syscall<BootProc[] | string> {
  const base = rs.ctx.heapBase - RS_BOOTINFO_PAGES * I386_PAGE_SIZE;
  const head = new Uint8Array(RS_BOOTINFO.size);
  yield* load(rs.ctx, virAddr(base), head);
  const info = RS_BOOTINFO.read(new DataView(head.buffer));
  if (info.magic !== RS_BOOTINFO_MAGIC) return "no boot tables from the loader";
  const bytes = new Uint8Array(info.nprocs * RS_BOOTPROC.size);
  yield* load(rs.ctx, virAddr(base + RS_BOOTINFO.size), bytes);
  const out: BootProc[] = [];
  for (let i = 0; i < info.nprocs; i++) {
    const e = RS_BOOTPROC.read(new DataView(bytes.buffer, i * RS_BOOTPROC.size));
    const label = cString(e.label);
    const ipcTo =
      (e.bootFlags & RS_BOOTPROC_IPC_ALL) !== 0 ? "all" : ipcIds(e.ipcSlots0, e.ipcSlots1);
    const all = (e.bootFlags & RS_BOOTPROC_KCALL_ALL) !== 0;
    const priv: PrivSpec =
      (e.bootFlags & RS_BOOTPROC_USER) !== 0
        ? "user"
        : {
            flags: e.privFlags,
            trapMask: e.trapMask,
            ipcTo,
            kCallMask0: all ? 0xffffffff : e.kCallMask0,
            kCallMask1: all ? 0xffffffff : e.kCallMask1,
            sigMgr: e.sigMgr,
          };
    const rp = newRproc({
      label,
      program: (e.sysFlags & SF_USE_COPY) !== 0 ? label : null,
      argv: [label],
      priv,
      sysFlags: e.sysFlags,
      period: e.period,
      boot: true,
    });
    rp.endpoint = e.slot as Endpoint;
    rp.flags |= RS_ACTIVE;
    out.push({ slot: e.slot, rp });
  }
  return out;
}

/**
 * Privilege ids of the target slots: boot slots below INIT have static ids; other targets
 * (dynamic ids, not known before they are set up) are left out.
 */
function ipcIds(slots0: number, slots1: number): number {
  let mask = 0;
  for (let slot = 0; slot < 64; slot++) {
    const bit = slot < 32 ? (slots0 >>> slot) & 1 : (slots1 >>> (slot - 32)) & 1;
    if (bit !== 0 && slot < (INIT_PROC_NR as number)) mask |= 1 << staticPrivId(slot);
  }
  return mask >>> 0;
}

/** Steps 1–4 above. Returns false when the boot failed (the machine was halted). */
export function* bootServices(rs: RsState): Syscall<boolean> {
  const tables = yield* readTables(rs);
  if (typeof tables === "string") {
    yield* rs.panic(tables);
    return false;
  }
  const image = yield* sysGetimage(rs.ctx);
  if (typeof image === "number") {
    yield* rs.panic(`cannot read the boot image table (${image})`);
    return false;
  }
  for (const e of image) {
    if (e.procNr < 0 || e.procNr === (RS_PROC_NR as number)) continue;
    if (!tables.some((t) => t.slot === e.procNr)) {
      yield* rs.panic(`boot process ${e.name} has no entry in RS's priv table`);
      return false;
    }
  }
  for (const t of tables) {
    if (!image.some((e) => e.procNr === t.slot)) {
      yield* rs.panic(`priv table entry ${t.rp.label} is not in the boot image`);
      return false;
    }
  }

  // Privileges, in table order.
  for (const { slot, rp } of tables) {
    const staticId = slot < (INIT_PROC_NR as number) ? staticPrivId(slot) : null;
    const r = yield* rs.setPriv(rp.endpoint, rp.priv, staticId);
    if (r !== OK) {
      yield* rs.panic(`cannot set the privileges of ${rp.label} (${r})`);
      return false;
    }
    rs.table.add(rp);
  }

  // Run: synchronous services first, each one's init awaited before the next — VM before
  // them all whatever the image order (as in MINIX's priv table), since the others need it to
  // page in their memory.
  const synch = tables.filter((t) => (t.rp.sysFlags & SF_SYNCH_BOOT) !== 0);
  const order = [
    ...synch.filter((t) => t.slot === VM_PROC_NR),
    ...synch.filter((t) => t.slot !== VM_PROC_NR),
    ...tables.filter((t) => (t.rp.sysFlags & SF_SYNCH_BOOT) === 0),
  ];
  for (const { rp } of order) {
    const r = yield* rs.allow(rp.endpoint);
    if (r !== OK) {
      yield* rs.panic(`cannot allow ${rp.label} to run (${r})`);
      return false;
    }
    if (rp.priv === "user") continue;
    if (!(yield* sendInit(rs, rp, SEF_INIT_FRESH))) {
      yield* rs.panic(`boot service ${rp.label} did not take its init request`);
      return false;
    }
    if ((rp.sysFlags & SF_SYNCH_BOOT) === 0) continue;
    if (!(yield* awaitInit(rs, rp))) {
      yield* rs.panic(`boot service ${rp.label} failed to initialise`);
      return false;
    }
    // A DS without SF_SYNCH_BOOT is answered in the main loop (initReply), which does the same.
    if (isDs(rp)) yield* dsLabelsAll(rs, rp);
  }
  return true;
}

/**
 * Sends RS_INIT of `type` asynchronously (a service that never takes it does not block RS; it
 * is killed when its init time runs out); marks the service initialising.
 */
export function* sendInit(rs: RsState, rp: Rproc, type: number): Syscall<boolean> {
  rs.out.m.set(RS_INIT, RS_INIT_LAYOUT, { result: OK, type });
  rp.flags |= RS_INITIALIZING;
  rp.checkTm = rs.now + 1;
  rp.aliveTm = rs.now;
  return (yield* asynsend(rs.ctx, rp.endpoint, rs.out.m)) === OK;
}

/** Waits for a synchronous service's init answer and lets it go on; false if not OK. */
function* awaitInit(rs: RsState, rp: Rproc): Syscall<boolean> {
  for (;;) {
    if ((yield* receive(rp.endpoint, rs.out.va)) !== OK) return false;
    const m = yield* rs.out.get();
    if (m.type !== RS_INIT) continue;
    const result = m.get(RS_INIT_LAYOUT).result;
    rp.flags &= ~RS_INITIALIZING;
    rs.out.m.set(OK, RS_INIT_LAYOUT, { result: OK, type: 0 });
    yield* rs.out.put();
    yield* send(rp.endpoint, rs.out.va);
    return result === OK;
  }
}
