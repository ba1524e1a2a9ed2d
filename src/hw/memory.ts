// Simulated physical memory: one flat byte array addressed by PhysAddr.

import type { PhysAddr } from "../include/types.ts";

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

const MAX_BYTES = 2 ** 32;

/** True when typed arrays on this host store words little-endian (all supported hosts). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Byte-addressable physical memory. Every accessor throws RangeError for an address
 * (or range) outside memory: the kernel must never produce one, so it is a kernel bug.
 */
export class PhysicalMemory {
  /** Size in bytes. */
  readonly size: number;
  /** Number of PAGE_SIZE frames. */
  readonly frames: number;
  /** The whole memory as bytes, for fast bulk copies. */
  readonly u8: Uint8Array;
  /** The whole memory as host-endian (little-endian) 32-bit words; index = pa >>> 2. */
  readonly u32: Uint32Array;
  readonly #view: DataView;

  /**
   * @param size bytes; a positive multiple of PAGE_SIZE, at most 4 GiB.
   * @throws RangeError if the size is invalid or the host cannot allocate it.
   */
  constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0 || size % PAGE_SIZE !== 0 || size > MAX_BYTES) {
      throw new RangeError(
        `physical memory size must be a positive multiple of ${PAGE_SIZE} up to 4 GiB, got ${size}`,
      );
    }
    let buf: ArrayBuffer;
    try {
      buf = new ArrayBuffer(size);
    } catch (e) {
      throw new RangeError(`host cannot allocate ${size} bytes of physical memory`, { cause: e });
    }
    this.size = size;
    this.frames = size / PAGE_SIZE;
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf);
    this.#view = new DataView(buf);
  }

  /** Reads the byte at `pa`. */
  read8(pa: PhysAddr): number {
    const v = this.u8[pa];
    if (v === undefined) throw this.#bad(pa, 1);
    return v;
  }

  /** Writes the low 8 bits of `value` at `pa`. */
  write8(pa: PhysAddr, value: number): void {
    if (pa >>> 0 !== pa || pa >= this.size) throw this.#bad(pa, 1);
    this.u8[pa] = value;
  }

  /** Reads the little-endian unsigned 32-bit word at `pa` (any alignment). */
  read32(pa: PhysAddr): number {
    if (pa >>> 0 !== pa || pa > this.size - 4) throw this.#bad(pa, 4);
    if ((pa & 3) === 0 && HOST_LITTLE_ENDIAN) return this.u32[pa >>> 2] ?? 0;
    return this.#view.getUint32(pa, true);
  }

  /** Writes `value` (taken modulo 2^32) little-endian at `pa` (any alignment). */
  write32(pa: PhysAddr, value: number): void {
    if (pa >>> 0 !== pa || pa > this.size - 4) throw this.#bad(pa, 4);
    if ((pa & 3) === 0 && HOST_LITTLE_ENDIAN) this.u32[pa >>> 2] = value;
    else this.#view.setUint32(pa, value >>> 0, true);
  }

  /** Copies `len` bytes from `src` to `dst`; overlapping ranges behave like memmove. */
  copy(dst: PhysAddr, src: PhysAddr, len: number): void {
    this.#check(dst, len);
    this.#check(src, len);
    this.u8.copyWithin(dst, src, src + len);
  }

  /** Sets `len` bytes starting at `pa` to the low 8 bits of `value`. */
  fill(pa: PhysAddr, len: number, value: number): void {
    this.#check(pa, len);
    this.u8.fill(value & 0xff, pa, pa + len);
  }

  /** Returns a copy of `len` bytes starting at `pa`. */
  readBytes(pa: PhysAddr, len: number): Uint8Array {
    this.#check(pa, len);
    return this.u8.slice(pa, pa + len);
  }

  /** Copies `bytes` into memory starting at `pa`. */
  writeBytes(pa: PhysAddr, bytes: Uint8Array): void {
    this.#check(pa, bytes.length);
    this.u8.set(bytes, pa);
  }

  #check(pa: number, len: number): void {
    if (!Number.isInteger(len) || len < 0 || pa >>> 0 !== pa || pa + len > this.size) {
      throw this.#bad(pa, len);
    }
  }

  #bad(pa: number, len: number): RangeError {
    return new RangeError(
      `physical access out of range: pa=${pa} len=${len} (memory size ${this.size})`,
    );
  }
}
