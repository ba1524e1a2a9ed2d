/**
 * RS's calls to PM (MINIX-SPEC §7.2, §7.4, §6.7): srv_fork makes a child that keeps system
 * status and waits in RTS_NO_PRIV, srv_exec runs a program in it, srv_kill ends it at once and
 * RS reaps it; getepinfo; every srv_* call from anyone but RS is EPERM. A system process in RS's
 * slot (its own signal manager) stands in for RS.
 */
import { describe, expect, test } from "vitest";
import { ANY, RS_PROC_NR } from "../src/include/endpoint.ts";
import { ENOENT, EPERM, ESRCH, OK } from "../src/include/errno.ts";
import { SYS_PRIV_ALLOW, SYS_PRIV_SET_SYS } from "../src/include/kcall.ts";
import { WNOHANG } from "../src/include/pm.ts";
import { SIGKILL } from "../src/include/signal.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { receive, type Syscall } from "../src/lib/ipc.ts";
import { getpid, waitpid } from "../src/lib/libc/pm.ts";
import { sysPrivctl } from "../src/lib/libsys/sys_misc.ts";
import { getEpinfo, getNprocnr, srvExec, srvFork, srvKill } from "../src/lib/libsys/srv.ts";
import { malloc } from "../src/lib/runtime.ts";
import { bootPm, runPm } from "./fixtures/pm.ts";

describe("srv_fork / srv_exec / srv_kill", () => {
  test("RS forks, execs, allows and kills a service, then reaps it; others get EPERM", () => {
    const rsGot: unknown[] = [];
    const userGot: unknown[] = [];
    const svcGot: unknown[] = [];
    let rtsAfterFork = "";
    function* svc(ctx: ProcessContext): Syscall {
      svcGot.push([...ctx.argv]);
      yield* receive(ANY, malloc(ctx, 64, 64));
      return 0;
    }
    function* main(ctx: ProcessContext): Syscall {
      userGot.push(yield* srvFork(ctx));
      userGot.push(yield* srvKill(ctx, 1, SIGKILL));
      userGot.push(yield* srvExec(ctx, RS_PROC_NR, "svc", []));
      return 0;
    }
    function* rs(ctx: ProcessContext): Syscall {
      const me = yield* getpid(ctx);
      const f = yield* srvFork(ctx);
      if (typeof f === "number") {
        rsGot.push(f);
        return 1;
      }
      rtsAfterFork = m.snapshot().procs.find((p) => p.endpoint === f.endpoint)?.rts ?? "";
      const info = yield* getEpinfo(ctx, f.endpoint);
      rsGot.push(info, yield* getNprocnr(ctx, f.pid));
      rsGot.push(yield* srvExec(ctx, f.endpoint, "nosuch", []));
      rsGot.push(yield* srvExec(ctx, f.endpoint, "svc", ["--x"]));
      rsGot.push(yield* sysPrivctl(ctx, f.endpoint, SYS_PRIV_SET_SYS));
      rsGot.push(yield* sysPrivctl(ctx, f.endpoint, SYS_PRIV_ALLOW));
      yield* getpid(ctx); // the service runs meanwhile
      rsGot.push(yield* srvKill(ctx, f.pid, SIGKILL));
      rsGot.push(yield* getEpinfo(ctx, f.endpoint));
      const w = yield* waitpid(ctx, -1, WNOHANG);
      rsGot.push(w);
      rsGot.push(typeof info === "number" ? info : info.ppid === me && info.pid === f.pid);
      return 0;
    }
    const { m } = bootPm(
      { main, svc },
      {
        extra: [
          { name: "rs", slot: RS_PROC_NR, priority: 9, priv: { sigMgr: RS_PROC_NR }, program: rs },
        ],
      },
    );
    runPm(m);
    expect(userGot).toEqual([EPERM, EPERM, EPERM]);
    expect(rtsAfterFork).toContain("NO_PRIV");
    expect(svcGot).toEqual([["--x"]]);
    const [info, byPid, ...rest] = rsGot;
    expect(info).toEqual(byPid);
    expect(rest).toEqual([
      ENOENT,
      OK,
      OK,
      OK,
      OK,
      ESRCH,
      { pid: (info as { pid: number }).pid, status: SIGKILL },
      true,
    ]);
  });
});
