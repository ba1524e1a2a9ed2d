import { describe, expect, test } from "vitest";
import { ANY, VM_PROC_NR } from "../include/endpoint.ts";
import { EFAULT, ESRCH, OK } from "../include/errno.ts";
import { CPF_READ } from "../include/grant.ts";
import { VMPTYPE_COWMAP } from "../include/kcall.ts";
import type { ProcessContext } from "../include/trap.ts";
import {
  cpfGrantDirect,
  malloc,
  PAGE_SIZE,
  receive,
  sysSafecopyFrom,
  sysVmctlGetMemreq,
  sysVmctlReplyMemreq,
  UMessage,
  type BootImageEntry,
  type Syscall,
} from "../../test/system_harness.ts";
import { fill, grantPair, GRANTOR, pattern, read, REQUESTOR } from "../../test/fixtures/grants.ts";

const LEN = 4 * PAGE_SIZE;

describe("COW safecopy when VM refuses the share", () => {
  test("the kernel re-executes the call and copies plainly: the data arrives", () => {
    const memreqs: number[] = [];
    let gid = -1;
    let copied = -1;
    let got = new Uint8Array(0);
    // A stand-in VM that refuses every request it is asked (as VM does on EFAULT, EINVAL,
    // ENOMEM), so the copy can only succeed by the plain path.
    const vm: BootImageEntry = {
      name: "vm",
      slot: VM_PROC_NR,
      program: function* (ctx: ProcessContext): Syscall {
        const um = new UMessage(ctx, malloc(ctx, 64, 64));
        for (;;) {
          yield* receive(ANY, um.va);
          for (;;) {
            const r = yield* sysVmctlGetMemreq(ctx);
            if (r.status === ESRCH) break;
            memreqs.push(r.status);
            yield* sysVmctlReplyMemreq(ctx, r.reply.requestor, EFAULT);
          }
        }
      },
    };
    grantPair({
      options: { cowSafecopy: true, cowSafecopyMin: 2 * PAGE_SIZE },
      extra: [vm],
      grantor: function* (ctx) {
        const src = malloc(ctx, LEN, PAGE_SIZE);
        yield* fill(ctx, src, LEN, 3);
        gid = yield* cpfGrantDirect(ctx, REQUESTOR, src, LEN, CPF_READ);
      },
      requestor: function* (ctx) {
        const dst = malloc(ctx, LEN, PAGE_SIZE);
        copied = yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, dst, LEN);
        got = yield* read(ctx, dst, LEN);
      },
    });
    expect(memreqs).toEqual([VMPTYPE_COWMAP]);
    expect(copied).toBe(OK);
    expect(got).toEqual(pattern(LEN, 3));
  });
});
