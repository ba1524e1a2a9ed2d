/**
 * i386 page-table entry layout as seen by user space (the VM server edits page tables in
 * memory, the hardware walks them). Values equal the simulated MMU's (src/hw/mmu.ts); they
 * are duplicated here because servers may not import src/hw.
 * MINIX: include/arch/i386/vm.h (I386_VM_*), MINIX-SPEC §8.4.
 */

/** Entry is valid. */
export const I386_VM_PRESENT = 0x001;
/** Writable (honoured for user and supervisor accesses). */
export const I386_VM_WRITE = 0x002;
/** User-accessible. */
export const I386_VM_USER = 0x004;
/** Write-through caching (no effect in the simulation). */
export const I386_VM_PWT = 0x008;
/** Caching disabled (MINIX PTF_NOCACHE; no effect in the simulation). */
export const I386_VM_PCD = 0x010;
/** Accessed: set by the MMU on every translation through the entry. */
export const I386_VM_ACC = 0x020;
/** Dirty: set by the MMU on a write through a page (final) entry. */
export const I386_VM_DIRTY = 0x040;
/** Page-directory entry maps a 4 MiB page directly (PS bit). */
export const I386_VM_BIGPAGE = 0x080;
/** Global: the translation survives an address-space switch. */
export const I386_VM_GLOBAL = 0x100;

/** Frame address bits of a 4 KiB entry. */
export const I386_VM_ADDR_MASK = 0xfffff000;
/** Frame address bits of a 4 MiB directory entry. */
export const I386_VM_ADDR_MASK_4MB = 0xffc00000;

export const I386_PAGE_SIZE = 4096;
export const I386_BIG_PAGE_SIZE = 4 * 1024 * 1024;
export const I386_VM_DIR_ENTRIES = 1024;
export const I386_VM_PT_ENTRIES = 1024;

/** Page-directory index of virtual address `v`. */
export function I386_VM_PDE(v: number): number {
  return v >>> 22;
}

/** Page-table index of virtual address `v`. */
export function I386_VM_PTE(v: number): number {
  return (v >>> 12) & 0x3ff;
}
