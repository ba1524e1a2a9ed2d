/**
 * TEST-ONLY fake kernel for VM's unit tests: runs a VM request handler (a generator that
 * makes kernel calls) and answers each kernel call from a function, recording what was asked.
 * VM itself never imports this file.
 */
import { KCALLS, KERNEL_CALL, kcallName, type KcallName } from "../../include/kcall.ts";
import { Message, MESSAGE_SIZE, type FieldKind, type Layout } from "../../include/message.ts";
import { CPU_OK, type CpuPort, type ProcessContext, type Trap } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import { I386_PAGE_SIZE } from "../../include/vmpt.ts";

/** A kernel call the handler made: its name and decoded request. */
export interface KcallSeen {
  readonly name: KcallName;
  readonly req: Record<string, number>;
}

/** The fake kernel's answer: a status and reply fields (missing ones are 0). */
export interface KernelAnswer {
  readonly status: number;
  readonly reply?: Record<string, number>;
}

/** A CPU port over a plain byte array (the handler's scratch message lives there). */
class FakeCpu implements CpuPort {
  readonly bytes = new Uint8Array(16 * I386_PAGE_SIZE);
  readonly faultAddr = virAddr(0);
  readonly faultWrite = false;
  read(va: VirAddr, dst: Uint8Array): number {
    dst.set(this.bytes.subarray(va, va + dst.length));
    return CPU_OK;
  }
  write(va: VirAddr, src: Uint8Array): number {
    this.bytes.set(src, va);
    return CPU_OK;
  }
  readWords(va: VirAddr, dst: Uint32Array): number {
    return this.read(va, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength));
  }
  writeWords(va: VirAddr, src: Uint32Array): number {
    return this.write(va, new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  }
  /** Never maps: the library takes its copying path. */
  mapWords(): Uint32Array | null {
    return null;
  }
  readonly tlbGen = 0;
  read32(va: VirAddr): number {
    return new DataView(this.bytes.buffer).getUint32(va, true);
  }
  write32(va: VirAddr, value: number): number {
    new DataView(this.bytes.buffer).setUint32(va, value >>> 0, true);
    return CPU_OK;
  }
}

function isKcallName(n: string): n is KcallName {
  return n in KCALLS;
}

/** Runs `handler(ctx)` to its end, answering every kernel call it makes with `answer`. */
export function runWithFakeKernel<R>(
  handler: (ctx: ProcessContext) => Generator<Trap, R, number>,
  answer: (call: KcallSeen) => KernelAnswer,
): { result: R; calls: KcallSeen[] } {
  const cpu = new FakeCpu();
  const ctx: ProcessContext = {
    argv: [],
    cpu,
    heapBase: virAddr(I386_PAGE_SIZE),
    heapSize: 8 * I386_PAGE_SIZE,
  };
  const calls: KcallSeen[] = [];
  const gen = handler(ctx);
  let input = 0;
  for (;;) {
    const step = gen.next(input);
    if (step.done === true) return { result: step.value, calls };
    const trap: Trap = step.value;
    if (trap.kind !== "kcall") throw new Error(`unexpected trap ${trap.kind}`);
    const m = new Message(cpu.bytes.slice(trap.msg, trap.msg + MESSAGE_SIZE));
    const nr = kcallName(m.type - KERNEL_CALL);
    if (nr === undefined || !isKcallName(nr)) throw new Error(`bad kernel call ${m.type}`);
    const def: {
      readonly req: Layout<Readonly<Record<string, FieldKind>>>;
      readonly reply: Layout<Readonly<Record<string, FieldKind>>>;
    } = KCALLS[nr];
    const seen = { name: nr, req: def.req.read(m.view) as Record<string, number> };
    calls.push(seen);
    const a = answer(seen);
    const out = new Message();
    const fields: Record<string, number> = {};
    for (const k of Object.keys(def.reply.read(out.view))) fields[k] = a.reply?.[k] ?? 0;
    out.set(a.status, def.reply, fields);
    cpu.bytes.set(out.bytes, trap.msg);
    input = a.status;
  }
}
