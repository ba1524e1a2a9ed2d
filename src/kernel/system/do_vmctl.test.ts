import { describe, expect, test } from "vitest";
import {
  ANY,
  makeEndpoint,
  SELF,
  SYSTEM,
  VM_PROC_NR,
  type Endpoint,
} from "../../include/endpoint.ts";
import { EBUSY, EFAULT, EINVAL, EPERM, ESRCH, OK } from "../../include/errno.ts";
import { NOTIFY_LAYOUT } from "../../include/ipc.ts";
import {
  GET_KINFO,
  KINFO_SIZE,
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_ENABLE_PAGING,
  VMCTL_FLUSHTLB,
  VMCTL_I386_INVLPG,
  VMCTL_I386_SETCR3,
  VMCTL_KERN_MAP_REPLY,
  VMCTL_KERN_PHYSMAP,
  VMCTL_GET_PDBR,
  VMCTL_MEMREQ_GET,
  VMCTL_SETADDRSPACE,
  VMPTYPE_CHECK,
} from "../../include/kcall.ts";
import { SIGKMEM } from "../../include/signal.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import {
  bootImage,
  DATA_BASE,
  idler,
  malloc,
  notify,
  PAGE_SIZE,
  peek,
  poke,
  receive,
  settle,
  sysGetinfo,
  sysVmctl,
  sysVmctlGetMemreq,
  sysVmctlReplyMemreq,
  UMessage,
  type BootImageEntry,
  type Syscall,
} from "../../../test/system_harness.ts";

const VM = VM_PROC_NR;
const C1 = 11 as Endpoint;
const C2 = 12 as Endpoint;

function vm(body: (ctx: ProcessContext) => Syscall<void>): BootImageEntry {
  return {
    name: "vm",
    slot: VM,
    program: function* (ctx) {
      yield* body(ctx);
      return 0;
    },
  };
}

describe("SYS_VMCTL", () => {
  test("only VM may call; every other caller gets EPERM", () => {
    const results: number[] = [];
    settle(
      bootImage([
        {
          name: "notvm",
          slot: C1,
          program: function* (ctx) {
            for (const param of [VMCTL_MEMREQ_GET, VMCTL_GET_PDBR, VMCTL_FLUSHTLB]) {
              results.push((yield* sysVmctl(ctx, SELF, param)).status);
            }
            results.push((yield* sysVmctl(ctx, C1, VMCTL_CLEAR_PAGEFAULT)).status);
            return 0;
          },
        },
      ]),
    );
    expect(results).toEqual([EPERM, EPERM, EPERM, EPERM]);
  });

  test("ENABLE_PAGING once; kernel device mappings: none; INVLPG drops one stale entry", () => {
    const results: number[] = [];
    const seen: number[] = [];
    const m = bootImage([
      vm(function* (ctx) {
        results.push((yield* sysVmctl(ctx, SELF, VMCTL_ENABLE_PAGING)).status);
        results.push((yield* sysVmctl(ctx, SELF, VMCTL_ENABLE_PAGING)).status);
        results.push((yield* sysVmctl(ctx, SELF, VMCTL_KERN_PHYSMAP, 0)).status);
        results.push((yield* sysVmctl(ctx, SELF, VMCTL_KERN_MAP_REPLY, 0)).status);
        // C1 reads its first data page (cached in the TLB), the test swaps the frame behind
        // it, and the stale translation stays until VM invalidates that one entry.
        yield* notify(C1);
        yield* receive(C1, malloc(ctx, 64, 64));
        results.push((yield* sysVmctl(ctx, C1, VMCTL_I386_INVLPG, DATA_BASE)).status);
        results.push((yield* sysVmctl(ctx, makeEndpoint(1, C1), VMCTL_I386_INVLPG, 0)).status);
        yield* notify(C1);
      }),
      {
        name: "c1",
        slot: C1,
        program: function* (ctx) {
          const b = new Uint8Array(1);
          yield* receive(VM, malloc(ctx, 64, 64));
          ctx.cpu.read(virAddr(DATA_BASE), b);
          seen.push(b[0]!);
          swap();
          ctx.cpu.read(virAddr(DATA_BASE), b);
          seen.push(b[0]!);
          yield* notify(VM);
          yield* receive(VM, malloc(ctx, 64, 64));
          ctx.cpu.read(virAddr(DATA_BASE), b);
          seen.push(b[0]!);
          return 0;
        },
      },
    ]);
    // Points C1's first data page at a frame holding 7, without telling the TLB.
    const swap = (): void => {
      const p = m.kernel.procAddr(C1)!;
      const frame = m.frames.alloc();
      m.hw.mem.write8(frame, 7);
      const pde = m.hw.mem.read32((p.cr3 + (DATA_BASE >>> 22) * 4) as never);
      const pte = ((pde & ~0xfff) + ((DATA_BASE >>> 12) & 1023) * 4) as never;
      m.hw.mem.write32(pte, (frame | (m.hw.mem.read32(pte) & 0xfff)) >>> 0);
    };
    settle(m);
    expect(results).toEqual([OK, EBUSY, EINVAL, EINVAL, OK, EINVAL]);
    expect(seen).toEqual([0, 0, 7]);
  });

  test("MEMREQ_GET with nothing pending is ESRCH", () => {
    const results: number[] = [];
    settle(
      bootImage([
        vm(function* (ctx) {
          results.push((yield* sysVmctlGetMemreq(ctx)).status);
        }),
      ]),
    );
    expect(results).toEqual([ESRCH]);
  });

  test("GET_PDBR reports the page-directory base of SELF or another process", () => {
    const got: [number, number][] = [];
    const m = bootImage([
      vm(function* (ctx) {
        for (const who of [SELF, C1, makeEndpoint(1, C1), makeEndpoint(0, 40)]) {
          const r = yield* sysVmctl(ctx, who, VMCTL_GET_PDBR);
          got.push([r.status, r.reply.value]);
        }
      }),
      idler("c1", C1),
    ]);
    settle(m);
    const k = m.kernel;
    expect(got.slice(0, 2)).toEqual([
      [OK, k.procAddr(VM)!.cr3],
      [OK, k.procAddr(C1)!.cr3],
    ]);
    expect(got[0]![1]).not.toBe(got[1]![1]);
    expect(got.slice(2).map(([s]) => s)).toEqual([EINVAL, EINVAL]);
  });

  test("replies and page-fault clears for processes not waiting are EINVAL", () => {
    const results: number[] = [];
    settle(
      bootImage([
        vm(function* (ctx) {
          results.push(yield* sysVmctlReplyMemreq(ctx, C1, OK));
          results.push(yield* sysVmctlReplyMemreq(ctx, SELF, OK));
          results.push((yield* sysVmctl(ctx, C1, VMCTL_CLEAR_PAGEFAULT)).status);
          results.push((yield* sysVmctl(ctx, makeEndpoint(2, C1), VMCTL_CLEAR_PAGEFAULT)).status);
          results.push((yield* sysVmctl(ctx, SELF, 999)).status);
          results.push((yield* sysVmctl(ctx, SELF, VMCTL_FLUSHTLB)).status);
        }),
        idler("c1", C1),
      ]),
    );
    expect(results).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, OK]);
  });

  test("SETADDRSPACE (or I386_SETCR3) checks the value and switches to another page directory", () => {
    const results: number[] = [];
    const seen: Uint8Array[] = [];
    const marker = new Uint8Array([0xc0, 0xff, 0xee, 0x42]);
    const m = bootImage([
      vm(function* (ctx) {
        const own = (yield* sysVmctl(ctx, SELF, VMCTL_GET_PDBR)).reply.value;
        yield* poke(ctx, virAddr(DATA_BASE + 3 * PAGE_SIZE), marker);
        const bad = [own + 4, m.hw.mem.size];
        for (const v of bad) results.push((yield* sysVmctl(ctx, C1, VMCTL_SETADDRSPACE, v)).status);
        // The older name does the same.
        results.push((yield* sysVmctl(ctx, C1, VMCTL_I386_SETCR3, own + 4)).status);
        results.push((yield* sysVmctl(ctx, C1, VMCTL_I386_SETCR3, own)).status);
        results.push(yield* notify(C1));
      }),
      {
        name: "c1",
        slot: C1,
        priority: 6,
        program: function* (ctx) {
          yield* receive(VM, virAddr(DATA_BASE + 8 * PAGE_SIZE));
          // Now running in VM's address space: VM's data is visible here.
          seen.push(yield* peek(ctx, virAddr(DATA_BASE + 3 * PAGE_SIZE), 4));
          return 0;
        },
      },
    ]);
    const vmCr3 = m.kernel.procAddr(VM)!.cr3;
    settle(m);
    expect(results).toEqual([EINVAL, EINVAL, EINVAL, OK, OK]);
    expect(seen).toEqual([marker]);
    expect(m.kernel.procAddr(VM)!.cr3).toBe(vmCr3);
  });

  test("MEMREQ_GET pops pending requests newest first with their parameters", () => {
    const notes: [number, number, number][] = [];
    const reqs: unknown[] = [];
    const clientResults: number[] = [];
    const client = (name: string, slot: Endpoint, page: number): BootImageEntry => ({
      name,
      slot,
      priority: 6,
      program: function* (ctx) {
        const va = virAddr(DATA_BASE + page * PAGE_SIZE + 8);
        clientResults.push(yield* sysGetinfo(ctx, GET_KINFO, va, KINFO_SIZE));
        return 0;
      },
    });
    const m = bootImage([
      vm(function* (ctx) {
        const um = new UMessage(ctx, malloc(ctx, 64, 64));
        yield* receive(ANY, um.va);
        const msg = yield* um.get();
        notes.push([msg.source, msg.get(NOTIFY_LAYOUT).arg, m.snapshot().vmrequests.length]);
        for (;;) {
          const r = yield* sysVmctlGetMemreq(ctx);
          if (r.status === ESRCH) break;
          const { target, addr, length, flag, requestor } = r.reply;
          reqs.push({ status: r.status, target, addr, length, flag, requestor });
          yield* sysVmctlReplyMemreq(ctx, requestor, EFAULT);
        }
      }),
      client("c1", C1, 20), // beyond the 16 mapped data pages
      client("c2", C2, 21),
    ]);
    settle(m);
    expect(notes).toEqual([[SYSTEM, 1 << SIGKMEM, 2]]);
    expect(reqs).toEqual([
      {
        status: VMPTYPE_CHECK,
        target: C2,
        addr: DATA_BASE + 21 * PAGE_SIZE + 8,
        length: KINFO_SIZE,
        flag: 1,
        requestor: C2,
      },
      {
        status: VMPTYPE_CHECK,
        target: C1,
        addr: DATA_BASE + 20 * PAGE_SIZE + 8,
        length: KINFO_SIZE,
        flag: 1,
        requestor: C1,
      },
    ]);
    expect(clientResults).toEqual([EFAULT, EFAULT]);
  });
});
