/**
 * Safecopy throughput beside its lower bound, the host's own `copyWithin` of the same number
 * of bytes. Both are in MB/s (10^6 bytes per second), higher is better, so a figure's ratio
 * (value / lower bound) is the fraction of the host's copy speed that a safecopy reaches.
 */
import { Machine } from "../boot/machine.ts";
import { vmEntry } from "../boot/services.ts";
import { ANY, type Endpoint } from "../include/endpoint.ts";
import { OK } from "../include/errno.ts";
import { CPF_READ, GRANT_INVALID } from "../include/grant.ts";
import type { ProcessContext } from "../include/trap.ts";
import { virAddr } from "../include/types.ts";
import { receive, type Syscall } from "../lib/ipc.ts";
import { cpfGrantDirect } from "../lib/libsys/safecopies.ts";
import { sysSafecopyFrom } from "../lib/libsys/sys_safecopy.ts";
import { malloc } from "../lib/runtime.ts";
import type { Workload } from "./measure.ts";
import { commitRam, countedOps, PAGE, touch, type Progress } from "./workloads.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The sizes of the published figures, by name suffix. */
export const SAFECOPY_SIZES = {
  "64B": 64,
  "4KiB": 4 * KiB,
  "64KiB": 64 * KiB,
  "16MiB": 16 * MiB,
} as const;

/**
 * `copyWithin` of `bytes` between two page-aligned halves of one buffer, committed up front:
 * the memory copy that a safecopy of `bytes` cannot beat. One operation is one copy.
 */
export function hostCopyWithin(name: string, bytes: number): Workload {
  const buf = new Uint8Array(2 * bytes + PAGE);
  buf.fill(1);
  const dst = Math.ceil(bytes / PAGE) * PAGE;
  return {
    name,
    unit: "MB/s",
    bytesPerOp: bytes,
    run(n: number): number {
      for (let i = 0; i < n; i++) buf.copyWithin(dst, 0, bytes);
      if (buf[dst] !== 1) throw new Error(`${name}: copy lost`);
      return n;
    },
  };
}

export const GRANTOR_SLOT = 11;
const REQUESTOR_SLOT = 12;

/** The machine of a grant benchmark. */
export interface GrantSetup {
  readonly name: string;
  /** Bytes of one request. */
  readonly bytes: number;
  /** Source halves the requests alternate between (1 or 2). */
  readonly sources: number;
  /** COW safecopy (from one page up) or plain copies. */
  readonly cow: boolean;
  /** VM in the image; without it all memory is the boot loader's, mapped at boot. */
  readonly vm: boolean;
  /** The grant's access bits. */
  readonly access: number;
}

/** What the requestor repeats, given the grant, its buffer and the source offset: a status. */
export type GrantRequest = (ctx: ProcessContext, gid: number, dst: number, src: number) => Syscall;

/**
 * A grantor grants a page-aligned buffer (with `s.access`) and waits; the requestor
 * makes `request` again and again, each one `opsPerRequest` operations of about
 * `stepsPerRequest` kernel steps. Both store into every page of their buffers first, so no
 * page is missing. Timing starts after two requests.
 */
export function grantPair(
  s: GrantSetup,
  request: GrantRequest,
  unit: Workload["unit"],
  opsPerRequest: number,
  stepsPerRequest: number,
): Workload {
  const state: Progress & { gid: number } = { gid: GRANT_INVALID, ops: 0, error: OK };
  const grantBytes = s.bytes * s.sources;
  function* grantor(ctx: ProcessContext): Syscall {
    const buf = malloc(ctx, grantBytes, PAGE);
    yield* touch(ctx, buf, grantBytes);
    state.gid = yield* cpfGrantDirect(ctx, REQUESTOR_SLOT as Endpoint, buf, grantBytes, s.access);
    const box = malloc(ctx, 64, 64);
    for (;;) yield* receive(ANY, box);
  }
  function* requestor(ctx: ProcessContext): Syscall {
    const dst = malloc(ctx, s.bytes, PAGE);
    yield* touch(ctx, dst, s.bytes);
    for (let i = 0; ; i++) {
      const r = yield* request(ctx, state.gid, dst, (i % s.sources) * s.bytes);
      if (r !== OK) {
        state.error = r;
        return 1;
      }
      state.ops += opsPerRequest;
    }
  }
  const pages = Math.ceil(grantBytes / PAGE) + 8;
  const m = Machine.boot({
    memoryBytes: Math.max(64 * MiB, 4 * grantBytes),
    cowSafecopy: s.cow,
    cowSafecopyMin: PAGE,
    image: [
      ...(s.vm ? [vmEntry] : []),
      { name: "grantor", slot: GRANTOR_SLOT, priority: 6, dataPages: pages, program: grantor },
      {
        name: "requestor",
        slot: REQUESTOR_SLOT,
        priority: 7,
        dataPages: pages,
        program: requestor,
      },
    ],
  });
  commitRam(m);
  return countedOps(s.name, unit, m, state, stepsPerRequest / opsPerRequest, 2 * opsPerRequest);
}

/**
 * SYS_SAFECOPYFROM of `bytes` in a loop, the whole grant each time. Without VM: memory comes
 * from the boot loader (physically contiguous, so big copies move long runs of frames at once)
 * and no page is missing, so this is verification plus the copy itself. COW safecopy is off:
 * this is the plain copy path. One operation is one copy that returned OK (one kernel step).
 */
export function grantSafecopy(name: string, bytes: number): Workload {
  const granter = GRANTOR_SLOT as Endpoint;
  const w = grantPair(
    { name, bytes, sources: 1, cow: false, vm: false, access: CPF_READ },
    (ctx, gid, dst) => sysSafecopyFrom(ctx, granter, gid, 0, virAddr(dst), bytes),
    "MB/s",
    1,
    1,
  );
  return { ...w, bytesPerOp: bytes };
}
