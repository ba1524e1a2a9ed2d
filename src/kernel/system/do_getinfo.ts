/**
 * SYS_GETINFO: copy kernel information to the caller.
 *
 * Caller:  every process with SYS_GETINFO in its call mask.
 * Request: request — GET_WHOAMI (reply in the message: endpt, privFlags, name),
 *          GET_KINFO (KINFO_SIZE bytes to valPtr), GET_HZ (u32 to valPtr),
 *          GET_RANDOMNESS (valLen bytes, 1..GETINFO_MAX_RANDOM, to valPtr),
 *          GET_IMAGE (the boot image table, BOOT_IMAGE_ENTRY each, to valPtr; valLen must
 *          hold every entry; the reply's count says how many).
 * Reply:   status; EINVAL for other requests or bad lengths; EFAULT when valPtr cannot be
 *          made present. A page that is not present suspends the caller for VM.
 * MINIX:   minix/kernel/system/do_getinfo.c
 */
import { EINVAL, OK } from "../../include/errno.ts";
import {
  BOOT_IMAGE_ENTRY,
  GET_HZ,
  GET_IMAGE,
  GET_KINFO,
  GET_RANDOMNESS,
  GET_WHOAMI,
  GETINFO_MAX_RANDOM,
  KINFO_FIELDS,
  KINFO_SIZE,
} from "../../include/kcall.ts";
import { NR_TASKS } from "../../include/endpoint.ts";
import type { Kernel } from "../kernel.ts";
import { copyToProc } from "../memory.ts";
import { VMSTYPE_KERNELCALL, type Proc } from "../proc.ts";
import type { KcallMsg } from "../system.ts";
import { copyFaulted } from "../vmrequest.ts";

export function doGetinfo(k: Kernel, caller: Proc, m: KcallMsg<"SYS_GETINFO">): number {
  const { request, valPtr, valLen } = m.req;
  let data: Uint8Array;
  switch (request) {
    case GET_WHOAMI:
      m.reply({
        request,
        endpt: caller.endpoint,
        privFlags: caller.priv?.flags ?? 0,
        initFlags: 0,
        name: new TextEncoder().encode(caller.name),
        count: 0,
      });
      return OK;
    case GET_IMAGE: {
      const size = BOOT_IMAGE_ENTRY.size;
      if (valLen < k.image.length * size) return EINVAL;
      data = new Uint8Array(k.image.length * size);
      k.image.forEach((e, i) => {
        const at = new DataView(data.buffer, i * size, size);
        BOOT_IMAGE_ENTRY.write(at, { ...e, name: new TextEncoder().encode(e.name) });
      });
      m.reply({
        request,
        endpt: caller.endpoint,
        privFlags: 0,
        initFlags: 0,
        name: new Uint8Array(0),
        count: k.image.length,
      });
      break;
    }
    case GET_KINFO: {
      data = new Uint8Array(KINFO_SIZE);
      const v = new DataView(data.buffer);
      const values: Record<(typeof KINFO_FIELDS)[number], number> = {
        nrProcs: k.opts.nrProcs,
        nrTasks: NR_TASKS,
        nrSysProcs: k.opts.nrSysProcs,
        frames: k.hw.mem.frames,
        hz: k.opts.hz,
        uptime: k.ticks,
      };
      KINFO_FIELDS.forEach((f, i) => v.setUint32(i * 4, values[f] >>> 0, true));
      break;
    }
    case GET_HZ:
      data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, k.opts.hz, true);
      break;
    case GET_RANDOMNESS: {
      if (valLen < 1 || valLen > GETINFO_MAX_RANDOM) return EINVAL;
      data = new Uint8Array(valLen);
      for (let i = 0; i < valLen; i++) data[i] = k.hw.prng.nextU32() & 0xff;
      break;
    }
    default:
      return EINVAL;
  }
  if (copyToProc(k, caller, valPtr, data, 0, data.length) !== OK) {
    return copyFaulted(k, caller, caller, valPtr + data.length - k.faultAddr, VMSTYPE_KERNELCALL);
  }
  return OK;
}
