/**
 * The VM server's protocol (requests from 0xC00). Only the page-fault message exists so
 * far: the kernel sends it to VM on behalf of a faulting process (A era).
 * MINIX: include/minix/com.h (MINIX-SPEC §8.5).
 */
import { defineLayout, defineStruct } from "./message.ts";

export const VM_RQ_BASE = 0xc00;
/** Sent by the kernel on behalf of the faulting process (IPC_FLG_MSG_FROM_KERNEL). */
export const VM_PAGEFAULT = VM_RQ_BASE + 0xff;
/** VPF_ADDR, VPF_FLAGS (bit 0: the access was a write). */
export const VM_PAGEFAULT_LAYOUT = defineLayout({ addr: "vir", flags: "u32" });
export const VPF_WRITE = 1;

/**
 * VM sees all of physical memory at this address of its own address space (4 MiB pages
 * mapped by the boot loader), so it edits page tables and zeroes frames with ordinary loads
 * and stores (seeds 001, 003). Physical memory is therefore limited to 2 GiB with a VM.
 */
export const VM_PHYS_BASE = 0x8000_0000;
export const VM_PHYS_MAX = 0x8000_0000;

/** Boot information the loader leaves at the start of VM's data area. */
export const VM_BOOTINFO_MAGIC = 0x564d4249;
export const VM_BOOTINFO = defineStruct({
  magic: "u32",
  totalFrames: "u32",
  /** Frames [0, usedFrames) were taken by the loader (page tables, VM's own memory). */
  usedFrames: "u32",
  nprocs: "u32",
  /** Non-zero: VM runs its sanity checks after every request. */
  sanity: "u32",
});
/** One boot process whose memory VM manages: a demand-zero data region. */
export const VM_BOOTPROC = defineStruct({
  endpoint: "endpoint",
  cr3: "u32",
  dataStart: "vir",
  dataPages: "u32",
});
export const VM_BOOTINFO_MAX_PROCS = 64;
export const VM_BOOTINFO_SIZE = VM_BOOTINFO.size + VM_BOOTINFO_MAX_PROCS * VM_BOOTPROC.size;
/** Where the loader leaves the boot information in VM's address space (start of its data). */
export const VM_BOOTINFO_ADDR = 0x0040_0000;
