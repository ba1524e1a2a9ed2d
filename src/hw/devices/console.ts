// The console device (a UART): an output log plus a time-stamped input queue.

/** A listener for console output. */
export type OutputListener = (text: string) => void;

/**
 * Console output and input. It emits no machine events itself; the kernel does.
 * Input bytes are queued FIFO with the simulated cycle at which they arrive.
 */
export class Console {
  #out = "";
  #listeners: readonly OutputListener[] = [];
  #inBytes: Uint8Array[] = [];
  #inAt: number[] = [];
  #head = 0;

  /** Appends `text` to the output and passes it to every output listener. */
  write(text: string): void {
    if (text.length === 0) return;
    this.#out += text;
    const ls = this.#listeners;
    for (let i = 0; i < ls.length; i++) ls[i]?.(text);
  }

  /** Everything written since construction or the last `clear()`. */
  output(): string {
    return this.#out;
  }

  /** Forgets the output written so far (listeners stay subscribed). */
  clear(): void {
    this.#out = "";
  }

  /**
   * Calls `fn` with each later `write`'s text.
   * @returns a function that removes this subscription (idempotent).
   */
  onOutput(fn: OutputListener): () => void {
    const entry: OutputListener = (t) => fn(t);
    this.#listeners = [...this.#listeners, entry];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== entry);
    };
  }

  /**
   * Queues a copy of `bytes` as input arriving at simulated cycle `atCycle`.
   * @throws RangeError if `atCycle` is negative or earlier than the last queued input.
   */
  pushInput(bytes: Uint8Array, atCycle: number): void {
    const last = this.#inAt.length > this.#head ? this.#inAt[this.#inAt.length - 1] : undefined;
    if (!(atCycle >= 0) || (last !== undefined && atCycle < last)) {
      throw new RangeError(`input time ${atCycle} is negative or earlier than queued input`);
    }
    this.#inBytes.push(bytes.slice());
    this.#inAt.push(atCycle);
  }

  /** The arrival cycle of the oldest queued input, or undefined if none is queued. */
  nextInputAt(): number | undefined {
    return this.#inAt[this.#head];
  }

  /**
   * Removes and returns the oldest queued input, if it has arrived by cycle `now`
   * (by default at every time). Returns undefined otherwise.
   */
  takeInput(now: number = Infinity): Uint8Array | undefined {
    const at = this.#inAt[this.#head];
    if (at === undefined || at > now) return undefined;
    const bytes = this.#inBytes[this.#head];
    this.#head++;
    if (this.#head === this.#inAt.length) {
      this.#inBytes = [];
      this.#inAt = [];
      this.#head = 0;
    }
    return bytes;
  }
}
