import { describe, expect, test } from "vitest";
import { ANY, type Endpoint } from "../../include/endpoint.ts";
import { EINVAL, ENOENT, EPERM, OK } from "../../include/errno.ts";
import { SIGUSR1, SIGUSR2 } from "../../include/signal.ts";
import type { ProcessContext, SigEntry } from "../../include/trap.ts";
import {
  bootImage,
  malloc,
  receive,
  runChecked,
  send,
  sendrec,
  sysGetksig,
  sysSigreturn,
  sysSigsend,
  type Syscall,
} from "../../../test/system_harness.ts";

const MGR = 0 as Endpoint; // PM's slot: its first GETKSIG makes it the manager of users
const USER = 12 as Endpoint;
const SYSP = 13 as Endpoint;

describe("SYS_SIGSEND / SYS_SIGRETURN", () => {
  test("frames run the signal entry before the interrupted code resumes; errors change nothing", () => {
    const mgrGot: unknown[] = [];
    const log: unknown[] = [];
    const entry: SigEntry = function* (ctx, sig) {
      log.push(["entry", sig]);
      // Ask the manager to pop the frame (as PM_SIGRETURN does); no answer comes back.
      yield* sendrec(MGR, malloc(ctx, 64, 64));
      log.push("not reached");
      return 0;
    };
    const m = bootImage([
      {
        name: "mgr",
        slot: MGR,
        priority: 6,
        program: function* (ctx) {
          const buf = malloc(ctx, 64, 64);
          yield* sysGetksig(ctx);
          yield* receive(USER, buf); // the user is ready (entry registered) and waits
          mgrGot.push(yield* sysSigsend(ctx, 99 as Endpoint, SIGUSR1));
          mgrGot.push(yield* sysSigsend(ctx, USER, 0));
          mgrGot.push(yield* sysSigsend(ctx, USER, 32));
          mgrGot.push(yield* sysSigsend(ctx, SYSP, SIGUSR1));
          mgrGot.push(yield* sysSigreturn(ctx, USER)); // no frame yet
          mgrGot.push(yield* sysSigsend(ctx, USER, SIGUSR2));
          mgrGot.push(yield* sysSigsend(ctx, USER, SIGUSR1));
          yield* send(USER, buf); // answer the user's request: it resumes, entries run first
          yield* receive(USER, buf); // the entry for SIGUSR1 asks for sigreturn
          mgrGot.push(yield* sysSigreturn(ctx, USER));
          yield* receive(USER, buf); // then the entry for SIGUSR2
          mgrGot.push(yield* sysSigreturn(ctx, USER));
          yield* receive(USER, buf); // the user's code again
          mgrGot.push(yield* sysSigreturn(ctx, USER));
          return 0;
        },
      },
      {
        name: "user",
        slot: USER,
        priority: 7,
        priv: "user",
        program: function* (ctx: ProcessContext): Syscall {
          const buf = malloc(ctx, 64, 64);
          log.push(["sigentry", yield { kind: "sigentry", entry }]);
          log.push(["call", yield* sendrec(MGR, buf)]);
          log.push("resumed");
          yield* sendrec(MGR, buf);
          return 0;
        },
      },
      {
        name: "sysp",
        slot: SYSP,
        priority: 8,
        program: function* (ctx) {
          yield* receive(ANY, malloc(ctx, 64, 64));
          return 0;
        },
      },
    ]);
    runChecked(m);
    expect(mgrGot).toEqual([EINVAL, EINVAL, EINVAL, EPERM, EINVAL, OK, OK, OK, OK, EINVAL]);
    // Lowest signal first; each entry's sendrec is dropped by SIGRETURN; the call returns OK.
    expect(log).toEqual([
      ["sigentry", OK],
      ["entry", SIGUSR1],
      ["entry", SIGUSR2],
      ["call", OK],
      "resumed",
    ]);
  });

  test("without a registered entry SIGSEND is ENOENT; a non-manager gets EPERM", () => {
    const got: unknown[] = [];
    const m = bootImage([
      {
        name: "mgr",
        slot: MGR,
        priority: 6,
        program: function* (ctx) {
          yield* sysGetksig(ctx);
          yield* receive(USER, malloc(ctx, 64, 64));
          got.push(yield* sysSigsend(ctx, USER, SIGUSR1));
          return 0;
        },
      },
      {
        name: "user",
        slot: USER,
        priority: 7,
        priv: "user",
        program: function* (ctx) {
          yield* sendrec(MGR, malloc(ctx, 64, 64));
          return 0;
        },
      },
      {
        name: "other",
        slot: SYSP,
        priority: 5,
        program: function* (ctx) {
          got.push(yield* sysSigsend(ctx, USER, SIGUSR1));
          got.push(yield* sysSigreturn(ctx, USER));
          return 0;
        },
      },
    ]);
    runChecked(m);
    expect(got).toEqual([EPERM, EPERM, ENOENT]);
  });
});
