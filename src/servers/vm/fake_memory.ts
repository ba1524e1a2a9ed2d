/**
 * TEST-ONLY fakes for VM's unit tests (*.test.ts in this folder): physical memory as a plain
 * byte array and a frame allocator over a range of frames. VM itself never imports this file.
 */
import { I386_PAGE_SIZE } from "../../include/vmpt.ts";
import type { FrameSource, PhysAccess } from "./pagetable.ts";

/** Little-endian word access over a byte array, filled with `fill`; out-of-range accesses throw. */
export class FakePhysMemory implements PhysAccess {
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  constructor(size: number, fill = 0) {
    this.bytes = new Uint8Array(size).fill(fill);
    this.#view = new DataView(this.bytes.buffer);
  }

  read32(pa: number): number {
    return this.#view.getUint32(pa, true);
  }

  write32(pa: number, v: number): void {
    this.#view.setUint32(pa, v >>> 0, true);
  }

  zero(pa: number, len: number): void {
    if (pa + len > this.bytes.length) throw new RangeError("zero out of range");
    this.bytes.fill(0, pa, pa + len);
  }

  copy(dst: number, src: number, len: number): void {
    if (dst + len > this.bytes.length || src + len > this.bytes.length) {
      throw new RangeError("copy out of range");
    }
    this.bytes.copyWithin(dst, src, src + len);
  }
}

/** Hands out frames [first, first+count) lowest first; tracks which are live. */
export class FakeFrames implements FrameSource {
  readonly live = new Set<number>();
  readonly #free: number[] = [];
  /** Allocations left before allocFrame starts failing (Infinity: never). */
  budget = Infinity;

  constructor(first: number, count: number) {
    for (let i = count - 1; i >= 0; i--) this.#free.push((first + i) * I386_PAGE_SIZE);
  }

  allocFrame(): number {
    if (this.budget <= 0) return -1;
    const f = this.#free.pop();
    if (f === undefined) return -1;
    this.budget--;
    this.live.add(f);
    return f;
  }

  freeFrame(pa: number): void {
    if (!this.live.delete(pa)) throw new Error(`double free of ${pa}`);
    this.#free.push(pa);
  }
}
