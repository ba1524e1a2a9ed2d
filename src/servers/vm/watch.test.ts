import { describe, expect, test } from "vitest";
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { ENOMEM, OK } from "../../include/errno.ts";
import type { Trap } from "../../include/trap.ts";
import { vmWorld } from "./test_world.ts";
import type { Vm } from "./vm.ts";
import { doNotifySig, doQueryExit, doWatchExit, NR_EXIT_PENDING } from "./watch.ts";

const IPC = 9 as Endpoint;

/** Runs VM_NOTIFY_SIG; returns its status and the traps it made (a NOTIFY to the IPC server). */
function notifySig(vm: Vm, ep: number, ipc = IPC): { status: number; traps: Trap[] } {
  const gen = doNotifySig(vm, 0 as Endpoint, { endpoint: ep as Endpoint, ipcEndpoint: ipc });
  const traps: Trap[] = [];
  for (let r = gen.next(); ; r = gen.next(OK)) {
    if (r.done === true) return { status: r.value.status, traps };
    traps.push(r.value);
  }
}

describe("VM_WATCH_EXIT / VM_NOTIFY_SIG / VM_QUERY_EXIT", () => {
  test("only watched endpoints are recorded, each once, in order; the IPC server is not told about itself", () => {
    const { vm } = vmWorld(16, 1, []);
    expect(notifySig(vm, 100)).toEqual({ status: OK, traps: [] });
    doWatchExit(vm, IPC, { endpoint: 100 as Endpoint });
    doWatchExit(vm, IPC, { endpoint: 101 as Endpoint });
    doWatchExit(vm, IPC, { endpoint: IPC });
    expect(notifySig(vm, 101).traps).toHaveLength(1);
    expect(notifySig(vm, 100).traps).toHaveLength(1);
    expect(notifySig(vm, 101).status).toBe(OK); // a duplicate: recorded once
    expect(notifySig(vm, IPC).traps).toHaveLength(0);
    expect(doQueryExit(vm)).toEqual({ status: OK, endpoint: 101, more: 1 });
    expect(doQueryExit(vm)).toEqual({ status: OK, endpoint: 100, more: 1 });
    expect(doQueryExit(vm)).toEqual({ status: OK, endpoint: IPC, more: 0 });
    expect(doQueryExit(vm)).toEqual({ status: OK, endpoint: NONE, more: 0 });
  });

  test("a full table is ENOMEM", () => {
    const { vm } = vmWorld(16, 1, []);
    for (let i = 0; i <= NR_EXIT_PENDING; i++)
      doWatchExit(vm, IPC, { endpoint: (1000 + i) as Endpoint });
    for (let i = 0; i < NR_EXIT_PENDING; i++) expect(notifySig(vm, 1000 + i).status).toBe(OK);
    expect(notifySig(vm, 1000 + NR_EXIT_PENDING).status).toBe(ENOMEM);
    doQueryExit(vm);
    expect(notifySig(vm, 1000 + NR_EXIT_PENDING).status).toBe(OK);
  });
});
