/**
 * Branded numeric ids and addresses shared by the machine, the kernel and user space.
 * A brand is only a compile-time tag: the value is a plain number.
 */
declare const physBrand: unique symbol;
declare const virBrand: unique symbol;

/** A byte address in simulated physical memory. */
export type PhysAddr = number & { readonly [physBrand]: true };
/** A byte address inside one process's address space. */
export type VirAddr = number & { readonly [virBrand]: true };

export function physAddr(n: number): PhysAddr {
  return n as PhysAddr;
}

export function virAddr(n: number): VirAddr {
  return n as VirAddr;
}
