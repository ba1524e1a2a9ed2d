/**
 * VM_WATCH_EXIT (seed 003, MINIX-SPEC §9.3): PM reports every exit and caught signal to VM
 * (VM_NOTIFY_SIG, with the IPC server found by its name "ipc" in PM's table); VM records and
 * passes on only the processes the IPC server watches, and the IPC server drains them with
 * VM_QUERY_EXIT. A small stand-in IPC server (in a system-server slot, so VM lets it make the
 * privileged calls) watches the clients that send request 1, not those that send request 2,
 * and answers no one (as if they were blocked in semop).
 */
import { describe, expect, test } from "vitest";
import { ANY, NONE, PFS_PROC_NR, VM_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import { EPERM, OK } from "../src/include/errno.ts";
import { isIpcNotify } from "../src/include/ipc.ts";
import { defineLayout } from "../src/include/message.ts";
import { SIG_BLOCK } from "../src/include/pm.ts";
import { SIGTERM, SIGUSR1 } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { receive, sendrec, type IpcStatus, type Syscall } from "../src/lib/ipc.ts";
import { vmNotifySig, vmQueryExit, vmWatchExit } from "../src/lib/libc/vm_ipc.ts";
import {
  fork,
  getppid,
  kill,
  sigaction,
  sigmask,
  sigprocmask,
  sigsuspend,
  waitpid,
} from "../src/lib/libc/pm.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { bootPm, runPm } from "./fixtures/pm.ts";

const IPC = PFS_PROC_NR;
const REQ = defineLayout({ ppid: "i32" });

describe("VM_WATCH_EXIT", () => {
  test("only watched clients' exits reach the IPC server; the calls are privileged", () => {
    const watched: Endpoint[] = [];
    const unwatched: Endpoint[] = [];
    const reported: Endpoint[] = [];
    const userGot: unknown[] = [];
    function* ipc(ctx: ProcessContext): Syscall {
      const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
      const status: IpcStatus = { value: 0 };
      for (;;) {
        if ((yield* receive(ANY, um.va, status)) !== OK) return 1;
        const m = yield* um.get();
        if (isIpcNotify(status.value)) {
          if (m.source !== VM_PROC_NR) continue;
          for (let i = 0; i < 10; i++) {
            const q = yield* vmQueryExit(ctx);
            if (q.status !== OK || q.endpoint === NONE) break;
            reported.push(q.endpoint);
            if (!q.more) break;
          }
          continue;
        }
        const src = m.source;
        const { ppid } = m.get(REQ);
        if (m.type === 1) {
          if ((yield* vmWatchExit(ctx, src)) === OK) watched.push(src);
        } else {
          unwatched.push(src);
        }
        // The client is now blocked here: tell its parent it may go on.
        yield* kill(ctx, ppid, SIGUSR1);
      }
    }
    function client(type: number) {
      return function* (c: ProcessContext): Syscall {
        const um = new UMessage(c, malloc(c, UMessage.SIZE, 64));
        um.m.set(type, REQ, { ppid: yield* getppid(c) });
        yield* um.put();
        yield* sendrec(IPC, um.va); // never answered
        return 0;
      };
    }
    function* main(ctx: ProcessContext): Syscall {
      userGot.push(yield* vmWatchExit(ctx, IPC), yield* vmNotifySig(ctx, IPC, IPC));
      userGot.push((yield* vmQueryExit(ctx)).status);
      yield* sigaction(ctx, SIGUSR1, function* () {});
      yield* sigprocmask(ctx, SIG_BLOCK, sigmask(SIGUSR1));
      const pids: number[] = [];
      for (const type of [1, 2, 1]) {
        pids.push(yield* fork(ctx, client(type)));
        yield* sigsuspend(ctx, 0);
      }
      for (const pid of pids) {
        yield* kill(ctx, pid, SIGTERM);
        userGot.push(yield* waitpid(ctx, pid));
      }
      return 0;
    }
    const { m } = bootPm(
      { main },
      { extra: [{ name: "ipc", slot: IPC, priority: 5, program: ipc }] },
    );
    runPm(m);
    expect(userGot.slice(0, 3)).toEqual([EPERM, EPERM, EPERM]);
    expect(userGot.slice(3).map((r) => (r as { status: number }).status)).toEqual([
      SIGTERM,
      SIGTERM,
      SIGTERM,
    ]);
    expect(watched).toHaveLength(2);
    expect(unwatched).toHaveLength(1);
    expect(reported).toEqual(watched);
  });
});
