/**
 * Kernel panics: a broken kernel invariant is a bug, never a user error. The machine halts
 * and the message says what broke and where. MINIX: kernel/utility.c `panic()`.
 */
export class KernelPanic extends Error {
  override readonly name = "KernelPanic";
}

export function panic(message: string): never {
  throw new KernelPanic(message);
}
