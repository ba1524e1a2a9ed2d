/**
 * Property: random traps from privileged and unprivileged processes never panic the kernel,
 * never throw out of it, and keep its invariants after every single step (DESIGN §8).
 *
 * A machine of 3–6 processes is generated; each runs a script of random operations: IPC
 * traps with any call number, endpoint and message address, SENDA tables, kernel calls
 * (well-formed and garbage), page-fault traps, raw garbage yields, exceptions and early
 * returns, evictions of a peer's data page. Half the machines have a process in VM's slot
 * that, after a few random operations, answers page faults and memory requests (mapping the
 * page, refusing, answering VMSUSPEND, or replying to requests it never fetched). Besides
 * `kernel.check()`, each step checks the alarm queue, and each run checks that memory no
 * address could reach (free frames, untouched data pages) is still zero.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { BootImageEntry, BootPrivSpec } from "../src/boot/image.ts";
import { DATA_BASE, mapPage, unmapPage } from "../src/boot/loader.ts";
import { Machine } from "../src/boot/machine.ts";
import {
  ANY,
  CLOCK,
  IDLE,
  KERNEL,
  makeEndpoint,
  MAX_GEN,
  NONE,
  SELF,
  SYSTEM,
  VM_PROC_NR,
  type Endpoint,
} from "../src/include/endpoint.ts";
import {
  AMF_DONE,
  AMF_NOREPLY,
  AMF_NOTIFY,
  AMF_VALID,
  ASYN_DST,
  ASYN_FLAGS,
  ASYN_MSG,
  ASYN_RESULT,
  ASYNMSG_SIZE,
  isIpcNotify,
  RECEIVE,
  SENDNB,
  type IpcCallName,
} from "../src/include/ipc.ts";
import {
  KCALL_NR,
  GET_RANDOMNESS,
  KERNEL_CALL,
  PRIV_ARG,
  SYS_PRIV_ALLOW,
  SYS_PRIV_DISALLOW,
  SYS_PRIV_SET_SYS,
  SYS_PRIV_SET_USER,
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_MEMREQ_GET,
  VMCTL_MEMREQ_REPLY,
  type KcallNrName,
} from "../src/include/kcall.ts";
import { MESSAGE_SIZE, M_PAYLOAD, M_SOURCE, M_TYPE } from "../src/include/message.ts";
import { VM_PAGEFAULT } from "../src/include/vm.ts";
import type { Program, ProcessContext, Trap } from "../src/include/trap.ts";
import type { VirAddr } from "../src/include/types.ts";

const NR_PROCS = 64;
const MEMORY = 4 << 20;
const STEP_BUDGET = 2500;
const PAGE = 4096;
/** Pages 2..15 of a 16-page data area: no generated address points there. */
const CANARY_LO = 0x40_0000 + 2 * PAGE;
const CANARY_HI = 0x40_0000 + 16 * PAGE;

// ---------------------------------------------------------------------------------------
// Operation descriptions (plain data, so fast-check can print and shrink them).

/** An endpoint: a peer's boot endpoint, a stale generation of its slot, or a constant. */
type EpSpec =
  | { readonly k: "peer"; readonly i: number }
  | { readonly k: "stale"; readonly i: number }
  | { readonly k: "const"; readonly v: number };

/** An address in the process: a valid buffer, an awkward one, or a raw number. */
type AddrSpec =
  | { readonly k: "buf"; readonly off: number }
  | { readonly k: "page1"; readonly off: number }
  | { readonly k: "unaligned"; readonly off: number }
  | { readonly k: "pageCross" }
  | { readonly k: "dataEnd" }
  | { readonly k: "raw"; readonly v: number };

/** A word of a kernel-call payload. */
type WordSpec =
  | { readonly k: "int"; readonly v: number }
  | { readonly k: "ep"; readonly ep: EpSpec }
  | { readonly k: "addr"; readonly a: AddrSpec };

interface SendaEntry {
  readonly flags: number;
  readonly dst: EpSpec;
  readonly mtype: number;
}

type Garbage =
  | "num"
  | "null"
  | "undefined"
  | "nope"
  | "string"
  | "emptyIpc"
  | "throwingGetter"
  | "frozenIpc"
  | "nanIpc"
  | "negKcall"
  | "badForkentry"
  | "badSigentry";

type Op =
  | {
      readonly t: "ipc";
      readonly call: number;
      readonly ep: EpSpec;
      readonly addr: AddrSpec;
      readonly fill: Uint8Array | null;
    }
  | {
      readonly t: "senda";
      readonly table: AddrSpec;
      readonly entries: readonly SendaEntry[];
      readonly count: number | null;
    }
  | {
      readonly t: "kcall";
      readonly mtype: number;
      readonly words: readonly WordSpec[];
      readonly addr: AddrSpec;
    }
  | {
      readonly t: "sys";
      readonly call: KcallNrName;
      readonly words: readonly WordSpec[];
      readonly arg: PrivArgSpec | null;
      readonly addr: AddrSpec;
    }
  | {
      /** What RS does: SYS_PRIVCTL DISALLOW a process, then ALLOW / SET_SYS / SET_USER it. */
      readonly t: "privSeq";
      readonly who: EpSpec;
      readonly then: number;
      readonly arg: PrivArgSpec | null;
    }
  | { readonly t: "kcallBytes"; readonly bytes: Uint8Array; readonly addr: AddrSpec }
  | { readonly t: "poke"; readonly bytes: Uint8Array; readonly addr: AddrSpec }
  | { readonly t: "evict"; readonly who: EpSpec; readonly page: number }
  | {
      /** Evict the own page 1, then make the kernel copy to or from it. */
      readonly t: "touchEvicted";
      readonly how: "diag" | "random" | "receive" | "senda";
      readonly off: number;
    }
  | { readonly t: "pf"; readonly addr: AddrSpec; readonly write: boolean }
  | { readonly t: "garbage"; readonly g: Garbage }
  | { readonly t: "throw"; readonly error: boolean }
  | { readonly t: "return"; readonly status: number };

type PrivCfg =
  | "full"
  | "user"
  | {
      readonly traps: readonly IpcCallName[];
      readonly ipcTo: readonly number[];
      readonly kcalls: readonly KcallNrName[];
      readonly sigMgr: number | null;
    };

interface ProcCfg {
  readonly priv: PrivCfg;
  readonly runnable: boolean;
  readonly priority: number;
  readonly quantum: number;
  readonly dataPages: number;
  readonly script: readonly Op[];
  /**
   * After the script: return; serve (receive from ANY and answer with SENDNB); or, for the
   * process in VM's slot, act as a VM that answers memory requests and page faults with the
   * results in `vmAnswers` (cycled).
   */
  readonly tail: "return" | "serve" | "vm";
  readonly vmAnswers: readonly number[];
}

interface MachineCfg {
  readonly cyclesPerTick: number;
  readonly slots: readonly number[];
  readonly procs: readonly ProcCfg[];
}

// ---------------------------------------------------------------------------------------
// Generators.

const IPC_CALL_NUMBERS = [1, 2, 3, 4, 5, 16, -1, 0, 6, 7, 15, 31, 32, 63, 1e9, -0x80000000];
const IMPLEMENTED: readonly KcallNrName[] = [
  "SYS_GETINFO",
  "SYS_TIMES",
  "SYS_SETALARM",
  "SYS_EXIT",
  "SYS_CLEAR",
  "SYS_PRIVCTL",
  "SYS_SETGRANT",
  "SYS_VMCTL",
  "SYS_DIAGCTL",
  "SYS_SAFECOPYFROM",
  "SYS_SAFECOPYTO",
  "SYS_VSAFECOPY",
  "SYS_SAFEMEMSET",
];
const SOME_UNIMPLEMENTED: readonly KcallNrName[] = ["SYS_FORK", "SYS_KILL", "SYS_TRACE"];
/** Slots other than VM's; NR_PROCS - 1 is the last one. */
const SLOT_CHOICES = [0, 1, 2, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 33, NR_PROCS - 1];

const epArb = (n: number): fc.Arbitrary<EpSpec> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.nat(n - 1).map((i): EpSpec => ({ k: "peer", i })) },
    { weight: 1, arbitrary: fc.nat(n - 1).map((i): EpSpec => ({ k: "stale", i })) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<number>(
          ANY,
          NONE,
          SELF,
          CLOCK,
          SYSTEM,
          KERNEL,
          IDLE,
          -5,
          -1024,
          VM_PROC_NR,
          NR_PROCS,
          4000,
          1e9,
          -1e9,
          0x7fffffff,
          makeEndpoint(1, 11),
          makeEndpoint(MAX_GEN, 12),
        )
        .map((v): EpSpec => ({ k: "const", v })),
    },
  );

const addrArb: fc.Arbitrary<AddrSpec> = fc.oneof(
  { weight: 10, arbitrary: fc.nat(15).map((off): AddrSpec => ({ k: "buf", off })) },
  { weight: 3, arbitrary: fc.nat(15).map((off): AddrSpec => ({ k: "page1", off })) },
  { weight: 1, arbitrary: fc.nat(40).map((off): AddrSpec => ({ k: "unaligned", off })) },
  { weight: 1, arbitrary: fc.constant<AddrSpec>({ k: "pageCross" }) },
  { weight: 1, arbitrary: fc.constant<AddrSpec>({ k: "dataEnd" }) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(0, 0x10, 0xfff, 0x3fffc0, 0x3ffff0, 0x7fffffff, 0xfffffff0, 0xffffffff),
        fc.integer({ min: 0, max: 0xffffffff }),
      )
      // Never inside the canary pages (see canaryFrames).
      .map((v): AddrSpec => ({ k: "raw", v: v >= CANARY_LO && v < CANARY_HI ? v - CANARY_LO : v })),
  },
);

const wordArb = (n: number): fc.Arbitrary<WordSpec> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .oneof(
          fc.integer({ min: -2, max: 30 }),
          fc.constantFrom(64, 4095, 4096, 4097, 0x7fffffff, -0x80000000, 0xffffffff),
          fc.integer(),
        )
        .map((v): WordSpec => ({ k: "int", v })),
    },
    { weight: 3, arbitrary: epArb(n).map((ep): WordSpec => ({ k: "ep", ep })) },
    { weight: 2, arbitrary: addrArb.map((a): WordSpec => ({ k: "addr", a })) },
  );

/** A PRIV_ARG block for SYS_PRIVCTL SET_SYS, written at the argument address. */
interface PrivArgSpec {
  readonly flags: number;
  readonly id: number;
  readonly trapMask: number;
  readonly sigMgr: EpSpec;
  readonly ipcTo: number;
  readonly kCallMask0: number;
  readonly kCallMask1: number;
}

const int = (...vs: number[]): fc.Arbitrary<WordSpec> =>
  fc.constantFrom(...vs).map((v): WordSpec => ({ k: "int", v }));
const epWord = (n: number): fc.Arbitrary<WordSpec> =>
  epArb(n).map((ep): WordSpec => ({ k: "ep", ep }));
const addrWord: fc.Arbitrary<WordSpec> = addrArb.map((a): WordSpec => ({ k: "addr", a }));

/** Well-formed-looking requests of every implemented call (fields in layout order). */
const sysWordsArb = (n: number): fc.Arbitrary<{ call: KcallNrName; words: WordSpec[] }> =>
  fc
    .oneof<fc.Arbitrary<{ call: KcallNrName; words: readonly WordSpec[] }>[]>(
      fc.record({
        call: fc.constant<KcallNrName>("SYS_GETINFO"),
        words: fc.tuple(
          int(0, 1, 2, 3, 8, 11, 17, 18, 19, -1, 99),
          addrWord,
          int(0, 1, 4, 24, 64, 4096, 4097, -1),
        ),
      }),
      fc.record({ call: fc.constant<KcallNrName>("SYS_TIMES"), words: fc.tuple(epWord(n)) }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_SETALARM"),
        words: fc.tuple(int(0, 1, 2, 5, 40, 0xffffffff), int(0, 0, 1)),
      }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_SETALARM"),
        words: fc.tuple(int(3, 100, 1000), int(0)),
      }),
      // SYS_EXIT is rarer than the others, so that processes live long enough to interact.
      fc.record({
        call: fc.constantFrom<KcallNrName>("SYS_EXIT", "SYS_TIMES", "SYS_TIMES", "SYS_TIMES"),
        words: fc.constant([]),
      }),
      fc.record({ call: fc.constant<KcallNrName>("SYS_CLEAR"), words: fc.tuple(epWord(n)) }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_PRIVCTL"),
        words: fc.tuple(epWord(n), int(0, 1, 2, 3, 3, 4, 5, 8, 9), fc.oneof(int(0), addrWord)),
      }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_SETGRANT"),
        words: fc.tuple(addrWord, int(0, 1, 10, -1, 0x7fffffff)),
      }),
      // Safe copies through whatever the random tables hold: granter, gid, offset, address, bytes.
      fc.record({
        call: fc.constantFrom<KcallNrName>("SYS_SAFECOPYFROM", "SYS_SAFECOPYTO"),
        words: fc.tuple(
          epWord(n),
          int(0, 1, 2, -1, 0x100000, 0x7fffffff),
          int(0, 8, 4095, 0xffffffff),
          addrWord,
          int(0, 1, 64, 4096, 8193, 0xffffffff),
        ),
      }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_VSAFECOPY"),
        words: fc.tuple(addrWord, int(0, 1, 2, 64, 65, -1)),
      }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_SAFEMEMSET"),
        words: fc.tuple(epWord(n), int(0, 1, -1), int(0, 4095), int(0, 0x1ff), int(0, 1, 4096)),
      }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_VMCTL"),
        // VMCTL_SETADDRSPACE (29) is left out: VM is trusted with page tables, and a random
        // page directory is not something the kernel can (or MINIX does) defend against.
        words: fc.tuple(
          epWord(n),
          int(12, 12, 13, 14, 14, 15, 15, 15, 16, 26, 0, 99),
          int(0, 0, -14, -996, 1, 4096),
        ),
      }),
      fc.record({
        call: fc.constant<KcallNrName>("SYS_DIAGCTL"),
        words: fc.tuple(addrWord, int(0, 1, 10, 64, 4096, 4097, -1)),
      }),
    )
    .map(({ call, words }) => ({ call, words: [...words] }));

const privArgArb = (n: number): fc.Arbitrary<PrivArgSpec> =>
  fc.record({
    flags: fc.constantFrom(0, 0x10, 0x12, 0x18, 0x1a, 0xffffffff),
    id: fc.integer({ min: -2, max: 40 }),
    trapMask: fc.constantFrom(0, 0xffffffff, 1 << 3, (1 << 2) | (1 << 4)),
    sigMgr: epArb(n),
    ipcTo: fc.integer({ min: 0, max: 0xffffffff }),
    kCallMask0: fc.integer({ min: 0, max: 0xffffffff }),
    kCallMask1: fc.integer({ min: 0, max: 0xffffffff }),
  });

const opArb = (n: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 60,
      arbitrary: fc.record({
        t: fc.constant("ipc" as const),
        call: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(1, 2, 3, 4, 5) },
          { weight: 1, arbitrary: fc.constantFrom(...IPC_CALL_NUMBERS) },
        ),
        ep: epArb(n),
        addr: addrArb,
        fill: fc.option(fc.uint8Array({ minLength: MESSAGE_SIZE, maxLength: MESSAGE_SIZE }), {
          freq: 2,
        }),
      }),
    },
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant("senda" as const),
        table: addrArb,
        entries: fc.array(
          fc.record({
            flags: fc.constantFrom(
              0,
              AMF_VALID,
              AMF_VALID,
              AMF_VALID | AMF_NOTIFY,
              AMF_VALID | AMF_NOREPLY,
              AMF_VALID | AMF_DONE,
              AMF_DONE,
              0x10,
              0xffffffff,
            ),
            dst: epArb(n),
            mtype: fc.integer({ min: -5, max: 5 }),
          }),
          { maxLength: 5 },
        ),
        count: fc.option(fc.constantFrom(-1, 0, 1, 17, 1000, 0x7fffffff, 1e9), { freq: 4 }),
      }),
    },
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant("kcall" as const),
        mtype: fc.oneof(
          {
            weight: 8,
            arbitrary: fc.constantFrom(...IMPLEMENTED).map((c) => KERNEL_CALL + KCALL_NR[c]),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(...SOME_UNIMPLEMENTED).map((c) => KERNEL_CALL + KCALL_NR[c]),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              0,
              -1,
              KERNEL_CALL - 1,
              KERNEL_CALL + 56,
              KERNEL_CALL + 1000,
              0x7fffffff,
              -0x80000000,
            ),
          },
        ),
        words: fc.array(wordArb(n), { maxLength: 8 }),
        addr: addrArb,
      }),
    },
    {
      weight: 30,
      arbitrary: fc
        .record({ sw: sysWordsArb(n), arg: fc.option(privArgArb(n), { freq: 2 }), addr: addrArb })
        .map(({ sw, arg, addr }): Op => ({ t: "sys", call: sw.call, words: sw.words, arg, addr })),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant("privSeq" as const),
        who: fc.nat(n - 1).map((i): EpSpec => ({ k: "peer", i })),
        then: fc.constantFrom(SYS_PRIV_ALLOW, SYS_PRIV_SET_SYS, SYS_PRIV_SET_USER),
        arg: fc.option(privArgArb(n), { freq: 2 }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant("touchEvicted" as const),
        how: fc.constantFrom(
          "diag" as const,
          "random" as const,
          "receive" as const,
          "senda" as const,
        ),
        off: fc.constantFrom(0, 64, PAGE - 32),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant("evict" as const),
        who: fc.nat(n - 1).map((i): EpSpec => ({ k: "peer", i })),
        page: fc.constantFrom(0, 0, 1),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant("poke" as const),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 128 }),
        addr: addrArb,
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant("kcallBytes" as const),
        bytes: fc.uint8Array({ minLength: MESSAGE_SIZE, maxLength: MESSAGE_SIZE }),
        addr: addrArb,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ t: fc.constant("pf" as const), addr: addrArb, write: fc.boolean() }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant("garbage" as const),
        g: fc.constantFrom<Garbage>(
          "num",
          "null",
          "undefined",
          "nope",
          "string",
          "emptyIpc",
          "throwingGetter",
          "frozenIpc",
          "nanIpc",
          "negKcall",
          "badForkentry",
          "badSigentry",
        ),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("throw" as const), error: fc.boolean() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant("return" as const),
        status: fc.constantFrom(0, 1, -1, 255, Number.NaN),
      }),
    },
  );

const TRAP_NAMES: readonly IpcCallName[] = [
  "SEND",
  "RECEIVE",
  "SENDREC",
  "NOTIFY",
  "SENDNB",
  "SENDA",
];

const privArb = (n: number): fc.Arbitrary<PrivCfg> =>
  fc.oneof(
    fc.constant<PrivCfg>("full"),
    fc.constant<PrivCfg>("user"),
    fc.record({
      traps: fc.subarray([...TRAP_NAMES]),
      ipcTo: fc.subarray(Array.from({ length: n }, (_, i) => i)),
      kcalls: fc.subarray([...IMPLEMENTED, ...SOME_UNIMPLEMENTED]),
      sigMgr: fc.option(fc.nat(n - 1), { freq: 3 }),
    }),
  );

const procArb = (n: number, priv: fc.Arbitrary<PrivCfg>): fc.Arbitrary<ProcCfg> =>
  fc.record({
    priv,
    runnable: fc.oneof(
      { weight: 6, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    priority: fc.oneof(fc.constant(7), fc.integer({ min: 0, max: 15 })),
    quantum: fc.integer({ min: 1, max: 4 }),
    dataPages: fc.constantFrom(1, 2, 16),
    script: fc.array(opArb(n), { maxLength: 60, size: "max" }),
    tail: fc.constantFrom("return" as const, "serve" as const, "serve" as const),
    vmAnswers: fc.array(fc.constantFrom(0, 0, -14, -996, -22, 1, VM_REPLY_UNFETCHED), {
      minLength: 1,
      maxLength: 4,
    }),
  });

const machineArb: fc.Arbitrary<MachineCfg> = fc
  .record({ n: fc.integer({ min: 3, max: 6 }), vm: fc.boolean() })
  .chain(({ n, vm }) =>
    fc.record({
      cyclesPerTick: fc.constantFrom(500, 3000, 100_000),
      slots: fc
        .shuffledSubarray(SLOT_CHOICES, { minLength: n, maxLength: n })
        .map((s) => (vm ? [VM_PROC_NR, ...s.slice(1)] : s)),
      procs: fc.tuple(
        // The first is a full system process (VM when there is one), the second a user one.
        procArb(n, fc.constant<PrivCfg>("full")).map((p): ProcCfg =>
          vm
            ? { ...p, runnable: true, tail: "vm", script: p.script.slice(0, 2) }
            : { ...p, runnable: true },
        ),
        procArb(n, fc.constant<PrivCfg>("user")),
        ...Array.from({ length: n - 2 }, () => procArb(n, privArb(n))),
      ),
    }),
  );

// ---------------------------------------------------------------------------------------
// The interpreter: one generator per process, resolving specs at run time.

/**
 * What the programs share: the boot slots, and the machine once booted. Only the VM-like
 * parts use the machine: evicting a peer's page (what VM does when it pages out) and
 * mapping a page to answer a memory request or a page fault (VM has no page-table kernel
 * calls yet, so the test plays that part).
 */
interface World {
  readonly slots: readonly number[];
  m: Machine | null;
}

/** Unmaps page `page` of the data area of the process at `ep`, if it is alive. */
function evict(world: World, ep: number, page: number): void {
  const m = world.m;
  const p = m?.kernel.isokendpt(ep);
  if (m === null || p === undefined || p.cr3 === 0) return;
  unmapPage(m.hw, p.cr3, DATA_BASE + page * PAGE);
}

/** Maps a fresh zeroed page at `addr` in the process at `ep`; false when impossible. */
function vmMap(world: World, ep: number, addr: number): boolean {
  const m = world.m;
  const p = m?.kernel.isokendpt(ep);
  if (m === null || p === undefined || p.cr3 === 0) return false;
  if (m.frames.used + 2 * PAGE > m.hw.mem.size) return false;
  mapPage(m.hw, m.frames, p.cr3, (addr & ~(PAGE - 1)) >>> 0, m.frames.alloc());
  return true;
}

function resolveEp(e: EpSpec, slots: readonly number[]): Endpoint {
  switch (e.k) {
    case "peer":
      return slots[e.i % slots.length]! as Endpoint;
    case "stale":
      return makeEndpoint(1, slots[e.i % slots.length]!);
    case "const":
      return e.v as Endpoint;
  }
}

function resolveAddr(ctx: ProcessContext, a: AddrSpec): VirAddr {
  const base = ctx.heapBase;
  switch (a.k) {
    case "buf":
      return (base + a.off * MESSAGE_SIZE) as VirAddr;
    case "page1":
      return (base + PAGE + a.off * MESSAGE_SIZE) as VirAddr;
    case "unaligned":
      return (base + 1 + a.off * 7) as VirAddr;
    case "pageCross":
      return (base + PAGE - 32) as VirAddr;
    case "dataEnd":
      return (base + ctx.heapSize - 32) as VirAddr;
    case "raw":
      return a.v as VirAddr;
  }
}

function resolveWord(ctx: ProcessContext, w: WordSpec, slots: readonly number[]): number {
  switch (w.k) {
    case "int":
      return w.v;
    case "ep":
      return resolveEp(w.ep, slots);
    case "addr":
      return resolveAddr(ctx, w.a);
  }
}

function garbageTrap(g: Garbage): unknown {
  switch (g) {
    case "num":
      return 42;
    case "null":
      return null;
    case "undefined":
      return undefined;
    case "nope":
      return { kind: "nope" };
    case "string":
      return "ipc";
    case "emptyIpc":
      return { kind: "ipc" };
    case "throwingGetter":
      return {
        get kind(): string {
          throw new Error("hostile getter");
        },
      };
    case "frozenIpc":
      return Object.freeze({ kind: "ipc", call: 3, srcDst: ANY, msg: 0, status: 0 });
    case "nanIpc":
      return { kind: "ipc", call: Number.NaN, srcDst: Infinity, msg: -Infinity, status: 0 };
    case "negKcall":
      return { kind: "kcall", msg: -64 };
    case "badForkentry":
      return { kind: "forkentry", program: 7 };
    case "badSigentry":
      return { kind: "sigentry", entry: "handler" };
  }
}

function makeProgram(cfg: ProcCfg, world: World): Program {
  const slots = world.slots;
  return function* (ctx: ProcessContext): Generator<Trap, number, number> {
    const cpu = ctx.cpu;
    for (const op of cfg.script) {
      switch (op.t) {
        case "ipc": {
          const va = resolveAddr(ctx, op.addr);
          if (op.fill !== null) cpu.write(va, op.fill);
          const ep = resolveEp(op.ep, slots);
          yield { kind: "ipc", call: op.call, srcDst: ep, msg: va, status: 0 };
          break;
        }
        case "senda": {
          const table = resolveAddr(ctx, op.table);
          const entry = new Uint8Array(ASYNMSG_SIZE);
          const v = new DataView(entry.buffer);
          op.entries.forEach((e, i) => {
            entry.fill(0);
            v.setUint32(ASYN_FLAGS, e.flags >>> 0, true);
            v.setInt32(ASYN_DST, resolveEp(e.dst, slots), true);
            v.setInt32(ASYN_RESULT, 12345, true);
            v.setInt32(ASYN_MSG + M_TYPE, e.mtype, true);
            cpu.write((table + i * ASYNMSG_SIZE) as VirAddr, entry);
          });
          yield { kind: "senda", table, count: op.count ?? op.entries.length };
          break;
        }
        case "kcall": {
          const va = resolveAddr(ctx, op.addr);
          const msg = new Uint8Array(MESSAGE_SIZE);
          const v = new DataView(msg.buffer);
          v.setInt32(M_TYPE, op.mtype | 0, true);
          op.words.forEach((w, i) => {
            v.setUint32(M_PAYLOAD + 4 * i, resolveWord(ctx, w, slots) >>> 0, true);
          });
          cpu.write(va, msg);
          yield { kind: "kcall", msg: va };
          break;
        }
        case "sys": {
          const words = op.words.map((w) => resolveWord(ctx, w, slots));
          if (op.call === "SYS_PRIVCTL" && words[2] !== undefined) {
            writePrivArg(ctx, words[2] as VirAddr, op.arg, words[0] ?? 0, slots);
          }
          yield* kcallWords(ctx, resolveAddr(ctx, op.addr), KCALL_NR[op.call], words);
          break;
        }
        case "privSeq": {
          const who = resolveEp(op.who, slots);
          const buf = ctx.heapBase;
          const argPtr = op.arg === null ? 0 : buf + MESSAGE_SIZE;
          writePrivArg(ctx, argPtr as VirAddr, op.arg, who, slots);
          yield* kcallWords(ctx, buf, KCALL_NR.SYS_PRIVCTL, [who, SYS_PRIV_DISALLOW, 0]);
          yield* kcallWords(ctx, buf, KCALL_NR.SYS_PRIVCTL, [who, op.then, argPtr]);
          break;
        }
        case "poke":
          cpu.write(resolveAddr(ctx, op.addr), op.bytes);
          break;
        case "evict":
          evict(world, resolveEp(op.who, slots), op.page);
          break;
        case "touchEvicted": {
          const va = (ctx.heapBase + PAGE + op.off) as VirAddr;
          const self = world.m?.kernel.procs.find((p) => p.context === ctx)?.endpoint ?? NONE;
          evict(world, self, 1);
          if (op.how === "diag")
            yield* kcallWords(ctx, ctx.heapBase, KCALL_NR.SYS_DIAGCTL, [va, 40]);
          else if (op.how === "random") {
            yield* kcallWords(ctx, ctx.heapBase, KCALL_NR.SYS_GETINFO, [GET_RANDOMNESS, va, 100]);
          } else if (op.how === "receive") {
            yield { kind: "ipc", call: RECEIVE, srcDst: ANY, msg: va, status: 0 };
          } else yield { kind: "senda", table: va, count: 1 };
          break;
        }
        case "kcallBytes": {
          const va = resolveAddr(ctx, op.addr);
          cpu.write(va, op.bytes);
          yield { kind: "kcall", msg: va };
          break;
        }
        case "pf":
          yield { kind: "pagefault", addr: resolveAddr(ctx, op.addr), write: op.write };
          break;
        case "garbage":
          yield garbageTrap(op.g) as never;
          break;
        case "throw":
          if (op.error) throw new Error("random crash");
          throw 42 as unknown as Error;
        case "return":
          return op.status;
      }
    }
    if (cfg.tail === "return") return 0;
    if (cfg.tail === "vm") return yield* vmLoop(ctx, cfg.vmAnswers, world);
    const buf = ctx.heapBase;
    const m = new Uint8Array(MESSAGE_SIZE);
    const v = new DataView(m.buffer);
    for (;;) {
      const t: Trap = { kind: "ipc", call: RECEIVE, srcDst: ANY, msg: buf, status: 0 };
      const r = yield t;
      if (r !== 0) return r;
      if (cpu.read(buf, m) !== 0 || isIpcNotify(t.status)) continue;
      const from = v.getInt32(M_SOURCE, true) as Endpoint;
      v.setInt32(M_TYPE, 0, true);
      cpu.write(buf, m);
      yield { kind: "ipc", call: SENDNB, srcDst: from, msg: buf, status: 0 };
    }
  };
}

/**
 * Writes a PRIV_ARG block for SET_SYS on `target`. The target is never made its own signal
 * manager: a lethal signal for a signal manager is a deliberate panic in MINIX (`cause_sig`).
 */
function writePrivArg(
  ctx: ProcessContext,
  va: VirAddr,
  a: PrivArgSpec | null,
  target: number,
  slots: readonly number[],
): void {
  if (a === null) return;
  const mgr = resolveEp(a.sigMgr, slots);
  const bytes = new Uint8Array(PRIV_ARG.size);
  PRIV_ARG.write(new DataView(bytes.buffer), { ...a, sigMgr: mgr === target ? NONE : mgr });
  ctx.cpu.write(va, bytes);
}

/** Writes kernel call `nr` with payload `words` at `va` and traps. */
function* kcallWords(
  ctx: ProcessContext,
  va: VirAddr,
  nr: number,
  words: readonly number[],
): Generator<Trap, void, number> {
  const msg = new Uint8Array(MESSAGE_SIZE);
  const v = new DataView(msg.buffer);
  v.setInt32(M_TYPE, KERNEL_CALL + nr, true);
  words.forEach((w, i) => v.setUint32(M_PAYLOAD + 4 * i, w >>> 0, true));
  ctx.cpu.write(va, msg);
  yield { kind: "kcall", msg: va };
}

/** A VM answer that means: reply to every process without fetching its request first. */
const VM_REPLY_UNFETCHED = 7;

/** Writes a SYS_VMCTL request at `buf` and traps; returns m_type of the reply. */
function* vmctl(
  ctx: ProcessContext,
  buf: VirAddr,
  who: number,
  param: number,
  value: number,
): Generator<Trap, number, number> {
  const m = new Uint8Array(MESSAGE_SIZE);
  const v = new DataView(m.buffer);
  v.setInt32(M_TYPE, KERNEL_CALL + KCALL_NR.SYS_VMCTL, true);
  v.setInt32(M_PAYLOAD, who, true);
  v.setInt32(M_PAYLOAD + 4, param, true);
  v.setInt32(M_PAYLOAD + 8, value, true);
  ctx.cpu.write(buf, m);
  yield { kind: "kcall", msg: buf };
  ctx.cpu.read(buf, m);
  return v.getInt32(M_TYPE, true);
}

/**
 * A minimal VM: answers SIGKMEM by fetching every memory request and replying with the next
 * answer; answers a page fault by clearing it (the page stays absent, so the process faults
 * again) or, when the answer is an error, by clearing the faulting process's slot.
 */
function* vmLoop(
  ctx: ProcessContext,
  answers: readonly number[],
  world: World,
): Generator<Trap, number, number> {
  const buf = ctx.heapBase;
  const kbuf = (ctx.heapBase + MESSAGE_SIZE) as VirAddr;
  const m = new Uint8Array(MESSAGE_SIZE);
  const v = new DataView(m.buffer);
  let turn = 0;
  const answer = (): number => answers[turn++ % answers.length]!;
  for (;;) {
    const t: Trap = { kind: "ipc", call: RECEIVE, srcDst: ANY, msg: buf, status: 0 };
    const r = yield t;
    if (r !== 0) return r;
    if (ctx.cpu.read(buf, m) !== 0) continue;
    const from = v.getInt32(M_SOURCE, true);
    if (isIpcNotify(t.status)) {
      if (from !== SYSTEM) continue;
      if (answer() === VM_REPLY_UNFETCHED) {
        // A buggy VM: answers requests it never fetched.
        for (const slot of world.slots) yield* vmctl(ctx, kbuf, slot, VMCTL_MEMREQ_REPLY, 0);
        continue;
      }
      for (;;) {
        const type = yield* vmctl(ctx, kbuf, SELF, VMCTL_MEMREQ_GET, 0);
        if (type < 0) break;
        ctx.cpu.read(kbuf, m);
        const target = v.getInt32(M_PAYLOAD + 12, true);
        const addr = v.getUint32(M_PAYLOAD + 16, true);
        const length = v.getUint32(M_PAYLOAD + 20, true);
        const requestor = v.getInt32(M_PAYLOAD + 28, true);
        const a = answer();
        if (a === 0) {
          // Map every page of the range (at most a few: requests are short).
          const last = Math.min(addr + Math.max(1, length) - 1, 0xffffffff);
          for (let pg = addr & ~(PAGE - 1); pg <= last && pg - addr < 4 * PAGE; pg += PAGE) {
            vmMap(world, target, pg);
          }
        }
        yield* vmctl(ctx, kbuf, requestor, VMCTL_MEMREQ_REPLY, a);
      }
    } else if (v.getInt32(M_TYPE, true) === VM_PAGEFAULT) {
      const a = answer();
      if (a === 0) vmMap(world, from, v.getUint32(M_PAYLOAD, true));
      if (a === 0 || a === -996) yield* vmctl(ctx, kbuf, from, VMCTL_CLEAR_PAGEFAULT, 0);
      else {
        v.setInt32(M_TYPE, KERNEL_CALL + KCALL_NR.SYS_CLEAR, true);
        v.setInt32(M_PAYLOAD, from, true);
        ctx.cpu.write(kbuf, m);
        yield { kind: "kcall", msg: kbuf };
      }
    }
  }
}

function bootFrom(cfg: MachineCfg): Machine {
  const world: World = { slots: cfg.slots, m: null };
  const names = cfg.procs.map((_, i) => `p${i}`);
  const image: BootImageEntry[] = cfg.procs.map((p, i) => {
    let priv: BootImageEntry["priv"];
    if (p.priv === "user") priv = "user";
    else if (p.priv === "full") priv = {};
    else {
      const spec: BootPrivSpec = {
        traps: p.priv.traps,
        ipcTo: p.priv.ipcTo.map((j) => names[j]!),
        kcalls: p.priv.kcalls,
      };
      // Never its own signal manager: a lethal signal for it is a deliberate MINIX panic.
      const mgr = p.priv.sigMgr;
      priv = mgr !== null && mgr !== i ? { ...spec, sigMgr: cfg.slots[mgr]! as Endpoint } : spec;
    }
    return {
      name: names[i]!,
      slot: cfg.slots[i]!,
      program: makeProgram(p, world),
      priority: p.priority,
      quantum: p.quantum,
      dataPages: p.dataPages,
      priv,
      runnable: p.runnable,
    };
  });
  world.m = Machine.boot({
    seed: 7,
    memoryBytes: MEMORY,
    nrProcs: NR_PROCS,
    nrSysProcs: 32,
    cyclesPerTick: cfg.cyclesPerTick,
    image,
  });
  return world.m;
}

/**
 * Alarms are never lost: the timer queue holds exactly the armed alarms of privilege
 * structures in use (the earliest expiry is at or before each), and a non-empty queue has
 * an expiry.
 */
function checkTimers(m: Machine): void {
  const timers = m.kernel.timers;
  const next = timers.next();
  if (timers.size > 0 !== next >= 0) {
    throw new Error(`timer queue of ${timers.size} entries has earliest expiry ${next}`);
  }
  let armed = 0;
  for (const priv of m.kernel.privs.privs) {
    if (priv.isFree || priv.alarmAt < 0) continue;
    armed++;
    if (next < 0 || next > priv.alarmAt) {
      throw new Error(`alarm of privilege ${priv.id} at ${priv.alarmAt} is not queued`);
    }
  }
  if (armed !== timers.size) {
    throw new Error(`${armed} armed alarms but ${timers.size} queued timers`);
  }
}

/**
 * Physical frames of data pages no address in the scripts can reach (pages 2 … n-2 of a
 * data area: buffers, tables and lengths stay in pages 0–1, `dataEnd` is in the last page).
 * Nothing ever writes there, so they must stay zero.
 */
function canaryFrames(m: Machine): number[] {
  const frames: number[] = [];
  for (const p of m.kernel.procs) {
    if (p.isFree || p.context === null || p.cr3 === 0) continue;
    const pages = p.context.heapSize / PAGE;
    for (let pg = 2; pg < pages - 1; pg++) {
      const pa = m.hw.mmu.translate(p.cr3, DATA_BASE + pg * PAGE, false, true);
      if (pa >= 0) frames.push(pa);
    }
  }
  return frames;
}

function zeroFrame(m: Machine, pa: number): boolean {
  const u8 = m.hw.mem.u8;
  for (let i = pa; i < pa + PAGE; i++) if (u8[i] !== 0) return false;
  return true;
}

/** No byte of physical memory that the boot loader never handed out was written. */
function untouchedTail(m: Machine): boolean {
  const u8 = m.hw.mem.u8;
  for (let pa = m.frames.used; pa < u8.length; pa++) if (u8[pa] !== 0) return false;
  return true;
}

describe("random traps", () => {
  test("never panic the kernel and keep its invariants after every step", () => {
    let steps = 0;
    const prop = fc.property(machineArb, (cfg) => {
      const m = bootFrom(cfg);
      const canaries = canaryFrames(m);
      let n = 0;
      while (n < STEP_BUDGET) {
        const more = m.step();
        n++;
        if (m.halted !== null) throw new Error(`kernel panic after ${n} steps: ${m.halted}`);
        m.check();
        checkTimers(m);
        if (!more) break;
      }
      steps += n;
      expect(untouchedTail(m)).toBe(true);
      expect(canaries.filter((pa) => !zeroFrame(m, pa))).toEqual([]);
    });
    fc.assert(prop, { seed: 42, numRuns: 200 });
    // The runs did real work.
    expect(steps).toBeGreaterThan(200 * 10);
  }, 120_000);
});
