/**
 * Small `sys_*` wrappers, one kernel call each: times, setalarm, exit, clear, privctl,
 * setgrant, diagctl, exec. MINIX: lib/libsys/sys_*.c.
 */
import type { Endpoint } from "../../include/endpoint.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import type { Syscall } from "../ipc.ts";
import { store } from "../mem.ts";
import { malloc } from "../runtime.ts";
import { kernelCall, type KcallResult } from "./kernel_call.ts";

export function sysTimes(ctx: ProcessContext, endpt: Endpoint): Syscall<KcallResult<"SYS_TIMES">> {
  return kernelCall(ctx, "SYS_TIMES", { endpt });
}

/** Arms the alarm `expTime` ticks from now (absolute if `abs`); 0 cancels. */
export function* sysSetalarm(ctx: ProcessContext, expTime: number, abs = false): Syscall {
  const r = yield* kernelCall(ctx, "SYS_SETALARM", { expTime, absTime: abs ? 1 : 0 });
  return r.status;
}

/** Asks the kernel to end this system process; does not return. */
export function* sysExit(ctx: ProcessContext): Syscall {
  const r = yield* kernelCall(ctx, "SYS_EXIT", {});
  return r.status;
}

export function* sysClear(ctx: ProcessContext, endpt: Endpoint): Syscall {
  return (yield* kernelCall(ctx, "SYS_CLEAR", { endpt })).status;
}

export function* sysPrivctl(
  ctx: ProcessContext,
  endpt: Endpoint,
  request: number,
  argPtr: VirAddr = virAddr(0),
): Syscall {
  return (yield* kernelCall(ctx, "SYS_PRIVCTL", { endpt, request, argPtr })).status;
}

export function* sysSetgrant(ctx: ProcessContext, addr: VirAddr, size: number): Syscall {
  return (yield* kernelCall(ctx, "SYS_SETGRANT", { addr, size })).status;
}

/** Prints `text` on the console through the kernel. */
export function* sysDiagctl(ctx: ProcessContext, text: string): Syscall {
  const bytes = new TextEncoder().encode(text);
  const buf = callBuffer(diagBuffers, ctx, bytes.length);
  yield* store(ctx, buf, bytes);
  return (yield* kernelCall(ctx, "SYS_DIAGCTL", { buf, len: bytes.length })).status;
}

type CallBuffers = WeakMap<ProcessContext, { va: VirAddr; size: number }>;

/** Print buffers (diagctl) and exec buffers (name and arguments), one of each per process. */
const diagBuffers: CallBuffers = new WeakMap();
const execBuffers: CallBuffers = new WeakMap();

/** The process's reusable buffer in `buffers`, grown as needed. */
function callBuffer(buffers: CallBuffers, ctx: ProcessContext, size: number): VirAddr {
  const b = buffers.get(ctx);
  if (b !== undefined && b.size >= size) return b.va;
  const n = Math.max(256, size);
  const va = malloc(ctx, n);
  buffers.set(ctx, { va, size: n });
  return va;
}

/**
 * `sys_exec(endpt, name, argv)`: the kernel starts the registered program `name` anew in
 * `endpt` with arguments `argv` (PM's call, after VM_EXEC_NEWMEM). The name and the
 * NUL-terminated arguments are passed in a buffer of the caller.
 */
export function* sysExec(
  ctx: ProcessContext,
  endpt: Endpoint,
  name: string,
  argv: readonly string[],
): Syscall {
  const enc = new TextEncoder();
  const nameBytes = enc.encode(name);
  const block = enc.encode(argv.map((a) => `${a}\0`).join(""));
  const buf = callBuffer(execBuffers, ctx, nameBytes.length + block.length);
  yield* store(ctx, buf, nameBytes);
  const argvVa = virAddr(buf + nameBytes.length);
  if (block.length > 0) yield* store(ctx, argvVa, block);
  return (yield* kernelCall(ctx, "SYS_EXEC", {
    endpt,
    name: buf,
    nameLen: nameBytes.length,
    argv: argvVa,
    argvLen: block.length,
  })).status;
}
