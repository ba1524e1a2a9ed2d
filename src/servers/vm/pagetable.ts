/**
 * i386 two-level page tables as the VM server edits them: a page directory of 1024 entries,
 * each either empty, a 4 MiB page (PS bit) or a pointer to a page table of 1024 4 KiB
 * entries. The tables live in simulated physical memory and are reached only through a
 * {@link PhysAccess}; page-table frames come from VM's own allocator ({@link FrameSource}).
 *
 * Ownership: a PageTable owns its directory and page-table frames (freed by `destroy`), never
 * the frames it maps — callers track those (refcounts, COW) and free them themselves.
 *
 * Errors are results, not exceptions: bad arguments give EINVAL, an existing mapping in the
 * way gives EEXIST, lack of memory gives ENOMEM — and a failed call changes nothing. Methods
 * throw only for VM bugs (use after `destroy`, an allocator returning a misaligned frame).
 *
 * Hardware sees edits only after a TLB flush; asking the kernel for it is the caller's job.
 * MINIX: servers/vm/i386/pagetable.c (pt_new, pt_writemap, pt_ptalloc_in_range, pt_free);
 * MINIX-SPEC §8.4.
 */
import { EEXIST, EFAULT, EINVAL, ENOMEM, OK } from "../../include/errno.ts";
import {
  I386_BIG_PAGE_SIZE,
  I386_PAGE_SIZE,
  I386_VM_ACC,
  I386_VM_ADDR_MASK,
  I386_VM_ADDR_MASK_4MB,
  I386_VM_BIGPAGE,
  I386_VM_DIR_ENTRIES,
  I386_VM_DIRTY,
  I386_VM_GLOBAL,
  I386_VM_PCD,
  I386_VM_PDE,
  I386_VM_PRESENT,
  I386_VM_PT_ENTRIES,
  I386_VM_PTE,
  I386_VM_PWT,
  I386_VM_USER,
  I386_VM_WRITE,
} from "../../include/vmpt.ts";

// Imported bindings copied into module constants (L_*): under tsx (npm start, npm run
// bench) every read of an imported binding is a getter call, and the per-page paths here,
// in vm.ts and in map.ts read several per page — copying them cut a COW safecopy of 16 MiB
// from about 5 ms to about 1.3 ms.
const L_I386_VM_PRESENT = I386_VM_PRESENT;
const L_I386_VM_BIGPAGE = I386_VM_BIGPAGE;
const L_I386_VM_ADDR_MASK = I386_VM_ADDR_MASK;
const L_I386_VM_PDE = I386_VM_PDE;
const L_I386_VM_PTE = I386_VM_PTE;
const L_I386_PAGE_SIZE = I386_PAGE_SIZE;
const L_I386_VM_WRITE = I386_VM_WRITE;
const L_I386_VM_USER = I386_VM_USER;
const L_OK = OK;
const L_EEXIST = EEXIST;
const L_EFAULT = EFAULT;
const L_EINVAL = EINVAL;
const L_ENOMEM = ENOMEM;

/** Word access to physical memory (addresses are byte addresses; words little-endian). */
export interface PhysAccess {
  read32(pa: number): number;
  write32(pa: number, v: number): void;
  zero(pa: number, len: number): void;
}

/** VM's physical page allocator, one 4 KiB frame at a time. */
export interface FrameSource {
  /** A page-aligned physical address, or -1 when memory is exhausted. */
  allocFrame(): number;
  freeFrame(pa: number): void;
}

/** One present mapping: `vaddr` (page aligned) → `phys`, with the entry's low 12 bits. */
export interface Mapping {
  readonly vaddr: number;
  readonly phys: number;
  readonly flags: number;
}

export interface MapOptions {
  /** Replace present entries instead of failing with EEXIST (MINIX WMF_OVERWRITE). */
  readonly overwrite?: boolean;
}

/** Entry bits a caller may pass to writeMap/setFlags/mapBig; PRESENT is implied. */
export const PT_FLAGS_MASK =
  L_I386_VM_PRESENT |
  L_I386_VM_WRITE |
  L_I386_VM_USER |
  I386_VM_PWT |
  I386_VM_PCD |
  I386_VM_ACC |
  I386_VM_DIRTY |
  I386_VM_GLOBAL;

/**
 * Entry bits a page keeps when it is copied, shared or given another frame (fork, COW,
 * safemap): ACC and DIRTY describe the old entry's use, not the new one's.
 */
export const PT_COPY_BITS = PT_FLAGS_MASK & ~(I386_VM_ACC | I386_VM_DIRTY);

/** Directory entries pointing at a page table: protection is decided by the PTE alone. */
const PDE_TABLE_FLAGS = L_I386_VM_PRESENT | L_I386_VM_WRITE | L_I386_VM_USER;
const ADDR_LIMIT = 2 ** 32;

function isAligned(n: number, align: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < ADDR_LIMIT && n % align === 0;
}

/** `len` is a positive page multiple and `[base, base+len)` fits in 32 bits. */
export function isPageRange(base: number, len: number): boolean {
  return (
    isAligned(base, L_I386_PAGE_SIZE) &&
    Number.isInteger(len) &&
    len > 0 &&
    len % L_I386_PAGE_SIZE === 0 &&
    base + len <= ADDR_LIMIT
  );
}

function validFlags(flags: number): boolean {
  return Number.isInteger(flags) && flags >= 0 && (flags & ~PT_FLAGS_MASK) === 0;
}

export class PageTable {
  /** Physical address of the page directory (the value for CR3). */
  readonly root: number;
  readonly #mem: PhysAccess;
  readonly #frames: FrameSource;
  #destroyed = false;

  private constructor(mem: PhysAccess, frames: FrameSource, root: number) {
    this.#mem = mem;
    this.#frames = frames;
    this.root = root;
  }

  /** Allocates and zeroes a page directory; ENOMEM if no frame is available. */
  static create(mem: PhysAccess, frames: FrameSource): PageTable | typeof L_ENOMEM {
    const root = allocChecked(frames);
    if (root < 0) return L_ENOMEM;
    mem.zero(root, L_I386_PAGE_SIZE);
    return new PageTable(mem, frames, root);
  }

  /**
   * Takes over a page directory someone else built at `root` (the boot loader's tables of
   * the boot processes). Page tables it points at become this table's to free.
   */
  static adopt(mem: PhysAccess, frames: FrameSource, root: number): PageTable {
    if (!isAligned(root, L_I386_PAGE_SIZE)) throw new RangeError(`Bad page directory ${root}`);
    return new PageTable(mem, frames, root);
  }

  /**
   * Maps `[vaddr, vaddr+len)` page by page to `[phys, phys+len)` with entry bits `flags`
   * (PRESENT added), allocating page tables on demand.
   * @returns OK; EINVAL (misaligned, empty or out-of-range ranges, bad flags); EEXIST (a
   * 4 MiB page in the range, or — without `overwrite` — a present entry); ENOMEM (a page
   * table could not be allocated). On failure nothing has changed.
   */
  writeMap(
    vaddr: number,
    phys: number,
    len: number,
    flags: number,
    options: MapOptions = {},
  ): number {
    this.#alive();
    if (!isPageRange(vaddr, len) || !isPageRange(phys, len) || !validFlags(flags)) return L_EINVAL;
    const overwrite = options.overwrite === true;
    if (len === L_I386_PAGE_SIZE) return this.#mapOne(vaddr, phys, flags, overwrite);
    const end = vaddr + len;

    // Pass 1: check every directory entry (and, without overwrite, every PTE) first.
    const missing: number[] = [];
    for (let pde = L_I386_VM_PDE(vaddr); pde <= L_I386_VM_PDE(end - 1); pde++) {
      const dirEntry = this.#pde(pde);
      if ((dirEntry & L_I386_VM_PRESENT) === 0) {
        missing.push(pde);
        continue;
      }
      if ((dirEntry & L_I386_VM_BIGPAGE) !== 0) return L_EEXIST;
      if (overwrite) continue;
      const table = (dirEntry & L_I386_VM_ADDR_MASK) >>> 0;
      const lo = Math.max(vaddr, pde * I386_BIG_PAGE_SIZE);
      const hi = Math.min(end, (pde + 1) * I386_BIG_PAGE_SIZE);
      for (let v = lo; v < hi; v += L_I386_PAGE_SIZE) {
        if ((this.#mem.read32(table + L_I386_VM_PTE(v) * 4) & L_I386_VM_PRESENT) !== 0)
          return L_EEXIST;
      }
    }

    // Pass 2: allocate all missing page tables, or none.
    const tables: number[] = [];
    for (let i = 0; i < missing.length; i++) {
      const f = allocChecked(this.#frames);
      if (f < 0) {
        for (const t of tables) this.#frames.freeFrame(t);
        return L_ENOMEM;
      }
      tables.push(f);
    }
    missing.forEach((pde, i) => {
      const t = tables[i] ?? 0;
      this.#mem.zero(t, L_I386_PAGE_SIZE);
      this.#mem.write32(this.root + pde * 4, (t | PDE_TABLE_FLAGS) >>> 0);
    });

    // Pass 3: write the entries, one directory entry read per page table.
    const bits = flags | L_I386_VM_PRESENT;
    for (let v = vaddr; v < end;) {
      const table = (this.#pde(L_I386_VM_PDE(v)) & L_I386_VM_ADDR_MASK) >>> 0;
      const hi = Math.min(end, (L_I386_VM_PDE(v) + 1) * I386_BIG_PAGE_SIZE);
      for (; v < hi; v += L_I386_PAGE_SIZE) {
        this.#mem.write32(table + L_I386_VM_PTE(v) * 4, ((phys + v - vaddr) | bits) >>> 0);
      }
    }
    return L_OK;
  }

  /**
   * writeMap of one page (the page-fault case): the directory entry and the PTE are each
   * read once, and the page table, when missing, is allocated and hooked in before the PTE
   * is written — the same checks and results as the general path.
   */
  #mapOne(vaddr: number, phys: number, flags: number, overwrite: boolean): number {
    const pdeAddr = this.root + L_I386_VM_PDE(vaddr) * 4;
    const dirEntry = this.#mem.read32(pdeAddr);
    let table: number;
    if ((dirEntry & L_I386_VM_PRESENT) === 0) {
      table = allocChecked(this.#frames);
      if (table < 0) return L_ENOMEM;
      this.#mem.zero(table, L_I386_PAGE_SIZE);
      this.#mem.write32(pdeAddr, (table | PDE_TABLE_FLAGS) >>> 0);
    } else {
      if ((dirEntry & L_I386_VM_BIGPAGE) !== 0) return L_EEXIST;
      table = (dirEntry & L_I386_VM_ADDR_MASK) >>> 0;
      const present =
        (this.#mem.read32(table + L_I386_VM_PTE(vaddr) * 4) & L_I386_VM_PRESENT) !== 0;
      if (present && !overwrite) return L_EEXIST;
    }
    this.#mem.write32(table + L_I386_VM_PTE(vaddr) * 4, (phys | flags | L_I386_VM_PRESENT) >>> 0);
    return L_OK;
  }

  /**
   * Maps the 4 MiB page at `vaddr` to `phys` (both 4 MiB aligned) with a PS directory entry
   * (PRESENT and BIGPAGE added). With `overwrite` an existing entry is replaced; a page
   * table found there is freed (its mappings vanish; the mapped frames stay the caller's).
   * @returns OK, EINVAL or EEXIST.
   */
  mapBig(vaddr: number, phys: number, flags: number, options: MapOptions = {}): number {
    this.#alive();
    if (
      !isAligned(vaddr, I386_BIG_PAGE_SIZE) ||
      !isAligned(phys, I386_BIG_PAGE_SIZE) ||
      !validFlags(flags)
    ) {
      return L_EINVAL;
    }
    const pde = L_I386_VM_PDE(vaddr);
    const old = this.#pde(pde);
    if ((old & L_I386_VM_PRESENT) !== 0 && options.overwrite !== true) return L_EEXIST;
    this.#mem.write32(
      this.root + pde * 4,
      (phys | flags | L_I386_VM_PRESENT | L_I386_VM_BIGPAGE) >>> 0,
    );
    if ((old & L_I386_VM_PRESENT) !== 0 && (old & L_I386_VM_BIGPAGE) === 0) {
      this.#frames.freeFrame((old & L_I386_VM_ADDR_MASK) >>> 0);
    }
    return L_OK;
  }

  /**
   * Clears the entries of `[vaddr, vaddr+len)`; pages already absent are skipped. A 4 MiB
   * page is cleared only if the range covers it entirely. Page tables are kept.
   * @returns OK, or EINVAL (bad range, or a range cutting a 4 MiB page) changing nothing.
   */
  unmap(vaddr: number, len: number): number {
    this.#alive();
    if (!isPageRange(vaddr, len)) return L_EINVAL;
    const end = vaddr + len;
    const first = L_I386_VM_PDE(vaddr);
    const last = L_I386_VM_PDE(end - 1);
    for (let pde = first; pde <= last; pde++) {
      const e = this.#pde(pde);
      if ((e & L_I386_VM_PRESENT) === 0 || (e & L_I386_VM_BIGPAGE) === 0) continue;
      if (vaddr > pde * I386_BIG_PAGE_SIZE || end < (pde + 1) * I386_BIG_PAGE_SIZE) return L_EINVAL;
    }
    for (let pde = first; pde <= last; pde++) {
      const e = this.#pde(pde);
      if ((e & L_I386_VM_PRESENT) === 0) continue;
      if ((e & L_I386_VM_BIGPAGE) !== 0) {
        this.#mem.write32(this.root + pde * 4, 0);
        continue;
      }
      const table = (e & L_I386_VM_ADDR_MASK) >>> 0;
      const lo = Math.max(vaddr, pde * I386_BIG_PAGE_SIZE);
      const hi = Math.min(end, (pde + 1) * I386_BIG_PAGE_SIZE);
      for (let v = lo; v < hi; v += L_I386_PAGE_SIZE)
        this.#mem.write32(table + L_I386_VM_PTE(v) * 4, 0);
    }
    return L_OK;
  }

  /**
   * The translation of `vaddr` (any byte address): `phys` includes the offset in the page,
   * `flags` are the low 12 bits of the final entry (BIGPAGE set for a 4 MiB page; ACC and
   * DIRTY as the MMU left them). Undefined if not present or `vaddr` is not a 32-bit address.
   */
  lookup(vaddr: number): { phys: number; flags: number } | undefined {
    this.#alive();
    if (!isAligned(vaddr, 1)) return undefined;
    const e = this.#pde(L_I386_VM_PDE(vaddr));
    if ((e & L_I386_VM_PRESENT) === 0) return undefined;
    if ((e & L_I386_VM_BIGPAGE) !== 0) {
      return { phys: ((e & I386_VM_ADDR_MASK_4MB) >>> 0) + (vaddr & 0x3fffff), flags: e & 0xfff };
    }
    const pte = this.#mem.read32(((e & L_I386_VM_ADDR_MASK) >>> 0) + L_I386_VM_PTE(vaddr) * 4);
    if ((pte & L_I386_VM_PRESENT) === 0) return undefined;
    return { phys: ((pte & L_I386_VM_ADDR_MASK) >>> 0) + (vaddr & 0xfff), flags: pte & 0xfff };
  }

  /**
   * Rewrites the bits of the present 4 KiB entry for page `vaddr`, keeping its frame (e.g.
   * write-protecting a COW page). The entry becomes `frame | flags | PRESENT`: ACC/DIRTY
   * are kept only if passed.
   * @returns OK; EFAULT if the page is not mapped; EINVAL (misaligned, bad flags, 4 MiB page).
   */
  setFlags(vaddr: number, flags: number): number {
    this.#alive();
    if (!isAligned(vaddr, L_I386_PAGE_SIZE) || !validFlags(flags)) return L_EINVAL;
    const e = this.#pde(L_I386_VM_PDE(vaddr));
    if ((e & L_I386_VM_PRESENT) === 0) return L_EFAULT;
    if ((e & L_I386_VM_BIGPAGE) !== 0) return L_EINVAL;
    const addr = this.#pteAddr(vaddr);
    const pte = this.#mem.read32(addr);
    if ((pte & L_I386_VM_PRESENT) === 0) return L_EFAULT;
    this.#mem.write32(addr, ((pte & L_I386_VM_ADDR_MASK) | flags | L_I386_VM_PRESENT) >>> 0);
    return L_OK;
  }

  /** Every present 4 KiB mapping in address order (4 MiB pages: {@link bigMappings}). */
  *mappings(): Generator<Mapping, void, undefined> {
    this.#alive();
    for (let pde = 0; pde < I386_VM_DIR_ENTRIES; pde++) {
      const e = this.#pde(pde);
      if ((e & L_I386_VM_PRESENT) === 0 || (e & L_I386_VM_BIGPAGE) !== 0) continue;
      const table = (e & L_I386_VM_ADDR_MASK) >>> 0;
      for (let i = 0; i < I386_VM_PT_ENTRIES; i++) {
        const pte = this.#mem.read32(table + i * 4);
        if ((pte & L_I386_VM_PRESENT) === 0) continue;
        yield {
          vaddr: pde * I386_BIG_PAGE_SIZE + i * L_I386_PAGE_SIZE,
          phys: (pte & L_I386_VM_ADDR_MASK) >>> 0,
          flags: pte & 0xfff,
        };
      }
    }
  }

  /** Every 4 MiB mapping in address order. */
  *bigMappings(): Generator<Mapping, void, undefined> {
    this.#alive();
    for (let pde = 0; pde < I386_VM_DIR_ENTRIES; pde++) {
      const e = this.#pde(pde);
      if ((e & L_I386_VM_PRESENT) === 0 || (e & L_I386_VM_BIGPAGE) === 0) continue;
      yield {
        vaddr: pde * I386_BIG_PAGE_SIZE,
        phys: (e & I386_VM_ADDR_MASK_4MB) >>> 0,
        flags: e & 0xfff,
      };
    }
  }

  /** The frames this table owns (directory first, then page tables): for sanity checks. */
  tableFrames(): number[] {
    this.#alive();
    const out = [this.root];
    for (let pde = 0; pde < I386_VM_DIR_ENTRIES; pde++) {
      const e = this.#pde(pde);
      if ((e & L_I386_VM_PRESENT) !== 0 && (e & L_I386_VM_BIGPAGE) === 0) {
        out.push((e & L_I386_VM_ADDR_MASK) >>> 0);
      }
    }
    return out;
  }

  /**
   * Empties the address space: clears every directory entry and frees the page tables they
   * pointed at (not the mapped frames, not the directory, which stays usable). Used when a
   * process is gone but its directory frame is not VM's to free (the loader's).
   */
  freeTables(): void {
    this.#alive();
    for (let pde = 0; pde < I386_VM_DIR_ENTRIES; pde++) {
      const e = this.#pde(pde);
      if ((e & L_I386_VM_PRESENT) === 0) continue;
      this.#mem.write32(this.root + pde * 4, 0);
      if ((e & L_I386_VM_BIGPAGE) === 0) this.#frames.freeFrame((e & L_I386_VM_ADDR_MASK) >>> 0);
    }
  }

  /** Frees the page tables and the directory (not the mapped frames); the object is dead. */
  destroy(): void {
    this.#alive();
    const frames = this.tableFrames();
    this.#destroyed = true;
    for (let i = frames.length - 1; i >= 0; i--) this.#frames.freeFrame(frames[i] ?? 0);
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  #pde(index: number): number {
    return this.#mem.read32(this.root + index * 4);
  }

  /** Address of the PTE for `vaddr`; its page table must exist. */
  #pteAddr(vaddr: number): number {
    return (
      ((this.#pde(L_I386_VM_PDE(vaddr)) & L_I386_VM_ADDR_MASK) >>> 0) + L_I386_VM_PTE(vaddr) * 4
    );
  }

  #alive(): void {
    if (this.#destroyed) throw new Error("PageTable used after destroy()");
  }
}

/** allocFrame() with its contract checked: -1, or a page-aligned 32-bit address. */
function allocChecked(frames: FrameSource): number {
  const f = frames.allocFrame();
  if (f < 0) return -1;
  if (!isAligned(f, L_I386_PAGE_SIZE)) throw new RangeError(`allocFrame returned bad frame ${f}`);
  return f;
}
