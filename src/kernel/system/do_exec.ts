/**
 * SYS_EXEC: a process starts a registered program anew. The program table (boot option
 * `programs`) plays the role of /bin until a file system holds them; the memory of the new
 * image is VM's business (VM_EXEC_NEWMEM, which PM asks for first).
 *
 * Caller:  PM (SYS_EXEC in its call mask).
 * Request: endpt — the process; name, nameLen — the program's name in the caller's memory
 *          (1..PROGRAM_NAME_MAX bytes); argv, argvLen — its arguments in the caller's
 *          memory, each terminated by a NUL byte (0..EXEC_ARGV_MAX bytes; "" is no argument).
 *          With endpt NONE only the name is looked up (PM's check before it asks VM for memory).
 * Reply:   status. EINVAL: not a live user-space process, bad lengths, or an argument block
 *          that does not end in NUL; EBUSY: the process is sending or waiting for VM (a page
 *          fault, a memory request) — PM execs a process blocked in its request, never one of
 *          those; ENOENT: no such program; EFAULT: a buffer VM cannot make present.
 *          Nothing changes unless the result is OK.
 * Effect:  the process gets a fresh generator of the program, with a new context (same data
 *          area, the new arguments), and its name. Its trap record, fork entry, signal entry
 *          and frames and return register are reset, a message not yet copied out or a kernel
 *          call to resume are dropped. If it was blocked RECEIVING (its SENDREC to PM) it is
 *          released from that receive without a reply, as in MINIX: the exec'd process simply
 *          starts anew. Other flags (NO_PRIV, signals, VMINHIBIT) stay. A process that execs
 *          itself gets no reply.
 *          Its safemap records, as grantee or grantor, are dropped (mapinfo.ts).
 * MINIX:   minix/kernel/system/do_exec.c (MINIX-SPEC §3.7; no stack or entry point here).
 */
import { NONE } from "../../include/endpoint.ts";
import { EBUSY, EDONTREPLY, EINVAL, ENOENT, OK } from "../../include/errno.ts";
import { EXEC_ARGV_MAX, PROGRAM_NAME_MAX } from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr } from "../../include/types.ts";
import { UserCpuPort } from "../cpu_port.ts";
import { startProgram } from "../program.ts";
import type { Kernel } from "../kernel.ts";
import { clearMappings } from "../mapinfo.ts";
import { copyFromProc } from "../memory.ts";
import {
  MF_DELIVERMSG,
  MF_KCALL_RESUME,
  MF_REPLY_PEND,
  RTS_PAGEFAULT,
  RTS_RECEIVING,
  RTS_SENDING,
  RTS_VMREQUEST,
  VMSTYPE_KERNELCALL,
  type Proc,
} from "../proc.ts";
import { resetSigFrames } from "../signal.ts";
import type { KcallMsg } from "../system.ts";
import { copyFaulted } from "../vmrequest.ts";

const decoder = new TextDecoder("utf-8", { fatal: false });

export function doExec(k: Kernel, caller: Proc, m: KcallMsg<"SYS_EXEC">): number {
  // Check.
  const { endpt, name, nameLen, argv, argvLen } = m.req;
  const p = endpt === NONE ? undefined : k.isokendpt(endpt);
  if (endpt !== NONE && (p === undefined || p.isKernelTask)) return EINVAL;
  if (nameLen < 1 || nameLen > PROGRAM_NAME_MAX) return EINVAL;
  if (argvLen < 0 || argvLen > EXEC_ARGV_MAX) return EINVAL;
  if (p !== undefined && (p.rtsFlags & (RTS_SENDING | RTS_PAGEFAULT | RTS_VMREQUEST)) !== 0)
    return EBUSY;
  const nameBytes = new Uint8Array(nameLen);
  if (copyFromProc(k, caller, name, nameBytes, 0, nameLen) !== OK) {
    return copyFaulted(k, caller, caller, name + nameLen - k.faultAddr, VMSTYPE_KERNELCALL);
  }
  const block = new Uint8Array(argvLen);
  if (argvLen > 0 && copyFromProc(k, caller, argv, block, 0, argvLen) !== OK) {
    return copyFaulted(k, caller, caller, argv + argvLen - k.faultAddr, VMSTYPE_KERNELCALL);
  }
  const args = splitArgs(block);
  if (args === undefined) return EINVAL;
  const progName = decoder.decode(nameBytes);
  const program = k.opts.programs?.get(progName);
  if (program === undefined) return ENOENT;
  if (p === undefined) return OK;
  const old = p.context;
  const ctx: ProcessContext = {
    argv: args,
    cpu: new UserCpuPort(k, p),
    heapBase: old?.heapBase ?? virAddr(0),
    heapSize: old?.heapSize ?? 0,
  };
  const gen = startProgram(program, ctx);
  if (gen === undefined) return EINVAL;

  // Act.
  clearMappings(k, p); // its old memory, mapped or granted for mapping, is gone
  p.name = progName;
  p.program = program;
  p.forkEntry = null;
  resetSigFrames(p);
  p.context = ctx;
  p.gen = gen;
  p.trap = null;
  p.trapIsIpc = false;
  p.retreg = 0;
  p.ipcStatus = 0;
  p.miscFlags &= ~(MF_DELIVERMSG | MF_KCALL_RESUME | MF_REPLY_PEND);
  if ((p.rtsFlags & RTS_RECEIVING) !== 0) {
    p.getfrom = NONE;
    k.clearRts(p, RTS_RECEIVING);
  }
  return p === caller ? EDONTREPLY : OK;
}

/** NUL-terminated strings → arguments; undefined if the block does not end in NUL. */
function splitArgs(block: Uint8Array): string[] | undefined {
  if (block.length === 0) return [];
  if (block[block.length - 1] !== 0) return undefined;
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < block.length; i++) {
    if (block[i] !== 0) continue;
    out.push(decoder.decode(block.subarray(start, i)));
    start = i + 1;
  }
  return out;
}
