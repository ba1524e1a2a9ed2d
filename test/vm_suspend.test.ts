/**
 * Scenarios for the kernel's dealings with VM (MINIX-SPEC §3.4, §2.10, §8.5): a kernel call
 * or a message delivery that touches a page that is not present suspends the process until a
 * stand-in VM in slot 8 maps it (MEMREQ flow); a CPU fault becomes a VM_PAGEFAULT message
 * sent on the process's behalf. Without VM, a fault ends the process with SIGSEGV.
 */
import { describe, expect, test } from "vitest";
import { ANY, NR_TASKS, SYSTEM, VM_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import { EFAULT, ESRCH, OK, VMSUSPEND } from "../src/include/errno.ts";
import {
  ipcStatusCall,
  ipcStatusFromKernel,
  isIpcNotify,
  NOTIFY_LAYOUT,
  SEND,
} from "../src/include/ipc.ts";
import { GET_KINFO, KINFO_SIZE, VMCTL_CLEAR_PAGEFAULT } from "../src/include/kcall.ts";
import { defineLayout } from "../src/include/message.ts";
import { SIGKMEM, SIGSEGV } from "../src/include/signal.ts";
import type { ProcessContext, Trap } from "../src/include/trap.ts";
import { virAddr, type VirAddr } from "../src/include/types.ts";
import { VM_PAGEFAULT, VM_PAGEFAULT_LAYOUT, VPF_WRITE } from "../src/include/vm.ts";
import {
  bootImage,
  DATA_BASE,
  load,
  malloc,
  mapPage,
  PAGE_SIZE,
  receive,
  recordEvents,
  send,
  store,
  kernelCall,
  sysClear,
  sysGetinfo,
  sysSetalarm,
  sysVmctl,
  sysVmctlGetMemreq,
  sysVmctlReplyMemreq,
  UMessage,
  unmapPage,
  type BootImageEntry,
  type IpcStatus,
  type Machine,
  type Syscall,
} from "./system_harness.ts";

const VM = VM_PROC_NR;
const CLIENT = 11 as Endpoint;
const SENDER = 12 as Endpoint;

/** The address of byte `off` of data page `page`. */
const dataAddr = (page: number, off = 0): VirAddr => virAddr(DATA_BASE + page * PAGE_SIZE + off);

// ---------------------------------------------------------------------------------------------
// The stand-in VM

interface MemReq {
  readonly type: number;
  readonly target: number;
  readonly addr: number;
  readonly length: number;
  readonly flag: number;
  readonly requestor: number;
}

interface FaultMsg {
  readonly source: number;
  readonly addr: number;
  readonly flags: number;
  readonly fromKernel: boolean;
  readonly call: number;
  /** The faulting process's RTS flags while VM handles the fault. */
  readonly rts: string;
}

interface VmLog {
  /** NOTIFY_ARG of every notification from SYSTEM. */
  readonly notifications: number[];
  readonly memreqs: MemReq[];
  readonly faults: FaultMsg[];
}

/**
 * VM: loops receiving. On SIGKMEM it drains the memory requests, calling `fix` for each it
 * answers OK (results come from `replies`, OK once it runs out). On VM_PAGEFAULT sent by the
 * kernel it calls `fix` for the page and clears the fault; forged page faults are ignored.
 */
function vmStandIn(
  m: () => Machine,
  log: VmLog,
  fix: (target: Endpoint, addr: number, len: number) => void,
  replies: number[] = [],
): BootImageEntry {
  return {
    name: "vm",
    slot: VM,
    program: function* (ctx) {
      const um = new UMessage(ctx, malloc(ctx, 64, 64));
      const st: IpcStatus = { value: 0 };
      for (;;) {
        if ((yield* receive(ANY, um.va, st)) !== OK) continue;
        const msg = yield* um.get();
        if (msg.source === SYSTEM && isIpcNotify(st.value)) {
          const arg = msg.get(NOTIFY_LAYOUT).arg;
          log.notifications.push(arg);
          if ((arg & (1 << SIGKMEM)) === 0) continue;
          for (;;) {
            const r = yield* sysVmctlGetMemreq(ctx);
            if (r.status === ESRCH) break;
            const { target, addr, length, flag, requestor } = r.reply;
            log.memreqs.push({ type: r.status, target, addr, length, flag, requestor });
            const result = replies.shift() ?? OK;
            if (result === OK) fix(target, addr, length);
            yield* sysVmctlReplyMemreq(ctx, requestor, result);
          }
        } else if (msg.type === VM_PAGEFAULT) {
          const pf = msg.get(VM_PAGEFAULT_LAYOUT);
          const fromKernel = ipcStatusFromKernel(st.value);
          const rts =
            m()
              .snapshot()
              .procs.find((p) => p.endpoint === msg.source)?.rts ?? "?";
          log.faults.push({
            source: msg.source,
            addr: pf.addr,
            flags: pf.flags,
            fromKernel,
            call: ipcStatusCall(st.value),
            rts,
          });
          if (!fromKernel) continue; // a forgery: never act on it
          fix(msg.source, pf.addr, 1);
          yield* sysVmctl(ctx, msg.source, VMCTL_CLEAR_PAGEFAULT);
        }
      }
    },
  };
}

/** What the test gives VM: map a fresh zeroed frame under every absent page of the range. */
function pageMapper(m: () => Machine): (target: Endpoint, addr: number, len: number) => void {
  return (target, addr, len) => {
    const machine = m();
    const cr3 = machine.kernel.isokendpt(target)!.cr3;
    const first = addr - (addr % PAGE_SIZE);
    for (let va = first; va < addr + Math.max(1, len); va += PAGE_SIZE) {
      if (machine.hw.mmu.translate(cr3, va, true, true) >= 0) continue;
      mapPage(machine.hw, machine.frames, cr3, va, machine.frames.alloc());
    }
  };
}

/** Runs `g`, logging every trap it takes and the result the kernel returned for it. */
function* counted<T>(g: Syscall<T>, traps: [Trap["kind"], number][]): Syscall<T> {
  let r = g.next();
  while (r.done !== true) {
    const trap = r.value;
    const res = yield trap;
    traps.push([trap.kind, res]);
    r = g.next(res);
  }
  return r.value;
}

function newLog(): VmLog {
  return { notifications: [], memreqs: [], faults: [] };
}

/** Boots `image` (VM first when given), unmapping `unmapped` pages of `CLIENT` afterwards. */
function bootWith(image: BootImageEntry[], unmapped: readonly number[]): Machine {
  const m = bootImage(image);
  const cr3 = m.kernel.isokendpt(CLIENT)!.cr3;
  for (const page of unmapped) unmapPage(m.hw, cr3, dataAddr(page));
  return m;
}

/** Steps until `until()` holds (bounded); returns the number of steps. */
function stepUntil(m: Machine, until: () => boolean): number {
  let n = 0;
  while (!until()) {
    if (!m.step() || ++n > 10_000) throw new Error("condition never reached");
  }
  return n;
}

function finish(m: Machine): void {
  m.runUntilIdle(100_000);
  m.check();
  expect(m.halted).toBeNull();
}

const rtsOf = (m: Machine, ep: number): string | undefined =>
  m.snapshot().procs.find((p) => p.endpoint === ep)?.rts;

// ---------------------------------------------------------------------------------------------

describe("kernel call suspended for VM (MEMREQ, VMSTYPE_KERNELCALL)", () => {
  interface KinfoOut {
    results: number[];
    traps: [Trap["kind"], number][];
    kinfo: Uint8Array[];
  }

  function kinfoClient(out: KinfoOut): BootImageEntry {
    return {
      name: "client",
      slot: CLIENT,
      program: function* (ctx) {
        for (let i = 0; i < 2; i++) {
          const va = dataAddr(5, 16);
          const r = yield* counted(sysGetinfo(ctx, GET_KINFO, va, KINFO_SIZE), out.traps);
          out.results.push(r);
          if (r === OK) {
            const bytes = new Uint8Array(KINFO_SIZE);
            yield* load(ctx, va, bytes);
            out.kinfo.push(bytes);
          }
        }
        return 0;
      },
    };
  }

  test("the caller waits in RTS_VMREQUEST, VM maps the page, the saved call is re-executed", () => {
    const log = newLog();
    const out: KinfoOut = { results: [], traps: [], kinfo: [] };
    const machine = (): Machine => m;
    const m = bootWith(
      [vmStandIn(machine, log, pageMapper(machine)), kinfoClient(out)],
      [5], // the page GET_KINFO writes to
    );
    const kcalls = recordEvents(m, "kcall");
    const vmreqs = recordEvents(m, "vmreq");
    const exits = recordEvents(m, "exit");

    stepUntil(m, () => vmreqs.length > 0);
    const mid = m.snapshot();
    expect(mid.procs.find((p) => p.endpoint === CLIENT)?.rts).toBe("VMREQUEST");
    expect(mid.vmrequests).toEqual([CLIENT]);
    expect(vmreqs).toEqual([
      expect.objectContaining({
        ep: CLIENT,
        target: CLIENT,
        addr: dataAddr(5, 16),
        len: KINFO_SIZE,
      }),
    ]);

    finish(m);
    expect(exits.map((e) => [e.ep, e.reason])).toEqual([[CLIENT, "exit"]]);
    // Both calls succeed: the first after VM's help, the second straight away.
    expect(out.results).toEqual([OK, OK]);
    // Each call trapped exactly once; the kernel re-ran the first from the saved message.
    expect(out.traps).toEqual([
      ["kcall", OK],
      ["kcall", OK],
    ]);
    expect(kcalls.filter((e) => e.ep === CLIENT).map((e) => [e.call, e.result])).toEqual([
      ["SYS_GETINFO", VMSUSPEND],
      ["SYS_GETINFO", OK],
      ["SYS_GETINFO", OK],
    ]);
    expect(log.notifications).toEqual([1 << SIGKMEM]);
    expect(log.memreqs).toEqual([
      {
        type: 1, // VMPTYPE_CHECK
        target: CLIENT,
        addr: dataAddr(5, 16),
        length: KINFO_SIZE,
        flag: 1,
        requestor: CLIENT,
      },
    ]);
    const expected = new Uint8Array(KINFO_SIZE);
    const v = new DataView(expected.buffer);
    [64, NR_TASKS, m.options.nrSysProcs, m.hw.mem.frames, 60].forEach((x, i) =>
      v.setUint32(i * 4, x, true),
    );
    expect(out.kinfo).toHaveLength(2);
    for (const k of out.kinfo) expect(k.subarray(0, 20)).toEqual(expected.subarray(0, 20));
  });

  test("VM failing the request makes the call return EFAULT once; the next call asks again", () => {
    const log = newLog();
    const out: KinfoOut = { results: [], traps: [], kinfo: [] };
    const machine = (): Machine => m;
    const m = bootWith(
      [vmStandIn(machine, log, pageMapper(machine), [EFAULT]), kinfoClient(out)],
      [5],
    );
    const kcalls = recordEvents(m, "kcall");
    finish(m);
    expect(out.results).toEqual([EFAULT, OK]);
    expect(out.traps).toEqual([
      ["kcall", EFAULT],
      ["kcall", OK],
    ]);
    // No loop: one re-execution after the EFAULT reply, then a fresh request for the next call.
    expect(kcalls.filter((e) => e.ep === CLIENT).map((e) => e.result)).toEqual([
      VMSUSPEND,
      EFAULT,
      VMSUSPEND,
      OK,
    ]);
    expect(log.memreqs.map((r) => r.requestor)).toEqual([CLIENT, CLIENT]);
    expect(m.kernel.isokendpt(VM)!.rtsFlags).not.toBe(0); // VM back in RECEIVE
    expect(m.snapshot().vmrequests).toEqual([]);
  });
});

describe("other suspended kernel calls", () => {
  test("SYS_DIAGCTL from an absent page prints once, after VM maps it", () => {
    const log = newLog();
    const results: number[] = [];
    const machine = (): Machine => m;
    const m = bootWith(
      [
        vmStandIn(machine, log, pageMapper(machine)),
        {
          name: "client",
          slot: CLIENT,
          program: function* (ctx) {
            // The text straddles a present page (4) and an absent one (5).
            const va = dataAddr(5, -3);
            const text = new TextEncoder().encode("abcdef");
            yield* store(ctx, va, text); // faults on page 5 first: VM maps it
            unmapPage(machine().hw, machine().kernel.isokendpt(CLIENT)!.cr3, dataAddr(5));
            results.push(
              (yield* kernelCall(ctx, "SYS_DIAGCTL", { buf: va, len: text.length })).status,
            );
            return 0;
          },
        },
      ],
      [5],
    );
    const bootText = m.console;
    const kcalls = recordEvents(m, "kcall");
    finish(m);
    expect(results).toEqual([OK]);
    // The bytes on the re-mapped page are the fresh zeroes VM supplied.
    expect(m.console.slice(bootText.length)).toBe("abc\0\0\0");
    expect(kcalls.filter((e) => e.ep === CLIENT).map((e) => e.result)).toEqual([VMSUSPEND, OK]);
    expect(log.faults.map((f) => f.addr)).toEqual([dataAddr(5)]);
    expect(log.memreqs.map((r) => [r.addr, r.length])).toEqual([[dataAddr(5), 3]]);
  });

  test("a process cleared while waiting for VM leaves no request behind", () => {
    const log = newLog();
    const pm: number[] = [];
    const machine = (): Machine => m;
    const m = bootWith(
      [
        { ...vmStandIn(machine, log, pageMapper(machine)), priority: 8 }, // runs last
        {
          name: "client",
          slot: CLIENT,
          priority: 6,
          program: function* (ctx) {
            yield* sysGetinfo(ctx, GET_KINFO, dataAddr(5), KINFO_SIZE);
            return 0;
          },
        },
        {
          name: "pm",
          slot: SENDER,
          program: function* (ctx) {
            pm.push(machine().snapshot().vmrequests.length);
            pm.push(yield* sysClear(ctx, CLIENT));
            pm.push(machine().snapshot().vmrequests.length);
            return 0;
          },
        },
      ],
      [5],
    );
    const exits = recordEvents(m, "exit");
    finish(m);
    expect(pm).toEqual([1, OK, 0]);
    expect(exits.map((e) => [e.ep, e.reason])).toEqual([
      [CLIENT, "cleared by pm"],
      [SENDER, "exit"],
    ]);
    // VM was woken but found nothing to do.
    expect(log.notifications).toEqual([1 << SIGKMEM]);
    expect(log.memreqs).toEqual([]);
  });
});

describe("message delivery into an absent receive buffer (§2.10, VMSTYPE_DELIVERMSG)", () => {
  const PING = 0x1234;
  const PING_LAYOUT = defineLayout({ a: "u32", b: "u32", tail: { bytes: 40 } });
  const tail = Uint8Array.from({ length: 40 }, (_, i) => 200 - i);

  function image(
    log: VmLog,
    m: () => Machine,
    got: { r: number; status: number; bytes: Uint8Array }[],
    replies: number[] = [],
  ): BootImageEntry[] {
    return [
      vmStandIn(m, log, pageMapper(m), replies),
      {
        name: "client",
        slot: CLIENT,
        program: function* (ctx) {
          const va = dataAddr(6, 128);
          const st: IpcStatus = { value: 0 };
          const r = yield* receive(SENDER, va, st);
          const bytes = new Uint8Array(64);
          if (r === OK) yield* load(ctx, va, bytes);
          got.push({ r, status: st.value, bytes });
          return 0;
        },
      },
      {
        name: "sender",
        slot: SENDER,
        priority: 8, // after the client is waiting
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, 64, 64));
          um.m.set(PING, PING_LAYOUT, { a: 0xdeadbeef, b: 42, tail });
          yield* um.put();
          return yield* send(CLIENT, um.va);
        },
      },
    ];
  }

  test("delivery waits for VM to map the page, then the message arrives intact", () => {
    const log = newLog();
    const got: { r: number; status: number; bytes: Uint8Array }[] = [];
    const machine = (): Machine => m;
    const m = bootWith(image(log, machine, got), [6]);
    const vmreqs = recordEvents(m, "vmreq");
    const exits = recordEvents(m, "exit");

    stepUntil(m, () => vmreqs.length > 0);
    expect(rtsOf(m, CLIENT)).toBe("VMREQUEST");
    expect(vmreqs).toEqual([
      expect.objectContaining({ ep: CLIENT, target: CLIENT, addr: dataAddr(6, 128), len: 64 }),
    ]);
    finish(m);

    expect(exits.map((e) => [e.ep, e.status, e.reason])).toEqual([
      [CLIENT, 0, "exit"],
      [SENDER, OK, "exit"],
    ]);
    expect(log.memreqs).toEqual([
      expect.objectContaining({ target: CLIENT, addr: dataAddr(6, 128), requestor: CLIENT }),
    ]);
    expect(got).toHaveLength(1);
    expect(got[0]!.r).toBe(OK);
    expect(ipcStatusCall(got[0]!.status)).toBe(SEND);
    const view = new DataView(got[0]!.bytes.buffer);
    expect(view.getInt32(0, true)).toBe(SENDER);
    expect(view.getInt32(4, true)).toBe(PING);
    expect(view.getUint32(8, true)).toBe(0xdeadbeef);
    expect(view.getUint32(12, true)).toBe(42);
    expect(got[0]!.bytes.subarray(16, 56)).toEqual(tail);
  });

  test("when VM cannot map the buffer the receive fails with EFAULT (no loop)", () => {
    const log = newLog();
    const got: { r: number; status: number; bytes: Uint8Array }[] = [];
    const machine = (): Machine => m;
    const m = bootWith(image(log, machine, got, [EFAULT]), [6]);
    finish(m);
    expect(got.map((g) => g.r)).toEqual([EFAULT]);
    expect(log.memreqs).toHaveLength(1);
    expect(m.kernel.procAddr(CLIENT)!.isFree).toBe(true);
  });
});

describe("page faults are sent to VM on the process's behalf (§8.5)", () => {
  test("a faulting store waits in RTS_PAGEFAULT until VM maps the page and clears it", () => {
    const log = newLog();
    const traps: [Trap["kind"], number][] = [];
    const seen: Uint8Array[] = [];
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const machine = (): Machine => m;
    const m = bootWith(
      [
        vmStandIn(machine, log, pageMapper(machine)),
        {
          name: "client",
          slot: CLIENT,
          program: function* (ctx) {
            yield* counted(store(ctx, dataAddr(7, 100), data), traps);
            yield* counted(load(ctx, dataAddr(7, 100), (seen[0] = new Uint8Array(8))), traps);
            // A read fault on another absent page: VM maps a zeroed page.
            yield* counted(load(ctx, dataAddr(9, 4), (seen[1] = new Uint8Array(4))), traps);
            return 0;
          },
        },
      ],
      [7, 9],
    );
    const cr3 = m.kernel.isokendpt(CLIENT)!.cr3;
    const faults = recordEvents(m, "fault");
    finish(m);

    expect(traps).toEqual([
      ["pagefault", OK],
      ["pagefault", OK],
    ]);
    expect(faults.map((f) => [f.ep, f.addr, f.write])).toEqual([
      [CLIENT, dataAddr(7, 100), true],
      [CLIENT, dataAddr(9, 4), false],
    ]);
    expect(log.faults).toEqual([
      {
        source: CLIENT,
        addr: dataAddr(7, 100),
        flags: VPF_WRITE,
        fromKernel: true,
        call: SEND,
        rts: "PAGEFAULT",
      },
      {
        source: CLIENT,
        addr: dataAddr(9, 4),
        flags: 0,
        fromKernel: true,
        call: SEND,
        rts: "PAGEFAULT",
      },
    ]);
    expect(seen).toEqual([data, new Uint8Array(4)]);
    expect(log.memreqs).toEqual([]);
    // The bytes are in the frame VM mapped into the client's page table.
    const pa = m.hw.mmu.translate(cr3, dataAddr(7, 100), false, true);
    expect(pa).toBeGreaterThan(0);
    expect(m.hw.mem.u8.subarray(pa, pa + 8)).toEqual(data);
  });

  test("faults while VM is busy queue the processes on VM in order, still from the kernel", () => {
    const log = newLog();
    const machine = (): Machine => m;
    const faulter = (name: string, slot: Endpoint, page: number): BootImageEntry => ({
      name,
      slot,
      priority: 6, // both fault before VM (queue 7) first runs
      program: function* (ctx) {
        yield* store(ctx, dataAddr(page), Uint8Array.of(slot));
        const b = new Uint8Array(1);
        yield* load(ctx, dataAddr(page), b);
        return b[0]!;
      },
    });
    const m = bootImage([
      vmStandIn(machine, log, pageMapper(machine)),
      faulter("f1", CLIENT, 10),
      faulter("f2", SENDER, 11),
    ]);
    for (const ep of [CLIENT, SENDER]) {
      unmapPage(m.hw, m.kernel.isokendpt(ep)!.cr3, dataAddr(ep === CLIENT ? 10 : 11));
    }
    const exits = recordEvents(m, "exit");
    const faults = recordEvents(m, "fault");
    stepUntil(m, () => faults.length === 2);
    expect(rtsOf(m, CLIENT)).toBe("SENDING|PAGEFAULT");
    expect(rtsOf(m, SENDER)).toBe("SENDING|PAGEFAULT");
    expect(m.snapshot().procs.find((p) => p.endpoint === VM)?.callerQ).toEqual([CLIENT, SENDER]);
    finish(m);
    expect(log.faults.map((f) => [f.source, f.addr, f.fromKernel])).toEqual([
      [CLIENT, dataAddr(10), true],
      [SENDER, dataAddr(11), true],
    ]);
    expect(exits.map((e) => [e.ep, e.status])).toEqual([
      [CLIENT, CLIENT],
      [SENDER, SENDER],
    ]);
  });

  test("a fault that no longer happens just resumes the process; VM hears nothing", () => {
    const log = newLog();
    const results: number[] = [];
    const machine = (): Machine => m;
    const m = bootImage([
      vmStandIn(machine, log, pageMapper(machine)),
      {
        name: "client",
        slot: CLIENT,
        program: function* () {
          results.push(yield { kind: "pagefault", addr: dataAddr(2), write: true });
          return 0;
        },
      },
    ]);
    const faults = recordEvents(m, "fault");
    finish(m);
    expect(results).toEqual([OK]);
    expect(faults).toHaveLength(1);
    expect(log.faults).toEqual([]);
  });

  test("an ordinary VM_PAGEFAULT message is not marked as coming from the kernel", () => {
    const log = newLog();
    const machine = (): Machine => m;
    const mapped: number[] = [];
    const m = bootImage([
      vmStandIn(machine, log, (_t, addr) => mapped.push(addr)),
      {
        name: "forger",
        slot: CLIENT,
        program: function* (ctx) {
          const um = new UMessage(ctx, malloc(ctx, 64, 64));
          um.m.set(VM_PAGEFAULT, VM_PAGEFAULT_LAYOUT, { addr: dataAddr(3), flags: VPF_WRITE });
          yield* um.put();
          return yield* send(VM, um.va);
        },
      },
    ]);
    finish(m);
    expect(log.faults.map((f) => [f.source, f.fromKernel, f.call])).toEqual([
      [CLIENT, false, SEND],
    ]);
    expect(mapped).toEqual([]);
  });
});

describe("page faults without VM", () => {
  test("the faulting process is terminated by SIGSEGV; others are not affected", () => {
    const other: number[] = [];
    const m = bootImage([
      {
        name: "faulter",
        slot: CLIENT,
        program: function* (ctx) {
          yield* store(ctx, dataAddr(4), Uint8Array.of(1));
          other.push(-1); // never reached
          return 0;
        },
      },
      {
        name: "bystander",
        slot: SENDER,
        program: function* (ctx: ProcessContext) {
          yield* sysSetalarm(ctx, 3);
          const st: IpcStatus = { value: 0 };
          other.push(yield* receive(ANY, malloc(ctx, 64, 64), st));
          other.push(isIpcNotify(st.value) ? 1 : 0);
          return 7;
        },
      },
    ]);
    const cr3 = m.kernel.isokendpt(CLIENT)!.cr3;
    unmapPage(m.hw, cr3, dataAddr(4));
    const exits = recordEvents(m, "exit");
    const faults = recordEvents(m, "fault");
    finish(m);
    expect(faults.map((f) => [f.ep, f.addr, f.write])).toEqual([[CLIENT, dataAddr(4), true]]);
    expect(exits.map((e) => [e.ep, e.status, e.reason])).toEqual([
      [CLIENT, -SIGSEGV, "signal 11"],
      [SENDER, 7, "exit"],
    ]);
    expect(exits[0]!.reason).toContain("signal 11");
    expect(other).toEqual([OK, 1]);
    expect(m.kernel.ticks).toBe(3);
    // Nobody mapped the page.
    expect(m.hw.mmu.translate(cr3, dataAddr(4), true, true)).toBeLessThan(0);
  });
});
