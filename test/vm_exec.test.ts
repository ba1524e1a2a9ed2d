/**
 * exec through VM and the kernel (MINIX-SPEC §3.7, §8.9): a system process in PM's slot plays
 * PM — on an app's request it looks the program up (the boot option `programs` plays /bin;
 * an unknown name is ENOENT before anything changes), asks VM for the new image
 * (VM_EXEC_NEWMEM: built first, so on ENOMEM the old image is untouched and pm replies the
 * error), then has the kernel start the program (SYS_EXEC, after which the app gets no
 * reply: it simply runs the new program). VM checks its invariants after every request, the
 * kernel its own after every step, and VM must still be running at the end.
 */
import { describe, expect, test } from "vitest";
import type { BootImageEntry } from "../src/boot/image.ts";
import { Machine } from "../src/boot/machine.ts";
import type { ProgramSpec } from "../src/boot/options.ts";
import { vmEntry } from "../src/boot/services.ts";
import { ANY, PM_PROC_NR, type Endpoint } from "../src/include/endpoint.ts";
import { ENOENT, ENOMEM, OK } from "../src/include/errno.ts";
import { defineLayout } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import { virAddr } from "../src/include/types.ts";
import { receive, send, sendrec, type Syscall } from "../src/lib/ipc.ts";
import { vmInfo } from "../src/lib/libc/mmap.ts";
import { vmExecNewmem } from "../src/lib/libc/vm_ipc.ts";
import { sysDiagctl, sysExec } from "../src/lib/libsys/sys_misc.ts";
import { store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";
import { UMessage } from "../src/lib/umessage.ts";
import { peek, runVm } from "./fixtures/vm.ts";

const PAGE = 4096;
const DATA = 0x40_0000;
const PM = PM_PROC_NR;
const APP = 11 as Endpoint;
/** A byte in the app's data area (16 pages), written before exec. */
const X = DATA + 3 * PAGE + 5;

const PM_EXEC = 1; // a: index in NAMES → no reply on success
const PM_RAWEXEC = 2; // a: index in NAMES: SYS_EXEC without lookup or VM
const PM_FREE = 3; // value: VM's free frame count
const NAMES = ["hello", "big", "nope"] as const;
const REQ = defineLayout({ a: "u32" });
const ANSWER = defineLayout({ value: "u32" });

function pmOf(programs: Readonly<Record<string, ProgramSpec>>) {
  return function* pm(ctx: ProcessContext): Syscall {
    const um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    for (;;) {
      if ((yield* receive(ANY, um.va)) !== OK) continue;
      const m = yield* um.get();
      const src = m.source;
      const name = NAMES[m.get(REQ).a] ?? "";
      let status = OK;
      let value = 0;
      if (m.type === PM_EXEC) {
        // PM (with the file system) finds the program first: nothing changes if it is missing.
        const spec = Object.hasOwn(programs, name) ? programs[name] : undefined;
        if (spec === undefined) {
          status = ENOENT;
        } else {
          status = (yield* vmExecNewmem(ctx, src, spec.imagePages)).status;
          if (status === OK) status = yield* sysExec(ctx, src, name, [name, "x", "y"]);
          // After SYS_EXEC the process runs its new program: it gets no reply.
          if (status === OK) continue;
        }
      } else if (m.type === PM_RAWEXEC) {
        status = yield* sysExec(ctx, src, name, [name]);
        if (status === OK) continue;
      } else if (m.type === PM_FREE) {
        value = (yield* vmInfo(ctx)).freeFrames;
      }
      um.m.set(status, ANSWER, { value });
      yield* um.put();
      yield* send(src, um.va);
    }
  };
}

const askBuffers = new WeakMap<ProcessContext, UMessage>();

function* ask(
  ctx: ProcessContext,
  type: number,
  a = 0,
): Syscall<{ status: number; value: number }> {
  let um = askBuffers.get(ctx);
  if (um === undefined) {
    um = new UMessage(ctx, malloc(ctx, UMessage.SIZE, 64));
    askBuffers.set(ctx, um);
  }
  um.m.set(type, REQ, { a });
  yield* um.put();
  const r = yield* sendrec(PM, um.va);
  if (r !== OK) return { status: r, value: 0 };
  const m = yield* um.get();
  return { status: m.type, value: m.get(ANSWER).value };
}

interface Run {
  m: Machine;
  log: (string | number)[];
}

/** Boots VM, pm and an app running `app`; "hello" prints and records what it sees. */
function boot(app: (ctx: ProcessContext, log: (string | number)[]) => Syscall): Run {
  const log: (string | number)[] = [];
  const programs: Record<string, ProgramSpec> = {
    hello: {
      imagePages: 4,
      program: function* (ctx) {
        // The old data area is gone: a fresh demand-zero page.
        log.push(`hello sees ${yield* peek(ctx, X)}`);
        yield* store(ctx, virAddr(X), new Uint8Array([9]));
        log.push(`hello wrote ${yield* peek(ctx, X)}`);
        log.push(yield* sysDiagctl(ctx, `hello ${ctx.argv.join(" ")}\n`));
        log.push(`hello free ${(yield* ask(ctx, PM_FREE)).value}`);
        return 0;
      },
    },
    // More pages than the machine has: VM runs out of memory building it.
    big: { imagePages: 65536, program: vmEntry.program },
  };
  const image: BootImageEntry[] = [
    vmEntry,
    { name: "pm", slot: PM, program: pmOf(programs) },
    { name: "app", slot: APP, program: (ctx) => app(ctx, log) },
  ];
  const m = Machine.boot({ memoryBytes: 8 << 20, vmSanity: true, image, programs });
  runVm(m);
  return { m, log };
}

describe("exec through VM_EXEC_NEWMEM and SYS_EXEC", () => {
  test("the app becomes hello: old data gone, new arguments, output on the console", () => {
    const { m, log } = boot(function* (ctx, log) {
      yield* store(ctx, virAddr(X), new Uint8Array([0x5a]));
      log.push(`free before ${(yield* ask(ctx, PM_FREE)).value}`);
      const r = yield* ask(ctx, PM_EXEC, 0);
      log.push(`unreachable ${r.status}`);
      return 0;
    });
    expect(log.filter((l) => typeof l === "string" && l.startsWith("unreachable"))).toEqual([]);
    expect(log.slice(1, 4)).toEqual(["hello sees 0", "hello wrote 9", OK]);
    expect(m.console).toContain("hello hello x y\n");
    // The old image's frames came back; the image (4 pages) and its tables are in use.
    const before = Number(String(log[0]).split(" ")[2]);
    const after = Number(String(log[4]).split(" ")[2]);
    expect(before - after).toBeGreaterThanOrEqual(4);
    expect(before - after).toBeLessThan(12);
  });

  test("ENOMEM: the app continues in its old image with its data, no frame lost", () => {
    const { log } = boot(function* (ctx, log) {
      yield* store(ctx, virAddr(X), new Uint8Array([0x5a]));
      const free0 = (yield* ask(ctx, PM_FREE)).value;
      const r = yield* ask(ctx, PM_EXEC, 1);
      log.push(r.status);
      log.push(yield* peek(ctx, X));
      log.push((yield* ask(ctx, PM_FREE)).value - free0);
      return 0;
    });
    expect(log).toEqual([ENOMEM, 0x5a, 0]);
  });

  test("unknown program: ENOENT from pm's lookup and from the kernel; nothing changes", () => {
    const { log } = boot(function* (ctx, log) {
      yield* store(ctx, virAddr(X), new Uint8Array([0x5a]));
      const free0 = (yield* ask(ctx, PM_FREE)).value;
      log.push((yield* ask(ctx, PM_EXEC, 2)).status);
      log.push((yield* ask(ctx, PM_RAWEXEC, 2)).status);
      log.push(yield* peek(ctx, X));
      log.push((yield* ask(ctx, PM_FREE)).value - free0);
      return 0;
    });
    expect(log).toEqual([ENOENT, ENOENT, 0x5a, 0]);
  });

  test("after a failed exec the app can still exec", () => {
    const { m, log } = boot(function* (ctx, log) {
      log.push((yield* ask(ctx, PM_EXEC, 1)).status);
      log.push((yield* ask(ctx, PM_EXEC, 0)).status);
      return 0;
    });
    expect(log.slice(0, 3)).toEqual([ENOMEM, "hello sees 0", "hello wrote 9"]);
    expect(m.console).toContain("hello hello x y\n");
  });
});
