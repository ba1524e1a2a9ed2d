import { describe, expect, test } from "vitest";
import { VM_PROC_NR, type Endpoint } from "../../include/endpoint.ts";
import { ENOMEM, OK } from "../../include/errno.ts";
import { CPF_MAP, CPF_READ, CPF_WRITE } from "../../include/grant.ts";
import { VMPTYPE_SMAP, VMPTYPE_SUNMAP } from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { RTS_VMREQTARGET } from "../proc.ts";
import {
  bootImage,
  cpfGrantDirect,
  malloc,
  PAGE_SIZE,
  receive,
  runChecked,
  send,
  settle,
  sysClear,
  sysSafemap,
  sysSaferevmapGid,
  sysVmctlGetMemreq,
  sysVmctlReplyMemreq,
  type Machine,
  type Syscall,
} from "../../../test/system_harness.ts";

const G = 11 as Endpoint;
const R = 12 as Endpoint;
const BYTES = 2 * PAGE_SIZE;

type Program = (ctx: ProcessContext) => Syscall;

/** Boots the stand-in VM, the grantor G and the requestor R; `ref.m` is the machine. */
function bootTrio(
  vm: Program,
  grantor: Program,
  requestor: Program,
  ref: { m?: Machine },
): Machine {
  ref.m = bootImage([
    { name: "vm", slot: VM_PROC_NR, priority: 1, program: vm },
    { name: "grantor", slot: G, priority: 2, program: grantor },
    { name: "requestor", slot: R, priority: 3, program: requestor },
  ]);
  return ref.m;
}

/**
 * The kernel side of safemap against a stand-in VM that answers each memory request as told:
 * what MEMREQ_GET reports for map requests, that the caller learns VM's result, that a failed
 * map leaves no record while a failed unmap keeps it, and that the grantee of an unmap waits
 * (RTS_VMREQTARGET) until VM has answered or the requestor is gone.
 */
describe("SYS_SAFEMAP / SYS_SAFEREVMAP with a stand-in VM", () => {
  test("MEMREQ_GET names both sides; VM's ENOMEM reaches the caller (an unmap's keeps the record); SUNMAP holds the grantee", () => {
    const seen: Record<string, number>[] = [];
    const log: Record<string, number> = {};
    const bufs = { g: 0, r: 0, gid: -1 };
    const ref: { m?: Machine } = {};
    const answers = [ENOMEM, OK, ENOMEM, OK];
    function* vm(ctx: ProcessContext): Syscall {
      const box = malloc(ctx, 64, 64);
      for (const answer of answers) {
        yield* receive(-2 as Endpoint, box); // SYSTEM's SIGKMEM notification
        const q = yield* sysVmctlGetMemreq(ctx);
        const { target, addr, length, flag, requestor, ep2, addr2 } = q.reply;
        const held = ((ref.m?.kernel.isokendpt(R)?.rtsFlags ?? 0) & RTS_VMREQTARGET) !== 0;
        seen.push({
          type: q.status,
          target,
          addr,
          length,
          flag,
          requestor,
          ep2,
          addr2,
          held: +held,
        });
        yield* sysVmctlReplyMemreq(ctx, requestor, answer);
      }
      return 0;
    }
    function* grantor(ctx: ProcessContext): Syscall {
      const buf = malloc(ctx, BYTES, PAGE_SIZE);
      bufs.g = buf;
      bufs.gid = yield* cpfGrantDirect(ctx, R, buf, BYTES, CPF_READ | CPF_WRITE | CPF_MAP);
      const box = malloc(ctx, 64, 64);
      yield* receive(R, box); // R has mapped
      log.revmapNomem = yield* sysSaferevmapGid(ctx, bufs.gid);
      log.recordsKept = ref.m?.kernel.mapinfo.records().length ?? -1;
      log.revmap = yield* sysSaferevmapGid(ctx, bufs.gid);
      log.recordsAfter = ref.m?.kernel.mapinfo.records().length ?? -1;
      log.heldAfter = ((ref.m?.kernel.isokendpt(R)?.rtsFlags ?? 0) & RTS_VMREQTARGET) !== 0 ? 1 : 0;
      return 0;
    }
    function* requestor(ctx: ProcessContext): Syscall {
      const buf = malloc(ctx, BYTES, PAGE_SIZE);
      bufs.r = buf;
      log.first = yield* sysSafemap(ctx, G, bufs.gid, 0, buf, BYTES, true);
      log.recordsAfterFailure = ref.m?.kernel.mapinfo.records().length ?? -1;
      log.second = yield* sysSafemap(ctx, G, bufs.gid, 0, buf, BYTES, false);
      log.records = ref.m?.kernel.mapinfo.records().length ?? -1;
      const box = malloc(ctx, 64, 64);
      yield* send(G, box);
      return 0;
    }
    const m = bootTrio(vm, grantor, requestor, ref);
    settle(m);
    const smap = { type: VMPTYPE_SMAP, target: R, addr: bufs.r, length: BYTES };
    const src = { requestor: R, ep2: G, addr2: bufs.g };
    const sunmap = {
      type: VMPTYPE_SUNMAP,
      target: R,
      addr: bufs.r,
      length: BYTES,
      flag: 0,
      requestor: G,
      ep2: G,
      addr2: bufs.g,
      held: 1,
    };
    expect(seen).toEqual([
      { ...smap, ...src, flag: 1, held: 0 },
      { ...smap, ...src, flag: 0, held: 0 },
      sunmap,
      sunmap,
    ]);
    expect(log).toEqual({
      first: ENOMEM,
      recordsAfterFailure: 0,
      second: OK,
      records: 1,
      revmapNomem: ENOMEM,
      recordsKept: 1,
      revmap: OK,
      recordsAfter: 0,
      heldAfter: 0,
    });
    expect(m.kernel.mapinfo.pending.size).toBe(0);
  });

  test("a grantor cleared while VM unmaps for its saferevmap: the grantee is held no longer", () => {
    const log: Record<string, number> = {};
    const ref: { m?: Machine } = {};
    const held = (): number =>
      ((ref.m?.kernel.isokendpt(R)?.rtsFlags ?? 0) & RTS_VMREQTARGET) !== 0 ? 1 : 0;
    const bufs = { gid: -1 };
    function* vm(ctx: ProcessContext): Syscall {
      const box = malloc(ctx, 64, 64);
      yield* receive(-2 as Endpoint, box); // the map
      const q = yield* sysVmctlGetMemreq(ctx);
      yield* sysVmctlReplyMemreq(ctx, q.reply.requestor, OK);
      yield* receive(-2 as Endpoint, box); // the unmap: never answered
      log.unmap = (yield* sysVmctlGetMemreq(ctx)).status;
      log.heldBefore = held();
      log.clear = yield* sysClear(ctx, G);
      log.heldAfter = held();
      return 0;
    }
    function* grantor(ctx: ProcessContext): Syscall {
      const buf = malloc(ctx, BYTES, PAGE_SIZE);
      bufs.gid = yield* cpfGrantDirect(ctx, R, buf, BYTES, CPF_READ | CPF_WRITE | CPF_MAP);
      yield* receive(R, malloc(ctx, 64, 64)); // R has mapped
      log.revmap = yield* sysSaferevmapGid(ctx, bufs.gid); // never returns
      return 0;
    }
    function* requestor(ctx: ProcessContext): Syscall {
      const buf = malloc(ctx, BYTES, PAGE_SIZE);
      log.map = yield* sysSafemap(ctx, G, bufs.gid, 0, buf, BYTES, true);
      yield* send(G, malloc(ctx, 64, 64));
      log.after = 1; // runs again once G is gone
      return 0;
    }
    const m = bootTrio(vm, grantor, requestor, ref);
    runChecked(m);
    expect(log).toEqual({
      map: OK,
      unmap: VMPTYPE_SUNMAP,
      heldBefore: 1,
      clear: OK,
      heldAfter: 0,
      after: 1,
    });
    expect(m.kernel.mapinfo.records()).toEqual([]);
    expect(m.kernel.mapinfo.pending.size).toBe(0);
  });
});
