import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Endpoint } from "../../include/endpoint.ts";
import { EINVAL, EPERM, OK } from "../../include/errno.ts";
import { KCALLS } from "../../include/kcall.ts";
import {
  CPU_FAULT,
  CPU_OK,
  type CpuPort,
  type ProcessContext,
  type Trap,
} from "../../include/trap.ts";
import { virAddr, type VirAddr } from "../../include/types.ts";
import { decodeKey, KeyCache, KeyRead } from "./server.ts";

describe("KeyCache: decodeKey remembering the last key", () => {
  const enc = new TextEncoder();
  const keyBuf = (key: string, len: number, tail: number): Uint8Array => {
    const b = new Uint8Array(len).fill(tail);
    const k = enc.encode(key);
    b.set(k.subarray(0, len - 1));
    b[Math.min(k.length, len - 1)] = 0;
    return b;
  };

  test("a repeated key gives the same string; prefixes, extensions and new keys are decoded", () => {
    const c = new KeyCache();
    const seq = ["a.b", "a.b", "a.bc", "a.b", "a", "", "é.x", "é.x", "a.b"];
    for (const k of seq) expect(c.decode(keyBuf(k, 16, 0x41))).toBe(k);
  });

  test("bytes after the NUL do not matter; a buffer without NUL is taken whole", () => {
    const c = new KeyCache();
    expect(c.decode(keyBuf("key", 8, 0x7a))).toBe("key");
    expect(c.decode(keyBuf("key", 8, 0x00))).toBe("key");
    expect(c.decode(enc.encode("keyz"))).toBe("keyz");
    expect(c.decode(enc.encode("key"))).toBe("key");
  });

  test("property: always equals decodeKey of the same bytes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: 0, max: 3 }))),
        (bufs) => {
          const c = new KeyCache();
          for (const [b, pick] of bufs) {
            // Reuse earlier buffers often so cache hits are exercised.
            const bytes = pick === 0 || bufs.length === 0 ? b : bufs[pick % bufs.length]![0];
            expect(c.decode(bytes)).toBe(decodeKey(bytes));
            // Only the first n bytes count.
            const n = (b.length * pick) >> 2;
            expect(c.decode(bytes, n)).toBe(decodeKey(bytes.subarray(0, n)));
          }
        },
      ),
    );
  });
});

/**
 * A process memory of 1 MiB at 0x100000 whose next `faults` accesses fault (then succeed).
 * With `map.on`, `mapWords` maps it (else never); `map.gen` is the TLB generation.
 */
function fakeCtx(): {
  ctx: ProcessContext;
  mem: Uint8Array;
  faults: { n: number };
  map: { on: boolean; gen: number };
} {
  const base = 0x100000;
  const mem = new Uint8Array(1 << 20);
  const faults = { n: 0 };
  const map = { on: false, gen: 0 };
  const cpu: CpuPort & { faultAddr: VirAddr; faultWrite: boolean } = {
    faultAddr: virAddr(0),
    faultWrite: false,
    read(va, dst) {
      if (faults.n > 0) {
        faults.n--;
        this.faultAddr = va;
        return CPU_FAULT;
      }
      dst.set(mem.subarray(va - base, va - base + dst.length));
      return CPU_OK;
    },
    write(va, src) {
      if (faults.n > 0) {
        faults.n--;
        this.faultAddr = va;
        return CPU_FAULT;
      }
      mem.set(src, va - base);
      return CPU_OK;
    },
    readWords(va, dst) {
      return this.read(va, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength));
    },
    writeWords(va, src) {
      return this.write(va, new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    },
    read32: () => CPU_FAULT,
    write32: () => CPU_FAULT,
    mapWords: (va, n) => (map.on ? new Uint32Array(mem.buffer, va - base, n) : null),
    get tlbGen() {
      return map.gen;
    },
  };
  return {
    ctx: { argv: [], cpu, heapBase: virAddr(base), heapSize: 1 << 20 },
    mem,
    faults,
    map,
  };
}

/** Runs a KeyRead by hand, answering its kernel call with `kcall(msg)`; its traps and result. */
function run(
  r: KeyRead,
  kcall: (msg: VirAddr) => number,
): { traps: Trap[]; result: string | number } {
  const traps: Trap[] = [];
  let res = r.next();
  while (res.done !== true) {
    traps.push(res.value);
    res = r.next(res.value.kind === "kcall" ? kcall(res.value.msg) : 0);
  }
  return { traps, result: res.value };
}

describe("KeyRead: the key through the caller's grant", () => {
  const F = KCALLS.SYS_SAFECOPYFROM.req;
  const setup = () => {
    const f = fakeCtx();
    const keyVa = virAddr(0x180000);
    const reader = new KeyRead(f.ctx, keyVa, new Uint8Array(16), 16);
    // The "kernel": checks the request, then copies `key` (with junk where the NUL goes).
    const kcall =
      (key: string, status = OK) =>
      (msg: VirAddr) => {
        const v = new DataView(f.mem.buffer, msg - 0x100000, 64);
        const req = F.read(v);
        expect(req.address).toBe(keyVa);
        if (status !== OK) return status;
        const bytes = new TextEncoder().encode(key + "!");
        f.mem.set(bytes.subarray(0, req.bytes), keyVa - 0x100000);
        return OK;
      };
    return { f, reader, kcall, keyVa };
  };

  test("one kernel call with granter, grant and length patched in; the key comes back", () => {
    const { reader, kcall, f } = setup();
    const got = run(reader.start(7 as Endpoint, 3, 4), (msg) => {
      const req = F.read(new DataView(f.mem.buffer, msg - 0x100000, 64));
      expect([req.granter, req.gid, req.offset, req.bytes]).toEqual([7, 3, 0, 4]);
      return kcall("abc")(msg);
    });
    expect(got.traps.map((t) => t.kind)).toEqual(["kcall"]);
    expect(got.result).toBe("abc");
    expect(run(reader.start(7 as Endpoint, 3, 4), kcall("xyz")).result).toBe("xyz");
  });

  test("bad lengths are EINVAL without a trap; the copy's error comes back", () => {
    const { reader, kcall } = setup();
    for (const len of [0, 1, 17, 2.5, Number.NaN]) {
      expect(run(reader.start(7 as Endpoint, 3, len), kcall("k"))).toEqual({
        traps: [],
        result: EINVAL,
      });
    }
    expect(run(reader.start(7 as Endpoint, 3, 16), kcall("k")).traps).toHaveLength(1);
    expect(run(reader.start(7 as Endpoint, 3, 5), kcall("k", EPERM)).result).toBe(EPERM);
  });

  test("a faulting store or load yields page-fault traps and is retried", () => {
    const { reader, kcall, f } = setup();
    f.faults.n = 2;
    const a = run(reader.start(7 as Endpoint, 3, 5), kcall("abcd"));
    expect(a.traps.map((t) => t.kind)).toEqual(["pagefault", "pagefault", "kcall"]);
    expect(a.result).toBe("abcd");
    const b = run(reader.start(7 as Endpoint, 3, 5), (msg) => {
      const r = kcall("wxyz")(msg);
      f.faults.n = 1;
      return r;
    });
    expect(b.traps.map((t) => [t.kind, t.kind === "pagefault" && t.write])).toEqual([
      ["kcall", false],
      ["pagefault", false],
    ]);
    expect(b.result).toBe("wxyz");
  });

  test("a mapped key buffer is read in place, with the NUL forced at the last byte", () => {
    const { reader, kcall, f } = setup();
    f.map.on = true;
    f.map.gen++;
    f.faults.n = 1; // a load through the port would fault: the mapped read makes none
    const a = run(reader.start(7 as Endpoint, 3, 4), (msg) => {
      f.faults.n = 1;
      return kcall("abc")(msg);
    });
    expect(a.traps.map((t) => t.kind)).toEqual(["kcall"]);
    expect(a.result).toBe("abc");
    expect(f.faults.n).toBe(1);
    f.faults.n = 0;
    expect(run(reader.start(7 as Endpoint, 3, 6), kcall("abcdefgh")).result).toBe("abcde");
    // Unmapped again (the TLB changed): the port's load, which faults and is retried.
    f.map.on = false;
    f.map.gen++;
    const b = run(reader.start(7 as Endpoint, 3, 5), (msg) => {
      const r = kcall("wxyz")(msg);
      f.faults.n = 1;
      return r;
    });
    expect(b.traps.map((t) => t.kind)).toEqual(["kcall", "pagefault"]);
    expect(b.result).toBe("wxyz");
  });
});
