/**
 * A buffer of the process's own memory mapped for direct loads and stores
 * (`CpuPort.mapWords`): the library reaches its message and key buffers through it without a
 * copy through the CPU port. It maps again whenever the TLB changed; while the buffer cannot
 * be mapped (not present, read-only, across a page) callers use the copying calls, which
 * fault and are retried.
 */
import type { CpuPort } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";

export class MappedBuffer {
  readonly #cpu: CpuPort;
  readonly #va: VirAddr;
  readonly #n: number;
  #words: Uint32Array | null = null;
  #bytes: Uint8Array | null = null;
  #tlbGen = -1;

  /** `bytes` (rounded up to words) at `va`, word aligned. */
  constructor(cpu: CpuPort, va: VirAddr, bytes: number) {
    this.#cpu = cpu;
    this.#va = va;
    this.#n = Math.ceil(bytes / 4);
  }

  /** The buffer's words in memory, or null while it cannot be mapped. */
  words(): Uint32Array | null {
    if (this.#cpu.tlbGen !== this.#tlbGen) this.#map();
    return this.#words;
  }

  /** The buffer's bytes in memory, or null while it cannot be mapped. */
  bytes(): Uint8Array | null {
    if (this.#cpu.tlbGen !== this.#tlbGen) this.#map();
    return this.#bytes;
  }

  #map(): void {
    const cpu = this.#cpu;
    const w = cpu.mapWords(this.#va, this.#n, this.#words);
    if (w !== this.#words) {
      this.#words = w;
      this.#bytes = w === null ? null : new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    }
    // Read after mapping: the translation itself may have changed the TLB.
    this.#tlbGen = cpu.tlbGen;
  }
}
