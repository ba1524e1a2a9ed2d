// The machine's typed event stream: what the kernel reports for tracing, tests and UIs.

/**
 * One observable machine event. `t` is the simulated time in cycles at emission;
 * endpoints are plain numbers at this layer.
 */
export type MachineEvent =
  | { kind: "trap"; t: number; ep: number; trap: string }
  | {
      kind: "ipc";
      t: number;
      call: string;
      src: number;
      dst: number;
      mtype: number;
      result: number;
    }
  | { kind: "kcall"; t: number; ep: number; call: string; result: number }
  | { kind: "fault"; t: number; ep: number; addr: number; write: boolean }
  | { kind: "tick"; t: number; ticks: number }
  | { kind: "switch"; t: number; ep: number }
  | { kind: "exit"; t: number; ep: number; status: number; reason: string }
  | { kind: "notify"; t: number; src: number; dst: number }
  | { kind: "console"; t: number; text: string }
  | { kind: "panic"; t: number; message: string }
  | { kind: "vmreq"; t: number; ep: number; target: number; addr: number; len: number };

export type EventKind = MachineEvent["kind"];

/** A listener for machine events. */
export type EventListener = (e: MachineEvent) => void;

/**
 * Synchronous fan-out of machine events. Emitters should test `active` before building
 * an event object so that tracing costs nothing when nobody listens.
 */
export class EventStream {
  #listeners: readonly EventListener[] = [];
  #active = false;

  /** True iff at least one listener is subscribed. */
  get active(): boolean {
    return this.#active;
  }

  /**
   * Adds `fn`; it sees every event emitted from now on, in subscription order.
   * @returns a function that removes this subscription (idempotent).
   */
  subscribe(fn: EventListener): () => void {
    const entry: EventListener = (e) => fn(e);
    this.#set([...this.#listeners, entry]);
    return () => {
      this.#set(this.#listeners.filter((l) => l !== entry));
    };
  }

  /**
   * Delivers `e` synchronously to the listeners subscribed when the emit began
   * (subscription changes made by a listener apply to later emits). An exception
   * thrown by a listener propagates to the emitter and the remaining listeners
   * do not see this event.
   */
  emit(e: MachineEvent): void {
    const ls = this.#listeners;
    for (let i = 0; i < ls.length; i++) ls[i]?.(e);
  }

  #set(ls: readonly EventListener[]): void {
    this.#listeners = ls;
    this.#active = ls.length > 0;
  }
}
