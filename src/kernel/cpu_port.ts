/**
 * The CPU port handed to a process: loads and stores in its own address space through the
 * MMU with user-mode permissions. A failing access reports CPU_FAULT and the address; the
 * library turns that into a page-fault trap. Copies of at most 64 bytes inside one page (the
 * message buffers every request goes through) take one translation and no temporary view.
 */
import { CPU_FAULT, CPU_OK, type CpuPort } from "../include/trap.ts";
import { OK } from "../include/errno.ts";
import { MESSAGE_SIZE } from "../include/message.ts";
import type { VirAddr } from "../include/types.ts";
import type { Kernel } from "./kernel.ts";
import { copy16, copyFromProc, copyToProc } from "./memory.ts";
import type { Proc } from "./proc.ts";

const VIEWS = 4;
const EMPTY = new Uint32Array(0);

export class UserCpuPort implements CpuPort {
  readonly #k: Kernel;
  readonly #p: Proc;
  /** Word views of the last buffers copied (a process cycles through a few message buffers). */
  readonly #bytes: (Uint8Array | null)[] = [null, null, null, null];
  readonly #words32: Uint32Array<ArrayBufferLike>[] = [EMPTY, EMPTY, EMPTY, EMPTY];
  #nextSlot = 0;
  faultAddr = 0 as VirAddr;
  faultWrite = false;

  constructor(k: Kernel, p: Proc) {
    this.#k = k;
    this.#p = p;
  }

  read(va: VirAddr, dst: Uint8Array): number {
    const n = dst.length;
    const p = this.#p;
    if (smallFit(va, n) && p.cr3 !== 0) {
      const pa = this.#k.hw.mmu.translate(p.cr3, va, false, true);
      if (pa < 0) return this.#kernelFault(va, false);
      if (((pa | n | dst.byteOffset) & 3) === 0) {
        const d32 = this.#words(dst);
        const m32 = this.#k.hw.mem.u32;
        const w = pa >>> 2;
        if (n === MESSAGE_SIZE) copy16(d32, 0, m32, w);
        else for (let i = 0; i < n >>> 2; i++) d32[i] = m32[w + i]!;
      } else {
        const m8 = this.#k.hw.mem.u8;
        for (let i = 0; i < n; i++) dst[i] = m8[pa + i]!;
      }
      return CPU_OK;
    }
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

  /** A fault seen as the general copy reports it (which also sets `k.faultAddr`). */
  #kernelFault(va: number, write: boolean): number {
    this.#k.faultAddr = va >>> 0;
    return this.#fault(va, write);
  }

  /** A word view of `b` (word aligned), one of the views kept for the last buffers. */
  #words(b: Uint8Array): Uint32Array<ArrayBufferLike> {
    const bytes = this.#bytes;
    for (let i = 0; i < VIEWS; i++) if (bytes[i] === b) return this.#words32[i]!;
    const i = this.#nextSlot;
    this.#nextSlot = (i + 1) & (VIEWS - 1);
    bytes[i] = b;
    const w = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
    this.#words32[i] = w;
    return w;
  }

  #fault(va: number, write: boolean): number {
    this.faultAddr = (va >>> 0) as VirAddr;
    this.faultWrite = write;
    return CPU_FAULT;
  }

  write(va: VirAddr, src: Uint8Array): number {
    const n = src.length;
    const p = this.#p;
    if (smallFit(va, n) && p.cr3 !== 0) {
      const pa = this.#k.hw.mmu.translate(p.cr3, va, true, true);
      if (pa < 0) return this.#kernelFault(va, true);
      if (((pa | n | src.byteOffset) & 3) === 0) {
        const s32 = this.#words(src);
        const m32 = this.#k.hw.mem.u32;
        const w = pa >>> 2;
        if (n === MESSAGE_SIZE) copy16(m32, w, s32, 0);
        else for (let i = 0; i < n >>> 2; i++) m32[w + i] = s32[i]!;
      } else {
        const m8 = this.#k.hw.mem.u8;
        for (let i = 0; i < n; i++) m8[pa + i] = src[i]!;
      }
      return CPU_OK;
    }
    if (copyToProc(this.#k, this.#p, va, src, 0, src.length) === OK) return CPU_OK;
    this.faultAddr = this.#k.faultAddr as VirAddr;
    this.faultWrite = true;
    return CPU_FAULT;
  }
}

/**
 * A small copy inside one page: a 32-bit address and 1 to 64 bytes not crossing a page (so
 * not past the end of the address space). Moved as words when address, length and buffer
 * are word aligned, else byte by byte.
 */
function smallFit(va: number, n: number): boolean {
  return va >>> 0 === va && n > 0 && n <= 64 && (va & 0xfff) <= 0x1000 - n;
}
