import { describe, expect, test } from "vitest";
import type { Endpoint } from "../include/endpoint.ts";
import { RECEIVE, SEND, SENDNB, SENDREC } from "../include/ipc.ts";
import { ANY, NONE } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import type { ProcessContext } from "../include/trap.ts";
import { Machine } from "../../test/system_harness.ts";
import { malloc } from "./runtime.ts";
import { UMessage } from "./umessage.ts";
import type { IpcTrap, Trap } from "../include/trap.ts";
import type { VirAddr } from "../include/types.ts";
import {
  FINISHED,
  ipcTrap,
  receive,
  sendrec,
  Returned,
  send,
  type IpcStatus,
  type Syscall,
  type TrapCall,
} from "./ipc.ts";

/** Runs `yield* call` by hand: the trap it yields, then its result for `r`. */
function drive(call: TrapCall, r: number, status = 0): { trap: Trap; result: number } {
  const it = call[Symbol.iterator]();
  const first = it.next();
  if (first.done === true) throw new Error("no trap");
  const trap = first.value;
  (trap as IpcTrap).status = status;
  const second = it.next(r);
  if (second.done !== true) throw new Error("more than one trap");
  return { trap: { ...trap }, result: second.value };
}

describe("IPC stubs", () => {
  test("yield exactly one IPC trap record and return the kernel's result and status", () => {
    const st: IpcStatus = { value: -1 };
    const { trap, result } = drive(receive(5 as Endpoint, 0x400040 as VirAddr, st), 7, 3);
    expect(trap).toMatchObject({ kind: "ipc", call: RECEIVE, srcDst: 5, msg: 0x400040 });
    expect(result).toBe(7);
    expect(st.value).toBe(3);
  });

  test("a finished call iterated again neither traps nor disturbs later calls", () => {
    const first = send(1 as Endpoint, 0x400000 as VirAddr);
    drive(first, 0);
    const again = first[Symbol.iterator]().next(9);
    expect(again.done).toBe(true);
    // Two calls in flight at once must get distinct records.
    const a = send(2 as Endpoint, 0x400000 as VirAddr)[Symbol.iterator]();
    const b = send(3 as Endpoint, 0x400000 as VirAddr)[Symbol.iterator]();
    const ta = a.next().value as IpcTrap;
    const tb = b.next().value as IpcTrap;
    expect(ta).not.toBe(tb);
    expect([ta.call, ta.srcDst, tb.srcDst]).toEqual([SEND, 2, 3]);
  });
});

describe("ipcTrap: a record a loop yields itself", () => {
  test("a server receives and answers through its own records; the kernel fills in the status", () => {
    const seen: number[] = [];
    const answers: number[] = [];
    const server = function* (ctx: ProcessContext): Syscall {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      const rx = ipcTrap(RECEIVE, ANY, um.va);
      const reply = ipcTrap(SENDNB, NONE, um.va);
      for (;;) {
        if ((yield rx) !== OK) continue;
        yield* um.get();
        seen.push(rx.status, um.m.type);
        um.m.type *= 2;
        yield* um.put();
        reply.srcDst = um.m.source;
        yield reply;
      }
    };
    const client = function* (ctx: ProcessContext): Syscall {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      for (const n of [3, 5]) {
        um.m.type = n;
        yield* um.put();
        const r = yield* sendrec(11 as Endpoint, um.va);
        answers.push(r, (yield* um.get()).type);
      }
      return 0;
    };
    const m = Machine.boot({
      image: [
        { name: "server", slot: 11, program: server },
        { name: "client", slot: 12, program: client },
      ],
    });
    m.runUntilIdle(1000);
    // The status word names the call the message came with (SENDREC), like receive's.
    expect(seen).toEqual([SENDREC, 3, SENDREC, 5]);
    expect(answers).toEqual([OK, 6, OK, 10]);
  });
});

describe("Returned: a call that finished without a trap", () => {
  test("yield* gets its value at once, as often as it is iterated", () => {
    const r: Syscall<number> = new Returned(42);
    function* caller(): Syscall<number[]> {
      return [yield* r, yield* r, (yield* FINISHED) ?? 0];
    }
    const out = caller().next();
    expect(out).toEqual({ done: true, value: [42, 42, 0] });
  });
});
