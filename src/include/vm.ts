/**
 * The VM server's protocol (requests from 0xC00). Only the page-fault message exists so
 * far: the kernel sends it to VM on behalf of a faulting process (A era).
 * MINIX: include/minix/com.h (MINIX-SPEC §8.5).
 */
import { defineLayout } from "./message.ts";

export const VM_RQ_BASE = 0xc00;
/** Sent by the kernel on behalf of the faulting process (IPC_FLG_MSG_FROM_KERNEL). */
export const VM_PAGEFAULT = VM_RQ_BASE + 0xff;
/** VPF_ADDR, VPF_FLAGS (bit 0: the access was a write). */
export const VM_PAGEFAULT_LAYOUT = defineLayout({ addr: "vir", flags: "u32" });
export const VPF_WRITE = 1;
