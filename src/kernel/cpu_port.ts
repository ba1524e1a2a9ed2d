/**
 * The CPU port handed to a process: loads and stores in its own address space through the
 * MMU with user-mode permissions. A failing access reports CPU_FAULT and the address; the
 * library turns that into a page-fault trap. Copies of at most 64 bytes inside one page (the
 * message buffers every request goes through) take one translation: as words for the word
 * calls and for word-aligned byte buffers, else byte by byte.
 */
import { CPU_FAULT, CPU_OK, type CpuPort } from "../include/trap.ts";
import { OK } from "../include/errno.ts";
import { copy16, MESSAGE_SIZE } from "../include/message.ts";
import type { VirAddr } from "../include/types.ts";
import type { Mmu } from "../hw/mmu.ts";
import type { Kernel } from "./kernel.ts";
import { copyFromProc, copyToProc } from "./memory.ts";
import type { Proc } from "./proc.ts";

const VIEWS = 4;
const EMPTY = new Uint32Array(0);
const WORDS = MESSAGE_SIZE / 4;

export class UserCpuPort implements CpuPort {
  readonly #k: Kernel;
  readonly #p: Proc;
  readonly #mmu: Mmu;
  readonly #m8: Uint8Array;
  readonly #m32: Uint32Array;
  /** Word views of the last byte buffers copied (a process cycles through a few buffers). */
  readonly #bytes: (Uint8Array | null)[] = [null, null, null, null];
  readonly #words32: Uint32Array<ArrayBufferLike>[] = [EMPTY, EMPTY, EMPTY, EMPTY];
  #nextSlot = 0;
  faultAddr = 0 as VirAddr;
  faultWrite = false;

  constructor(k: Kernel, p: Proc) {
    this.#k = k;
    this.#p = p;
    this.#mmu = k.hw.mmu;
    this.#m8 = k.hw.mem.u8;
    this.#m32 = k.hw.mem.u32;
  }

  read(va: VirAddr, dst: Uint8Array): number {
    const n = dst.length;
    const pa = this.#small(va, n, false);
    if (pa === SLOW) {
      if (copyFromProc(this.#k, this.#p, va, dst, 0, n) === OK) return CPU_OK;
      return this.#fault(this.#k.faultAddr, false);
    }
    if (pa < 0) return CPU_FAULT;
    // (`byteOffset` is read last: it costs more than the copy of a few bytes.)
    if (((pa | n) & 3) === 0 && (dst.byteOffset & 3) === 0) {
      copyWords(this.#words(dst), 0, this.#m32, pa >>> 2, n >>> 2);
    } else {
      const m8 = this.#m8;
      for (let i = 0; i < n; i++) dst[i] = m8[pa + i]!;
    }
    return CPU_OK;
  }

  write(va: VirAddr, src: Uint8Array): number {
    const n = src.length;
    const pa = this.#small(va, n, true);
    if (pa === SLOW) {
      if (copyToProc(this.#k, this.#p, va, src, 0, n) === OK) return CPU_OK;
      return this.#fault(this.#k.faultAddr, true);
    }
    if (pa < 0) return CPU_FAULT;
    if (((pa | n) & 3) === 0 && (src.byteOffset & 3) === 0) {
      copyWords(this.#m32, pa >>> 2, this.#words(src), 0, n >>> 2);
    } else {
      const m8 = this.#m8;
      for (let i = 0; i < n; i++) m8[pa + i] = src[i]!;
    }
    return CPU_OK;
  }

  readWords(va: VirAddr, dst: Uint32Array): number {
    const n = dst.length;
    if ((va & 3) !== 0) return this.read(va, asBytes(dst));
    const pa = this.#small(va, 4 * n, false);
    if (pa === SLOW) return this.read(va, asBytes(dst));
    if (pa < 0) return CPU_FAULT;
    copyWords(dst, 0, this.#m32, pa >>> 2, n);
    return CPU_OK;
  }

  writeWords(va: VirAddr, src: Uint32Array): number {
    const n = src.length;
    if ((va & 3) !== 0) return this.write(va, asBytes(src));
    const pa = this.#small(va, 4 * n, true);
    if (pa === SLOW) return this.write(va, asBytes(src));
    if (pa < 0) return CPU_FAULT;
    copyWords(this.#m32, pa >>> 2, src, 0, n);
    return CPU_OK;
  }

  mapWords(va: VirAddr, n: number, last: Uint32Array | null = null): Uint32Array | null {
    const cr3 = this.#p.cr3;
    if (va >>> 0 !== va || (va & 3) !== 0 || !Number.isInteger(n) || n < 1 || cr3 === 0) {
      return null;
    }
    if ((va & 0xfff) + 4 * n > 0x1000) return null;
    const pa = this.#mmu.translate(cr3, va, true, true);
    if (pa < 0) return null;
    const m32 = this.#m32;
    if (last?.byteOffset === pa && last.length === n && last.buffer === m32.buffer) return last;
    return m32.subarray(pa >>> 2, (pa >>> 2) + n);
  }

  get tlbGen(): number {
    return this.#mmu.generation;
  }

  read32(va: VirAddr): number {
    const cr3 = this.#p.cr3;
    const pa = (va & 3) === 0 && cr3 !== 0 ? this.#mmu.translate(cr3, va, false, true) : -1;
    if (pa < 0) return this.#fault(va, false);
    return this.#m32[pa >>> 2]!;
  }

  write32(va: VirAddr, value: number): number {
    const cr3 = this.#p.cr3;
    const pa = (va & 3) === 0 && cr3 !== 0 ? this.#mmu.translate(cr3, va, true, true) : -1;
    if (pa < 0) return this.#fault(va, true);
    this.#m32[pa >>> 2] = value >>> 0;
    return CPU_OK;
  }

  /**
   * The physical address of `n` bytes at `va` when they are 1..64 bytes inside one page of a
   * 32-bit address (SLOW otherwise: the general copy takes them), or CPU_FAULT with the fault
   * recorded as the general copy records it (which also sets `k.faultAddr`).
   */
  #small(va: number, n: number, write: boolean): number {
    const cr3 = this.#p.cr3;
    if (va >>> 0 !== va || n <= 0 || n > 64 || (va & 0xfff) > 0x1000 - n || cr3 === 0) {
      return SLOW;
    }
    const pa = this.#mmu.translate(cr3, va, write, true);
    if (pa >= 0) return pa;
    this.#k.faultAddr = va;
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
}

/** `#small`'s answer for an access the general copy must make. */
const SLOW = -2;

/** `n` words from `s[si..]` to `d[di..]`; a message's 16 in one straight run. */
function copyWords(d: Uint32Array, di: number, s: Uint32Array, si: number, n: number): void {
  if (n === WORDS) copy16(d, di, s, si);
  else for (let i = 0; i < n; i++) d[di + i] = s[si + i]!;
}

function asBytes(w: Uint32Array): Uint8Array {
  return new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
}
