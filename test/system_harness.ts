/**
 * Shared pieces for the kernel-call tests. Unit tests under src/kernel may only import the
 * kernel's own layers and test/ (see test/layers.ts), so the machine, the loader and the user
 * library they drive are reached through this file.
 */
import { expect } from "vitest";
import { ANY, type Endpoint } from "../src/include/endpoint.ts";
import { KERNEL_CALL, KCALL_NR, type KcallNrName } from "../src/include/kcall.ts";
import { Message, MESSAGE_SIZE } from "../src/include/message.ts";
import type { ProcessContext } from "../src/include/trap.ts";
import type { VirAddr } from "../src/include/types.ts";
import type { BootImageEntry } from "../src/boot/image.ts";
import { Machine } from "../src/boot/machine.ts";
import type { MachineEvent } from "../src/hw/events.ts";
import { receive, type Syscall } from "../src/lib/ipc.ts";
import { kernelCallAt } from "../src/lib/libsys/kernel_call.ts";
import { load, store } from "../src/lib/mem.ts";
import { malloc } from "../src/lib/runtime.ts";

export { Machine } from "../src/boot/machine.ts";
export type { BootImageEntry } from "../src/boot/image.ts";
export type { ProgramSpec } from "../src/boot/options.ts";
export { DATA_BASE, mapPage, unmapPage } from "../src/boot/loader.ts";
export { PAGE_SIZE } from "../src/hw/memory.ts";
export type { MachineEvent } from "../src/hw/events.ts";
export { notify, receive, send, sendrec, type IpcStatus, type Syscall } from "../src/lib/ipc.ts";
export { load, store } from "../src/lib/mem.ts";
export { malloc } from "../src/lib/runtime.ts";
export { UMessage } from "../src/lib/umessage.ts";
export { kernelCall, kernelCallAt } from "../src/lib/libsys/kernel_call.ts";
export {
  sysGetimage,
  sysGetinfo,
  sysGetkinfo,
  sysHz,
  sysRandomness,
  sysWhoami,
} from "../src/lib/libsys/sys_getinfo.ts";
export {
  sysClear,
  sysDiagctl,
  sysExec,
  sysExit,
  sysPrivctl,
  sysSetalarm,
  sysSetgrant,
  sysTimes,
} from "../src/lib/libsys/sys_misc.ts";
export { sysVmctl, sysVmctlGetMemreq, sysVmctlReplyMemreq } from "../src/lib/libsys/sys_vmctl.ts";
export { setForkEntry } from "../src/lib/fork.ts";
export {
  sysEndksig,
  sysGetksig,
  sysKill,
  sysSigreturn,
  sysSigsend,
} from "../src/lib/libsys/sys_signal.ts";
export * from "../src/lib/libsys/safecopies.ts";
export * from "../src/lib/libsys/sys_safecopy.ts";
export { vmEntry } from "../src/boot/services.ts";
export { minixMmap } from "../src/lib/libc/mmap.ts";

/** Boots a small machine with `image` (4 MiB, one tick every `cyclesPerTick` cycles). */
export function bootImage(
  image: readonly BootImageEntry[],
  opts: { cyclesPerTick?: number; seed?: number; hz?: number } = {},
): Machine {
  return Machine.boot({
    memoryBytes: 4 << 20,
    nrProcs: 64,
    cyclesPerTick: opts.cyclesPerTick ?? 1_000_000,
    seed: opts.seed ?? 1,
    hz: opts.hz ?? 60,
    image,
  });
}

/** Runs to idle (bounded), then checks the kernel's invariants. */
export function runChecked(m: Machine, maxSteps = 100_000): void {
  const n = m.runUntilIdle(maxSteps);
  if (n >= maxSteps) throw new Error(`machine still busy after ${maxSteps} steps`);
  m.check();
}

/** Runs `m` to idle (checked); no process may have died of anything but a normal exit. */
export function settle(m: Machine): Machine {
  const exits = recordEvents(m, "exit");
  runChecked(m);
  expect(m.halted).toBeNull();
  expect(exits.filter((e) => e.reason !== "exit")).toEqual([]);
  return m;
}

/** Boots `image` (see `bootImage`) and settles it (see `settle`). */
export function bootSettled(image: readonly BootImageEntry[]): Machine {
  return settle(bootImage(image));
}

/** A process at priority 6 (ahead of queue 7) that waits in one RECEIVE(ANY), then exits. */
export function idler(name: string, slot: Endpoint, runnable = true): BootImageEntry {
  return {
    name,
    slot,
    priority: 6,
    runnable,
    program: function* (ctx) {
      yield* receive(ANY, malloc(ctx, 64, 64));
      return 0;
    },
  };
}

/** Collects every event of the given kinds (subscribe before running). */
export function recordEvents<K extends MachineEvent["kind"]>(
  m: Machine,
  ...kinds: K[]
): Extract<MachineEvent, { kind: K }>[] {
  const out: Extract<MachineEvent, { kind: K }>[] = [];
  m.onEvent((e) => {
    if ((kinds as string[]).includes(e.kind)) out.push(e as Extract<MachineEvent, { kind: K }>);
  });
  return out;
}

/** The request message a raw call writes, and the whole message found there afterwards. */
export interface RawCall {
  readonly result: number;
  readonly reply: Message;
}

/**
 * A kernel call with a hand-made request message: `fill` writes it (type, source, payload),
 * it is stored at `va` (a fresh 64-byte buffer by default) and the kernel-call trap is taken.
 * Returns the trap result and the message found at `va` afterwards (a blank message when
 * `va` cannot be read).
 */
export function* rawKcall(
  ctx: ProcessContext,
  fill: (m: Message) => void,
  va: VirAddr = malloc(ctx, MESSAGE_SIZE, 64),
): Syscall<RawCall> {
  const req = new Message();
  fill(req);
  if (ctx.cpu.write(va, req.bytes) !== 0) {
    // The buffer is deliberately unreadable: trap without writing it.
    const result = yield* kernelCallAt(va);
    return { result, reply: new Message() };
  }
  const result = yield* kernelCallAt(va);
  const reply = new Message();
  yield* load(ctx, va, reply.bytes);
  return { result, reply };
}

/** `m_type` of kernel call `name`. */
export function kcallType(name: KcallNrName): number {
  return KERNEL_CALL + KCALL_NR[name];
}

/** Writes `bytes` at `va` in the caller (faults are resolved like any store). */
export function* poke(ctx: ProcessContext, va: VirAddr, bytes: Uint8Array): Syscall<void> {
  yield* store(ctx, va, bytes);
}

/** Reads `len` bytes at `va` in the caller. */
export function* peek(ctx: ProcessContext, va: VirAddr, len: number): Syscall<Uint8Array> {
  const out = new Uint8Array(len);
  yield* load(ctx, va, out);
  return out;
}
