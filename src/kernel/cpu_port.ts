/**
 * The CPU port handed to a process: loads and stores in its own address space through the
 * MMU with user-mode permissions. A failing access reports CPU_FAULT and the address; the
 * library turns that into a page-fault trap.
 */
import { CPU_FAULT, CPU_OK, type CpuPort } from "../include/trap.ts";
import { OK } from "../include/errno.ts";
import type { VirAddr } from "../include/types.ts";
import type { Kernel } from "./kernel.ts";
import { copyFromProc, copyToProc } from "./memory.ts";
import type { Proc } from "./proc.ts";

export class UserCpuPort implements CpuPort {
  readonly #k: Kernel;
  readonly #p: Proc;
  faultAddr = 0 as VirAddr;
  faultWrite = false;

  constructor(k: Kernel, p: Proc) {
    this.#k = k;
    this.#p = p;
  }

  read(va: VirAddr, dst: Uint8Array): number {
    if (copyFromProc(this.#k, this.#p, va, dst, 0, dst.length) === OK) return CPU_OK;
    this.faultAddr = this.#k.faultAddr as VirAddr;
    this.faultWrite = false;
    return CPU_FAULT;
  }

  read32(va: VirAddr): number {
    const p = this.#p;
    const pa =
      (va & 3) === 0 && p.cr3 !== 0 ? this.#k.hw.mmu.translate(p.cr3, va, false, true) : -1;
    if (pa < 0) return this.#fault(va, false);
    return this.#k.hw.mem.u32[pa >>> 2]!;
  }

  write32(va: VirAddr, value: number): number {
    const p = this.#p;
    const pa = (va & 3) === 0 && p.cr3 !== 0 ? this.#k.hw.mmu.translate(p.cr3, va, true, true) : -1;
    if (pa < 0) return this.#fault(va, true);
    this.#k.hw.mem.u32[pa >>> 2] = value >>> 0;
    return CPU_OK;
  }

  #fault(va: number, write: boolean): number {
    this.faultAddr = (va >>> 0) as VirAddr;
    this.faultWrite = write;
    return CPU_FAULT;
  }

  write(va: VirAddr, src: Uint8Array): number {
    if (copyToProc(this.#k, this.#p, va, src, 0, src.length) === OK) return CPU_OK;
    this.faultAddr = this.#k.faultAddr as VirAddr;
    this.faultWrite = true;
    return CPU_FAULT;
  }
}
