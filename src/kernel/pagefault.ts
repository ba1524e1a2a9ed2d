/**
 * User-mode page faults (A era): the faulting process stops with RTS_PAGEFAULT and the kernel
 * sends VM_PAGEFAULT to VM on its behalf; VM clears the flag with VMCTL_CLEAR_PAGEFAULT. With
 * no VM, or when VM itself faults, the process gets SIGSEGV.
 * MINIX: kernel/arch/i386/exception.c `pagefault` (MINIX-SPEC §8.5).
 */
import { OK } from "../include/errno.ts";
import { M_TYPE } from "../include/message.ts";
import { SIGSEGV } from "../include/signal.ts";
import type { VirAddr } from "../include/types.ts";
import { VM_PAGEFAULT, VM_PAGEFAULT_LAYOUT, VPF_WRITE } from "../include/vm.ts";
import type { Kernel } from "./kernel.ts";
import { FROM_KERNEL, miniSend } from "./ipc/send.ts";
import { RTS_PAGEFAULT, type Proc } from "./proc.ts";
import { causeSig } from "./signal.ts";

export function pageFault(k: Kernel, p: Proc, addr: VirAddr, write: boolean): void {
  if (k.tracing) k.emit({ kind: "fault", t: k.hw.clock.cycles, ep: p.endpoint, addr, write });
  // A fault that no longer happens (resolved meanwhile, or never real) just resumes.
  if (p.cr3 !== 0 && k.hw.mmu.translate(p.cr3, addr, write, true) >= 0) {
    p.retreg = OK;
    return;
  }
  const vm = k.vmProc();
  if (vm === undefined || vm === p) {
    causeSig(k, p, SIGSEGV);
    return;
  }
  const m32 = k.kmsg32;
  m32.fill(0);
  m32[M_TYPE >>> 2] = VM_PAGEFAULT;
  m32[VM_PAGEFAULT_LAYOUT.offsets.addr >>> 2] = addr >>> 0;
  m32[VM_PAGEFAULT_LAYOUT.offsets.flags >>> 2] = write ? VPF_WRITE : 0;
  k.setRts(p, RTS_PAGEFAULT);
  p.retreg = OK;
  if (miniSend(k, p, vm, addr, FROM_KERNEL, m32) !== OK) {
    k.clearRts(p, RTS_PAGEFAULT);
    causeSig(k, p, SIGSEGV);
  }
}
