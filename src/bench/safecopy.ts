/**
 * Safecopy throughput beside its lower bound, the host's own `copyWithin` of the same number
 * of bytes. Both are in MB/s (10^6 bytes per second), higher is better, so a figure's ratio
 * (value / lower bound) is the fraction of the host's copy speed that a safecopy reaches.
 */
import { Machine } from "../boot/machine.ts";
import { ANY, type Endpoint } from "../include/endpoint.ts";
import { errName, OK } from "../include/errno.ts";
import { CPF_READ, GRANT_INVALID } from "../include/grant.ts";
import type { ProcessContext } from "../include/trap.ts";
import { receive, type Syscall } from "../lib/ipc.ts";
import { cpfGrantDirect } from "../lib/libsys/safecopies.ts";
import { sysSafecopyFrom } from "../lib/libsys/sys_safecopy.ts";
import { malloc } from "../lib/runtime.ts";
import type { Workload } from "./measure.ts";
import { commitRam, runUntil } from "./workloads.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;

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

const GRANTOR_SLOT = 11;
const REQUESTOR_SLOT = 12;

/**
 * SYS_SAFECOPYFROM of `bytes` in a loop: a grantor grants a page-aligned buffer and waits; the
 * requestor copies the whole grant into its own buffer again and again. Memory comes from the
 * boot loader (physically contiguous, so big copies move long runs of frames at once) and no
 * page is missing, so this is verification plus the copy itself, without VM. COW safecopy is
 * off: this is the plain copy path. One operation is one copy that returned OK.
 */
export function grantSafecopy(name: string, bytes: number): Workload {
  const state = { gid: GRANT_INVALID, copies: 0, error: OK };
  const pages = Math.ceil(bytes / PAGE) + 4;
  function* grantor(ctx: ProcessContext): Syscall {
    const buf = malloc(ctx, bytes, PAGE);
    state.gid = yield* cpfGrantDirect(ctx, REQUESTOR_SLOT as Endpoint, buf, bytes, CPF_READ);
    const box = malloc(ctx, 64, 64);
    for (;;) yield* receive(ANY, box);
  }
  function* requestor(ctx: ProcessContext): Syscall {
    const dst = malloc(ctx, bytes, PAGE);
    const granter = GRANTOR_SLOT as Endpoint;
    for (;;) {
      const r = yield* sysSafecopyFrom(ctx, granter, state.gid, 0, dst, bytes);
      if (r !== OK) {
        state.error = r;
        return 1;
      }
      state.copies++;
    }
  }
  const m = Machine.boot({
    memoryBytes: Math.max(64 * MiB, 4 * bytes),
    cowSafecopy: false,
    image: [
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
  runUntil(m, 1, () => state.copies > 0 || state.error !== OK, name);
  return {
    name,
    unit: "MB/s",
    bytesPerOp: bytes,
    run(n: number): number {
      const start = state.copies;
      const target = start + n;
      // One kernel step per copy: the requestor's kernel-call trap.
      runUntil(m, n, () => state.copies >= target || state.error !== OK, name);
      if (state.error !== OK) throw new Error(`${name}: safecopy failed: ${errName(state.error)}`);
      return state.copies - start;
    },
  };
}
