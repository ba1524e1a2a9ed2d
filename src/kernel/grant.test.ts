import { describe, expect, test } from "vitest";
import { ANY, makeEndpoint, VFS_PROC_NR, type Endpoint } from "../include/endpoint.ts";
import { EINVAL, ELOOP, EPERM, OK } from "../include/errno.ts";
import {
  CPF_DIRECT,
  CPF_INDIRECT,
  CPF_MAGIC,
  CPF_MAP,
  CPF_READ,
  CPF_USED,
  CPF_VALID,
  CPF_WRITE,
  GRANT_DIRECT,
  GRANT_ENTRY_SIZE,
  GRANT_FLAGS_OFF,
  GRANT_GEN_OFF,
  GRANT_INDIRECT,
  GRANT_MAGIC,
  makeGrantId,
  MAX_INDIRECT_DEPTH,
} from "../include/grant.ts";
import { virAddr } from "../include/types.ts";
import { verifyGrant, type GrantTarget } from "./grant.ts";
import type { Kernel } from "./kernel.ts";
import { copyFromProc, copyToProc } from "./memory.ts";
import type { Proc } from "./proc.ts";
import {
  DATA_BASE,
  idler,
  Machine,
  settle,
  type BootImageEntry,
} from "../../test/system_harness.ts";

const RW = CPF_READ | CPF_WRITE;
const G = 11 as Endpoint;
const R = 12 as Endpoint;
const X = 13 as Endpoint;
/** Chain processes for indirect grants: slots 20.. */
const C0 = 20;
const TABLE = DATA_BASE + 0x2000;

type Entry =
  | { kind: "direct"; whoTo: number; start: number; len: number; access: number; gen?: number }
  | { kind: "indirect"; whoTo: number; whoFrom: number; grant: number; gen?: number }
  | {
      kind: "magic";
      whoFrom: number;
      whoTo: number;
      start: number;
      len: number;
      access: number;
      gen?: number;
    }
  | { kind: "raw"; flags: number; gen?: number };

function encode(e: Entry): Uint8Array {
  const b = new Uint8Array(GRANT_ENTRY_SIZE);
  const v = new DataView(b.buffer);
  const z = new Uint8Array(0);
  const gen = e.gen ?? 0;
  switch (e.kind) {
    case "direct":
      GRANT_DIRECT.write(v, {
        flags: e.access | CPF_DIRECT | CPF_USED | CPF_VALID,
        whoTo: e.whoTo as Endpoint,
        start: virAddr(e.start),
        len: e.len,
        reserved: z,
        gen,
        reserved2: z,
      });
      break;
    case "indirect":
      GRANT_INDIRECT.write(v, {
        flags: CPF_INDIRECT | CPF_USED | CPF_VALID,
        whoTo: e.whoTo as Endpoint,
        whoFrom: e.whoFrom as Endpoint,
        grant: e.grant,
        reserved: z,
        gen,
        reserved2: z,
      });
      break;
    case "magic":
      GRANT_MAGIC.write(v, {
        flags: e.access | CPF_MAGIC | CPF_USED | CPF_VALID,
        whoFrom: e.whoFrom as Endpoint,
        whoTo: e.whoTo as Endpoint,
        start: virAddr(e.start),
        len: e.len,
        reserved: z,
        gen,
        reserved2: z,
      });
      break;
    case "raw":
      v.setUint32(GRANT_FLAGS_OFF, e.flags, true);
      v.setUint32(GRANT_GEN_OFF, gen, true);
      break;
  }
  return b;
}

/** Writes `entries` as `p`'s grant table at TABLE and announces it (as SYS_SETGRANT would). */
function setTable(k: Kernel, p: Proc, entries: readonly Entry[], at = TABLE): void {
  entries.forEach((e, i) => {
    expect(
      copyToProc(k, p, virAddr(at + i * GRANT_ENTRY_SIZE), encode(e), 0, GRANT_ENTRY_SIZE),
    ).toBe(OK);
  });
  p.priv!.grantTable = virAddr(at);
  p.priv!.grantEntries = entries.length;
}

function boot(extra: BootImageEntry[] = [], grantGenerations?: boolean): Kernel {
  const image = [
    idler("vfs", VFS_PROC_NR),
    idler("g", G),
    idler("r", R),
    idler("x", X),
    { ...idler("stopped", 15 as Endpoint), runnable: false },
    ...extra,
  ];
  const m = Machine.boot({
    memoryBytes: 8 << 20,
    nrProcs: 64,
    cyclesPerTick: 1_000_000,
    image,
    ...(grantGenerations === undefined ? {} : { grantGenerations }),
  });
  settle(m);
  return m.kernel;
}

function proc(k: Kernel, slot: number): Proc {
  return k.procAddr(slot)!;
}

/** verifyGrant with a fresh target; returns [status, final granter slot, address]. */
function verify(
  k: Kernel,
  granter: number,
  grantee: number,
  gid: number,
  bytes: number,
  access: number,
  offset = 0,
): [number, number, number] {
  const out: GrantTarget = { proc: proc(k, 0), addr: -1 };
  const r = verifyGrant(
    k,
    granter as Endpoint,
    grantee as Endpoint,
    gid,
    bytes,
    access,
    offset,
    out,
  );
  return r === OK ? [r, out.proc.nr, out.addr] : [r, -1, -1];
}

const BUF = DATA_BASE + 0x4000;

test("the three entry layouts are 36 bytes with flags at 0 and the generation at 28", () => {
  for (const layout of [GRANT_DIRECT, GRANT_INDIRECT, GRANT_MAGIC]) {
    expect([layout.size, layout.offsets.flags, layout.offsets.gen]).toEqual([36, 0, 28]);
  }
  expect([GRANT_ENTRY_SIZE, GRANT_FLAGS_OFF, GRANT_GEN_OFF]).toEqual([36, 0, 28]);
});

describe("verifyGrant: the checklist of MINIX-SPEC §4.9", () => {
  const k = boot();
  setTable(k, proc(k, G), [
    { kind: "direct", whoTo: R, start: BUF, len: 0x1000, access: RW },
    { kind: "direct", whoTo: R, start: BUF, len: 0x1000, access: CPF_READ },
    { kind: "direct", whoTo: X, start: BUF, len: 0x1000, access: RW },
    { kind: "raw", flags: CPF_USED },
    { kind: "raw", flags: CPF_VALID | CPF_DIRECT | RW },
    { kind: "raw", flags: 0 },
    { kind: "magic", whoFrom: X, whoTo: R, start: BUF, len: 0x1000, access: RW },
    { kind: "raw", flags: CPF_USED | CPF_VALID | RW },
  ]);

  test("a direct grant gives the granter and start + offset", () => {
    expect(verify(k, G, R, 0, 16, CPF_READ, 8)).toEqual([OK, G, BUF + 8]);
    expect(verify(k, G, R, 0, 0x1000, RW)).toEqual([OK, G, BUF]);
  });

  test.each<[string, number, number, number]>([
    ["granter not a process", 9999, 0, EINVAL],
    ["granter a free slot", 40, 0, EINVAL],
    ["granter endpoint stale (other generation)", makeEndpoint(1, G), 0, EINVAL],
    ["grant id negative", G, -1, EINVAL],
    ["grant id far negative", G, -0x8000_0000, EINVAL],
    ["grant id ≥ table size", G, 8, EPERM],
    ["grant id slot beyond the table", G, makeGrantId(100, 0), EPERM],
    ["slot USED but not VALID (disabled)", G, 3, EPERM],
    ["slot VALID but not USED", G, 4, EPERM],
    ["slot free (revoked)", G, 5, EPERM],
    ["grant for another grantee", G, 2, EPERM],
    ["magic grant made by someone other than VFS", G, 6, EPERM],
    ["neither direct, indirect nor magic", G, 7, EPERM],
  ])("%s → %i", (_what, granter, gid, want) => {
    expect(verify(k, granter, R, gid, 16, CPF_READ)[0]).toBe(want);
  });

  test("missing READ, WRITE or MAP is EPERM", () => {
    expect(verify(k, G, R, 1, 16, CPF_READ)[0]).toBe(OK);
    expect(verify(k, G, R, 1, 16, CPF_WRITE)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, 16, CPF_MAP | CPF_READ)[0]).toBe(EPERM);
  });

  test("offset + bytes beyond the grant, or wrapping at 2^32, is EPERM", () => {
    expect(verify(k, G, R, 0, 0x1000, CPF_READ, 0)[0]).toBe(OK);
    expect(verify(k, G, R, 0, 1, CPF_READ, 0xfff)[0]).toBe(OK);
    expect(verify(k, G, R, 0, 0x1001, CPF_READ, 0)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, 2, CPF_READ, 0xfff)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, 2, CPF_READ, 0xffff_ffff)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, 0xffff_ffff, CPF_READ, 2)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, 0xffff_ffff, CPF_READ, 0xffff_ffff)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, -1, CPF_READ, 0)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, 1, CPF_READ, -1)[0]).toBe(EPERM);
    expect(verify(k, G, R, 0, 1.5, CPF_READ, 0)[0]).toBe(EPERM);
  });

  test("the granter without a table (never set, or RTS_NO_PRIV) is EPERM", () => {
    expect(verify(k, X, R, 0, 1, CPF_READ)[0]).toBe(EPERM);
    const stopped = proc(k, 15);
    setTable(k, stopped, [{ kind: "direct", whoTo: R, start: BUF, len: 16, access: RW }]);
    expect(verify(k, 15, R, 0, 1, CPF_READ)[0]).toBe(EPERM);
  });

  test("an unreadable table is EPERM and asks VM for nothing", () => {
    const x = proc(k, X);
    x.priv!.grantTable = virAddr(0xdead_0000);
    x.priv!.grantEntries = 4;
    expect(verify(k, X, R, 0, 1, CPF_READ)[0]).toBe(EPERM);
    x.priv!.grantTable = virAddr(0xffff_fff0); // runs past 2^32
    expect(verify(k, X, R, 0, 1, CPF_READ)[0]).toBe(EPERM);
    expect(k.vmrequest).toBeNull();
    x.priv!.grantTable = virAddr(0);
    x.priv!.grantEntries = 0;
  });

  test("ANY as grantee in the entry or as the asking grantee matches everybody", () => {
    const k2 = boot();
    setTable(k2, proc(k2, G), [{ kind: "direct", whoTo: ANY, start: BUF, len: 64, access: RW }]);
    expect(verify(k2, G, X, 0, 64, RW)).toEqual([OK, G, BUF]);
    expect(verify(k2, G, R, 0, 64, RW)).toEqual([OK, G, BUF]);
    expect(verify(k, G, ANY, 2, 64, RW)).toEqual([OK, G, BUF]);
  });

  test("verification changes nothing: the table bytes and priv stay as they were", () => {
    const g = proc(k, G);
    const before = [g.priv!.grantTable, g.priv!.grantEntries];
    const table = () => {
      const b = new Uint8Array(8 * GRANT_ENTRY_SIZE);
      expect(copyFromProc(k, g, virAddr(TABLE), b, 0, b.length)).toBe(OK);
      return b;
    };
    const bytes = table();
    for (let gid = -2; gid < 10; gid++) verify(k, G, R, gid, 4, RW);
    expect([g.priv!.grantTable, g.priv!.grantEntries]).toEqual(before);
    expect(table()).toEqual(bytes);
    expect(verify(k, G, R, 0, 16, CPF_READ, 8)).toEqual([OK, G, BUF + 8]);
  });
});

describe("verifyGrant: where the table lies", () => {
  test.each([
    ["word aligned", TABLE],
    ["not word aligned", TABLE + 2],
    ["an entry across a page boundary", TABLE + 0x1000 - 20],
  ])("%s", (_what, at) => {
    const k = boot();
    const entries: Entry[] = [
      { kind: "direct", whoTo: R, start: BUF, len: 64, access: CPF_READ, gen: 0 },
      { kind: "direct", whoTo: X, start: BUF + 8, len: 64, access: RW, gen: 3 },
    ];
    setTable(k, proc(k, G), entries, at);
    expect(verify(k, G, R, 0, 64, CPF_READ)).toEqual([OK, G, BUF]);
    expect(verify(k, G, X, makeGrantId(1, 3), 64, CPF_WRITE, 0)).toEqual([OK, G, BUF + 8]);
    expect(verify(k, G, X, makeGrantId(1, 2), 64, CPF_WRITE, 0)[0]).toBe(EPERM);
    expect(verify(k, G, R, 1, 1, CPF_READ)[0]).toBe(EPERM);
  });

  test("an entry half in an unmapped page is EPERM", () => {
    const k = boot();
    const g = proc(k, G);
    // The data area is 16 pages; entry 1 starts 18 bytes before its end.
    const at = DATA_BASE + 16 * 0x1000 - 54;
    const e = encode({ kind: "direct", whoTo: R, start: BUF, len: 64, access: RW });
    setTable(k, g, [{ kind: "direct", whoTo: R, start: BUF, len: 64, access: RW }], at);
    expect(copyToProc(k, g, virAddr(at + GRANT_ENTRY_SIZE), e, 0, 18)).toBe(OK);
    g.priv!.grantEntries = 2;
    expect(verify(k, G, R, 0, 1, CPF_READ)[0]).toBe(OK);
    expect(verify(k, G, R, 1, 1, CPF_READ)[0]).toBe(EPERM);
    expect(k.vmrequest).toBeNull();
  });
});

describe("verifyGrant: address-space edges of direct grants", () => {
  test("a grant at address 0 is allowed (the original's wrap check rejected it)", () => {
    const k = boot();
    setTable(k, proc(k, G), [
      { kind: "direct", whoTo: R, start: 0, len: 0x1000, access: RW },
      { kind: "direct", whoTo: R, start: 0xffff_f000, len: 0x1000, access: RW },
      { kind: "direct", whoTo: R, start: 0xffff_f000, len: 0x1001, access: RW },
      { kind: "direct", whoTo: R, start: 0xffff_ffff, len: 0xffff_ffff, access: RW },
      { kind: "direct", whoTo: R, start: 2, len: 0xffff_ffff, access: RW },
      { kind: "direct", whoTo: R, start: 0, len: 0xffff_ffff, access: RW },
    ]);
    expect(verify(k, G, R, 0, 0x1000, CPF_READ)).toEqual([OK, G, 0]);
    expect(verify(k, G, R, 1, 0x1000, CPF_READ)).toEqual([OK, G, 0xffff_f000]);
    expect(verify(k, G, R, 1, 1, CPF_READ, 0xfff)).toEqual([OK, G, 0xffff_ffff]);
    expect(verify(k, G, R, 2, 1, CPF_READ)[0]).toBe(EPERM);
    expect(verify(k, G, R, 3, 1, CPF_READ)[0]).toBe(EPERM);
    expect(verify(k, G, R, 4, 1, CPF_READ)[0]).toBe(EPERM);
    expect(verify(k, G, R, 5, 0xffff_ffff, CPF_READ)).toEqual([OK, G, 0]);
    expect(verify(k, G, R, 5, 1, CPF_READ, 0xffff_fffe)).toEqual([OK, G, 0xffff_fffe]);
    expect(verify(k, G, R, 5, 1, CPF_READ, 0xffff_ffff)[0]).toBe(EPERM);
  });
});

describe("verifyGrant: magic grants", () => {
  const k = boot();
  setTable(k, proc(k, VFS_PROC_NR), [
    { kind: "magic", whoFrom: X, whoTo: R, start: BUF, len: 0x100, access: CPF_READ },
    { kind: "magic", whoFrom: X, whoTo: ANY, start: BUF, len: 0x100, access: RW },
    { kind: "magic", whoFrom: makeEndpoint(3, X), whoTo: R, start: BUF, len: 0x100, access: RW },
    { kind: "magic", whoFrom: ANY, whoTo: G, start: BUF, len: 0x100, access: RW },
  ]);

  test("VFS's magic grant names the third party's memory", () => {
    expect(verify(k, VFS_PROC_NR, R, 0, 0x10, CPF_READ, 0x20)).toEqual([OK, X, BUF + 0x20]);
    expect(verify(k, VFS_PROC_NR, R, 0, 0x10, CPF_WRITE)[0]).toBe(EPERM);
    expect(verify(k, VFS_PROC_NR, R, 0, 0x101, CPF_READ)[0]).toBe(EPERM);
  });

  test("the grantee check reads the magic whoTo (not the direct layout's field)", () => {
    expect(verify(k, VFS_PROC_NR, G, 0, 1, CPF_READ)[0]).toBe(EPERM);
    expect(verify(k, VFS_PROC_NR, G, 1, 1, CPF_READ)).toEqual([OK, X, BUF]);
    // whoFrom ANY sits where a direct grant has whoTo: it must not let R in.
    expect(verify(k, VFS_PROC_NR, R, 3, 1, CPF_READ)[0]).toBe(EPERM);
  });

  test("a magic grant of a process that is gone is EINVAL", () => {
    expect(verify(k, VFS_PROC_NR, R, 2, 1, CPF_READ)[0]).toBe(EINVAL);
  });
});

describe("verifyGrant: indirect chains", () => {
  /** C0 → C1 → … → Cn: Ci (i < n) re-grants to its predecessor, Cn's grant is direct. */
  function chain(hops: number, finalAccess = RW): Kernel {
    const extra = Array.from({ length: hops + 1 }, (_, i) => idler(`c${i}`, (C0 + i) as Endpoint));
    const k = boot(extra);
    for (let i = 0; i < hops; i++) {
      const whoTo = i === 0 ? R : C0 + i - 1;
      setTable(k, proc(k, C0 + i), [
        { kind: "raw", flags: 0 },
        { kind: "indirect", whoTo, whoFrom: C0 + i + 1, grant: 1 },
      ]);
    }
    const whoTo = hops === 0 ? R : C0 + hops - 1;
    setTable(k, proc(k, C0 + hops), [
      { kind: "raw", flags: 0 },
      { kind: "direct", whoTo, start: BUF, len: 0x1000, access: finalAccess },
    ]);
    return k;
  }

  test.each([0, 1, 2, 5])("%i indirect hops reach the final granter", (hops) => {
    expect(verify(chain(hops), C0, R, 1, 0x100, RW, 0x10)).toEqual([OK, C0 + hops, BUF + 0x10]);
  });

  test("the 6th indirect hop is ELOOP", () => {
    expect(MAX_INDIRECT_DEPTH).toBe(5);
    expect(verify(chain(6), C0, R, 1, 1, CPF_READ)[0]).toBe(ELOOP);
    expect(verify(chain(6), C0 + 1, C0, 1, 1, CPF_READ)).toEqual([OK, C0 + 6, BUF]);
  });

  test("a loop of indirect grants is ELOOP", () => {
    const k = boot();
    setTable(k, proc(k, G), [{ kind: "indirect", whoTo: ANY, whoFrom: X, grant: 0 }]);
    setTable(k, proc(k, X), [{ kind: "indirect", whoTo: ANY, whoFrom: G, grant: 0 }]);
    expect(verify(k, G, R, 0, 1, CPF_READ)[0]).toBe(ELOOP);
    setTable(k, proc(k, R), [{ kind: "indirect", whoTo: ANY, whoFrom: R, grant: 0 }]);
    expect(verify(k, R, R, 0, 1, CPF_READ)[0]).toBe(ELOOP);
  });

  test("access is decided by the final grant alone", () => {
    const k = chain(3, CPF_READ);
    expect(verify(k, C0, R, 1, 1, CPF_READ)[0]).toBe(OK);
    expect(verify(k, C0, R, 1, 1, CPF_WRITE)[0]).toBe(EPERM);
  });

  test("each hop checks its own grantee; ANY matches", () => {
    const k = chain(2);
    expect(verify(k, C0, X, 1, 1, CPF_READ)[0]).toBe(EPERM);
    // C1 re-granted to C0 only: C0 may use C1's grant directly, X may not.
    expect(verify(k, C0 + 1, C0, 1, 1, CPF_READ)[0]).toBe(OK);
    expect(verify(k, C0 + 1, X, 1, 1, CPF_READ)[0]).toBe(EPERM);
    setTable(k, proc(k, C0), [
      { kind: "raw", flags: 0 },
      { kind: "indirect", whoTo: ANY, whoFrom: C0 + 1, grant: 1 },
    ]);
    expect(verify(k, C0, X, 1, 1, CPF_READ)).toEqual([OK, C0 + 2, BUF]);
  });

  test("a hop to a dead process, a negative id or a bad id fails like a direct call", () => {
    const k = boot();
    setTable(k, proc(k, G), [
      { kind: "indirect", whoTo: R, whoFrom: 40, grant: 0 },
      { kind: "indirect", whoTo: R, whoFrom: X, grant: -5 },
      { kind: "indirect", whoTo: R, whoFrom: X, grant: 3 },
    ]);
    setTable(k, proc(k, X), [{ kind: "direct", whoTo: G, start: BUF, len: 16, access: RW }]);
    expect(verify(k, G, R, 0, 1, CPF_READ)[0]).toBe(EINVAL);
    expect(verify(k, G, R, 1, 1, CPF_READ)[0]).toBe(EINVAL);
    expect(verify(k, G, R, 2, 1, CPF_READ)[0]).toBe(EPERM);
  });
});

describe("verifyGrant: grant-id generations", () => {
  const entries: Entry[] = [
    { kind: "direct", whoTo: R, start: BUF, len: 64, access: RW, gen: 1 },
    { kind: "direct", whoTo: R, start: BUF, len: 64, access: RW, gen: 2047 },
  ];

  test("with generations (default) only the entry's generation is honoured", () => {
    const k = boot();
    setTable(k, proc(k, G), entries);
    expect(verify(k, G, R, makeGrantId(0, 1), 1, CPF_READ)[0]).toBe(OK);
    expect(verify(k, G, R, makeGrantId(0, 0), 1, CPF_READ)[0]).toBe(EPERM);
    expect(verify(k, G, R, makeGrantId(0, 2), 1, CPF_READ)[0]).toBe(EPERM);
    expect(verify(k, G, R, makeGrantId(1, 2047), 1, CPF_READ)[0]).toBe(OK);
    expect(verify(k, G, R, makeGrantId(1, 0), 1, CPF_READ)[0]).toBe(EPERM);
  });

  test("grantGenerations: false is MINIX: the slot alone counts", () => {
    const k = boot([], false);
    setTable(k, proc(k, G), entries);
    expect(verify(k, G, R, makeGrantId(0, 0), 1, CPF_READ)[0]).toBe(OK);
    expect(verify(k, G, R, makeGrantId(0, 5), 1, CPF_READ)[0]).toBe(OK);
    expect(verify(k, G, R, makeGrantId(1, 0), 1, CPF_READ)[0]).toBe(OK);
  });

  test("ids stay non-negative at the largest generation and slot", () => {
    expect(makeGrantId(0xf_ffff, 2047)).toBe(0x7fff_ffff);
    expect(makeGrantId(0, 2048)).toBe(0);
  });
});
