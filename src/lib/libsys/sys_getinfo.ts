/**
 * `sys_getinfo` family: whoami, kernel information, clock rate, randomness, boot image.
 * MINIX: lib/libsys/sys_getinfo.c, sys_whoami.
 */
import { cString } from "../../include/message.ts";
import type { Endpoint } from "../../include/endpoint.ts";
import { OK } from "../../include/errno.ts";
import {
  BOOT_IMAGE_ENTRY,
  type BootImage,
  GET_HZ,
  GET_IMAGE,
  GET_KINFO,
  GET_RANDOMNESS,
  GET_WHOAMI,
  KINFO_FIELDS,
  KINFO_SIZE,
} from "../../include/kcall.ts";
import type { ProcessContext } from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import type { Syscall } from "../ipc.ts";
import { load } from "../mem.ts";
import { malloc } from "../runtime.ts";
import { kernelCall } from "./kernel_call.ts";

export interface WhoAmI {
  readonly endpoint: Endpoint;
  readonly name: string;
  readonly privFlags: number;
}

export type KInfo = Record<(typeof KINFO_FIELDS)[number], number>;

/** SYS_GETINFO with a buffer of the caller's choosing; returns the status. */
export function* sysGetinfo(
  ctx: ProcessContext,
  request: number,
  valPtr: VirAddr,
  valLen: number,
): Syscall {
  const r = yield* kernelCall(ctx, "SYS_GETINFO", {
    request,
    valPtr,
    valLen,
    valPtr2: virAddr(0),
    valLen2: 0,
  });
  return r.status;
}

export function* sysWhoami(ctx: ProcessContext): Syscall<WhoAmI | number> {
  const r = yield* kernelCall(ctx, "SYS_GETINFO", {
    request: GET_WHOAMI,
    valPtr: virAddr(0),
    valLen: 0,
    valPtr2: virAddr(0),
    valLen2: 0,
  });
  if (r.status !== OK) return r.status;
  return { endpoint: r.reply.endpt, privFlags: r.reply.privFlags, name: cString(r.reply.name) };
}

export function* sysGetkinfo(ctx: ProcessContext): Syscall<KInfo | number> {
  const buf = malloc(ctx, KINFO_SIZE, 4);
  const status = yield* sysGetinfo(ctx, GET_KINFO, buf, KINFO_SIZE);
  if (status !== OK) return status;
  const bytes = new Uint8Array(KINFO_SIZE);
  yield* load(ctx, buf, bytes);
  const v = new DataView(bytes.buffer);
  const out = {} as KInfo;
  KINFO_FIELDS.forEach((f, i) => (out[f] = v.getUint32(i * 4, true)));
  return out;
}

export function* sysHz(ctx: ProcessContext): Syscall {
  const buf = malloc(ctx, 4, 4);
  const status = yield* sysGetinfo(ctx, GET_HZ, buf, 4);
  if (status !== OK) return status;
  const bytes = new Uint8Array(4);
  yield* load(ctx, buf, bytes);
  return new DataView(bytes.buffer).getUint32(0, true);
}

/** Fills `len` bytes at `buf` with randomness from the machine's seeded generator. */
export function sysRandomness(ctx: ProcessContext, buf: VirAddr, len: number): Syscall {
  return sysGetinfo(ctx, GET_RANDOMNESS, buf, len);
}

/** `sys_getimage`: the kernel's boot image table, kernel tasks first. */
export function* sysGetimage(ctx: ProcessContext, maxEntries = 64): Syscall<BootImage[] | number> {
  const size = BOOT_IMAGE_ENTRY.size;
  const buf = malloc(ctx, maxEntries * size, 4);
  const r = yield* kernelCall(ctx, "SYS_GETINFO", {
    request: GET_IMAGE,
    valPtr: buf,
    valLen: maxEntries * size,
    valPtr2: virAddr(0),
    valLen2: 0,
  });
  if (r.status !== OK) return r.status;
  const count = r.reply.count;
  const bytes = new Uint8Array(count * size);
  yield* load(ctx, buf, bytes);
  const out: BootImage[] = [];
  for (let i = 0; i < count; i++) {
    const e = BOOT_IMAGE_ENTRY.read(new DataView(bytes.buffer, i * size, size));
    out.push({ ...e, name: cString(e.name) });
  }
  return out;
}
