import { describe, expect, test } from "vitest";
import { ANY, SELF, VM_PROC_NR } from "../include/endpoint.ts";
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
  sysVsafecopy,
  sysVmctlGetMemreq,
  sysVmctlReplyMemreq,
  UMessage,
  type BootImageEntry,
  type Syscall,
} from "../../test/system_harness.ts";
import {
  expectSameBytes,
  fill,
  grantPair,
  GRANTOR,
  pattern,
  read,
  REQUESTOR,
  type PairSpec,
} from "../../test/fixtures/grants.ts";
import { COW_SAFECOPY_MIN_DEFAULT } from "./cow_safecopy.ts";

const LEN = 4 * PAGE_SIZE;

/**
 * A page-aligned safecopy of `len` bytes with a stand-in VM that refuses every request it is
 * asked (as VM does on EFAULT, EINVAL, ENOMEM), so the copy can only succeed by the plain
 * path: the memory requests VM saw, the copy's status, and the bytes that arrived.
 */
function copyRefused(
  options: NonNullable<PairSpec["options"]>,
  len = LEN,
  vector = false,
): { memreqs: number[]; copied: number; got: Uint8Array } {
  const memreqs: number[] = [];
  let gid = -1;
  let copied = -1;
  let got = new Uint8Array(0);
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
    options,
    extra: [vm],
    dataPages: 2 * (len / PAGE_SIZE) + 4,
    grantor: function* (ctx) {
      const src = malloc(ctx, len, PAGE_SIZE);
      yield* fill(ctx, src, len, 3);
      gid = yield* cpfGrantDirect(ctx, REQUESTOR, src, len, CPF_READ);
    },
    requestor: function* (ctx) {
      const dst = malloc(ctx, len, PAGE_SIZE);
      copied = vector
        ? (yield* sysVsafecopy(ctx, [
            { from: GRANTOR, to: SELF, gid, offset: 0, addr: dst, bytes: len },
          ])).status
        : yield* sysSafecopyFrom(ctx, GRANTOR, gid, 0, dst, len);
      got = yield* read(ctx, dst, len);
    },
  });
  return { memreqs, copied, got };
}

/**
 * Whether VM is asked to share the pages; where it is, it refuses, and the kernel re-executes
 * the call and copies plainly: the data arrives either way.
 */
describe("when COW safecopy is asked of VM", () => {
  const on = { cowSafecopy: true, cowSafecopyMin: PAGE_SIZE };
  test.each<[string, NonNullable<PairSpec["options"]>, number, boolean, number[]]>([
    ["above the threshold", on, LEN, false, [VMPTYPE_COWMAP]],
    ["at the threshold", { ...on, cowSafecopyMin: LEN }, LEN, false, [VMPTYPE_COWMAP]],
    ["below the threshold: plain", { ...on, cowSafecopyMin: LEN + PAGE_SIZE }, LEN, false, []],
    ["switched off: plain", { ...on, cowSafecopy: false }, LEN, false, []],
    ["by default, below 256 KiB: plain", {}, COW_SAFECOPY_MIN_DEFAULT - PAGE_SIZE, false, []],
    ["by default, at 256 KiB", {}, COW_SAFECOPY_MIN_DEFAULT, false, [VMPTYPE_COWMAP]],
    ["never for SYS_VSAFECOPY", on, LEN, true, []],
  ])("%s", (_what, options, len, vector, want) => {
    const { memreqs, copied, got } = copyRefused(options, len, vector);
    expect(memreqs).toEqual(want);
    expect(copied).toBe(OK);
    expectSameBytes(got, pattern(len, 3));
  });
});
