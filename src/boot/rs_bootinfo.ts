/**
 * RS's boot tables: the loader writes, at the start of RS's data area, one entry per boot
 * process other than RS with what RS needs to finish the boot (MINIX's priv and sys tables of
 * servers/rs/table.c): label, sys flags, heartbeat period, and the privileges to install.
 */
import { NONE, RS_PROC_NR } from "../include/endpoint.ts";
import {
  RS_BOOTINFO,
  RS_BOOTINFO_MAGIC,
  RS_BOOTINFO_MAX_PROCS,
  RS_BOOTINFO_PAGES,
  RS_BOOTPROC,
  RS_BOOTPROC_IPC_ALL,
  RS_BOOTPROC_KCALL_ALL,
  RS_BOOTPROC_USER,
} from "../include/rs.ts";
import type { PhysAddr } from "../include/types.ts";
import type { Hardware } from "../hw/machine.ts";
import { PAGE_SIZE } from "../hw/memory.ts";
import type { ResolvedEntry } from "./image.ts";
import { writeVirtual } from "./loader.ts";

/** The RS entry, if the image boots through RS. */
export function rsEntryOf(entries: readonly ResolvedEntry[]): ResolvedEntry | undefined {
  return entries.find((r) => r.entry.rs === true);
}

/** Encodes the boot tables; throws an Error naming the bad option. */
export function encodeRsBootinfo(entries: readonly ResolvedEntry[]): Uint8Array {
  const others = entries.filter((r) => r.slot !== (RS_PROC_NR as number));
  if (others.length > RS_BOOTINFO_MAX_PROCS) {
    throw new Error(
      `Invalid boot option image: at most ${RS_BOOTINFO_MAX_PROCS} processes with RS`,
    );
  }
  const info = new Uint8Array(RS_BOOTINFO_PAGES * PAGE_SIZE);
  RS_BOOTINFO.write(new DataView(info.buffer), { magic: RS_BOOTINFO_MAGIC, nprocs: others.length });
  others.forEach((r, i) => {
    const at = new DataView(info.buffer, RS_BOOTINFO.size + i * RS_BOOTPROC.size);
    const label = new TextEncoder().encode(r.entry.name);
    const common = { slot: r.slot, label, sysFlags: r.sysFlags, period: r.period };
    if (r.priv === "user") {
      RS_BOOTPROC.write(at, {
        ...common,
        bootFlags: RS_BOOTPROC_USER,
        privFlags: 0,
        trapMask: 0,
        ipcSlots0: 0,
        ipcSlots1: 0,
        kCallMask0: 0,
        kCallMask1: 0,
        sigMgr: NONE,
      });
      return;
    }
    const p = r.priv;
    let ipc0 = 0;
    let ipc1 = 0;
    if (p.ipcTo !== "all") {
      for (const slot of p.ipcTo) {
        if (slot >= 64) {
          throw new Error(
            `Invalid boot option image: ${r.entry.name} names IPC target slot ${slot} (RS boots only targets in slots 0..63)`,
          );
        }
        if (slot < 32) ipc0 |= 1 << slot;
        else ipc1 |= 1 << (slot - 32);
      }
    }
    let k0 = 0;
    let k1 = 0;
    if (p.kcalls !== "all") {
      for (const c of p.kcalls) {
        if (c < 32) k0 |= 1 << c;
        else k1 |= 1 << (c - 32);
      }
    }
    RS_BOOTPROC.write(at, {
      ...common,
      bootFlags:
        (p.ipcTo === "all" ? RS_BOOTPROC_IPC_ALL : 0) |
        (p.kcalls === "all" ? RS_BOOTPROC_KCALL_ALL : 0),
      privFlags: p.flags,
      trapMask: p.trapMask,
      ipcSlots0: ipc0 >>> 0,
      ipcSlots1: ipc1 >>> 0,
      kCallMask0: k0 >>> 0,
      kCallMask1: k1 >>> 0,
      sigMgr: p.sigMgr,
    });
  });
  return info;
}

export { RS_BOOTINFO_PAGES };

/** Writes `info` right below RS's heap at `heapBase` (mapped by the loader). */
export function writeRsBootinfo(
  hw: Hardware,
  cr3: PhysAddr,
  heapBase: number,
  info: Uint8Array,
): void {
  writeVirtual(hw, cr3, heapBase - RS_BOOTINFO_PAGES * PAGE_SIZE, info, "RS boot information");
}
