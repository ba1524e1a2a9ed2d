/**
 * Safemap kernel calls: map pages another process granted with CPF_MAP, and end such
 * mappings (the grantee keeps a private copy). Each returns the kernel's status (OK or a
 * negative code; see do_safemap.ts, do_saferevmap.ts, do_safeunmap.ts).
 * MINIX: lib/libsys/sys_safemap.c (MINIX-SPEC §4.6).
 */
import type { Endpoint } from "../../include/endpoint.ts";
import type { ProcessContext } from "../../include/trap.ts";
import type { VirAddr } from "../../include/types.ts";
import type { Syscall } from "../ipc.ts";
import { kernelCallStatus } from "./kernel_call.ts";

/**
 * `sys_safemap`: map `bytes` at `offset` of grant `gid` of `grantor` at `address` here
 * (page aligned), writable if `writable`.
 */
export function* sysSafemap(
  ctx: ProcessContext,
  grantor: Endpoint,
  gid: number,
  offset: number,
  address: VirAddr,
  bytes: number,
  writable: boolean,
): Syscall {
  const flag = writable ? 1 : 0;
  return yield* kernelCallStatus(ctx, "SYS_SAFEMAP", {
    grantor,
    gid,
    offset,
    address,
    bytes,
    flag,
  });
}

/** `sys_saferevmap_gid`: revoke every mapping made through our grant `gid`. */
export function* sysSaferevmapGid(ctx: ProcessContext, gid: number): Syscall {
  return yield* kernelCallStatus(ctx, "SYS_SAFEREVMAP", { flag: 1, arg: gid >>> 0 });
}

/** `sys_saferevmap_addr`: revoke every mapping of our memory that starts at `addr`. */
export function* sysSaferevmapAddr(ctx: ProcessContext, addr: VirAddr): Syscall {
  return yield* kernelCallStatus(ctx, "SYS_SAFEREVMAP", { flag: 0, arg: addr });
}

/** `sys_safeunmap`: remove our mappings at `address` (we keep a private copy). */
export function* sysSafeunmap(ctx: ProcessContext, address: VirAddr): Syscall {
  return yield* kernelCallStatus(ctx, "SYS_SAFEUNMAP", { address });
}
