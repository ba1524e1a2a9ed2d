/**
 * The VM server's protocol (requests from 0xC00): the page-fault message the kernel sends
 * VM on behalf of a faulting process (A era), and the calls processes make (minix_mmap,
 * minix_munmap, brk, info). MINIX: include/minix/com.h, sys/mman.h (MINIX-SPEC §8.5, §8.8,
 * §8.11).
 */
import { defineLayout, defineStruct, type FieldKind, type Layout } from "./message.ts";

export const VM_RQ_BASE = 0xc00;
/** Sent by the kernel on behalf of the faulting process (IPC_FLG_MSG_FROM_KERNEL). */
export const VM_PAGEFAULT = VM_RQ_BASE + 0xff;
/** VPF_ADDR, VPF_FLAGS (bit 0: the access was a write). */
export const VM_PAGEFAULT_LAYOUT = defineLayout({ addr: "vir", flags: "u32" });
export const VPF_WRITE = 1;

/**
 * VM sees all of physical memory at this address of its own address space (4 MiB pages
 * mapped by the boot loader), so it edits page tables and zeroes frames with ordinary loads
 * and stores (seeds 001, 003). Physical memory is therefore limited to 2 GiB with a VM.
 */
export const VM_PHYS_BASE = 0x8000_0000;
export const VM_PHYS_MAX = 0x8000_0000;

/** Boot information the loader leaves at the start of VM's data area. */
export const VM_BOOTINFO_MAGIC = 0x564d4249;
export const VM_BOOTINFO = defineStruct({
  magic: "u32",
  totalFrames: "u32",
  /** Frames [0, usedFrames) were taken by the loader (page tables, VM's own memory). */
  usedFrames: "u32",
  nprocs: "u32",
  /** Non-zero: VM runs its sanity checks after every request. */
  sanity: "u32",
});
/** One boot process whose memory VM manages: a demand-zero data region. */
export const VM_BOOTPROC = defineStruct({
  endpoint: "endpoint",
  cr3: "u32",
  dataStart: "vir",
  dataPages: "u32",
});
export const VM_BOOTINFO_MAX_PROCS = 64;
export const VM_BOOTINFO_SIZE = VM_BOOTINFO.size + VM_BOOTINFO_MAX_PROCS * VM_BOOTPROC.size;
/** Where the loader leaves the boot information in VM's address space (start of its data). */
export const VM_BOOTINFO_ADDR = 0x0040_0000;

/**
 * Requests a process sends VM (SENDREC; VM answers with SENDNB, `m_type` = status). Numbers
 * are MINIX's (`VM_RQ_BASE` + the spec's index, MINIX-SPEC §8.11): EXIT +0, FORK +1, BRK +2,
 * EXEC_NEWMEM +3, MMAP +10, MUNMAP +17, REMAP +33, SHM_UNMAP +34, GETPHYS +35, GETREF +36,
 * RS_SET_PRIV +37, QUERY_EXIT +38, NOTIFY_SIG +39, INFO +40, WATCH_EXIT +43; KEEP +44 is not
 * MINIX's (keep.ts).
 * MINIX: include/minix/com.h, include/minix/vm.h.
 */
export const VM_CALL_NR = {
  VM_EXIT: VM_RQ_BASE + 0,
  VM_FORK: VM_RQ_BASE + 1,
  VM_BRK: VM_RQ_BASE + 2,
  VM_EXEC_NEWMEM: VM_RQ_BASE + 3,
  VM_MMAP: VM_RQ_BASE + 10,
  VM_MUNMAP: VM_RQ_BASE + 17,
  VM_REMAP: VM_RQ_BASE + 33,
  VM_SHM_UNMAP: VM_RQ_BASE + 34,
  VM_GETPHYS: VM_RQ_BASE + 35,
  VM_GETREF: VM_RQ_BASE + 36,
  VM_RS_SET_PRIV: VM_RQ_BASE + 37,
  VM_QUERY_EXIT: VM_RQ_BASE + 38,
  VM_NOTIFY_SIG: VM_RQ_BASE + 39,
  VM_INFO: VM_RQ_BASE + 40,
  VM_WATCH_EXIT: VM_RQ_BASE + 43,
  VM_KEEP: VM_RQ_BASE + 44,
} as const;
export type VmCallName = keyof typeof VM_CALL_NR;
export const VM_BRK = VM_CALL_NR.VM_BRK;
export const VM_MMAP = VM_CALL_NR.VM_MMAP;
export const VM_MUNMAP = VM_CALL_NR.VM_MUNMAP;
export const VM_INFO = VM_CALL_NR.VM_INFO;
export const VM_EXIT = VM_CALL_NR.VM_EXIT;
export const VM_FORK = VM_CALL_NR.VM_FORK;
export const VM_EXEC_NEWMEM = VM_CALL_NR.VM_EXEC_NEWMEM;
export const VM_REMAP = VM_CALL_NR.VM_REMAP;
export const VM_SHM_UNMAP = VM_CALL_NR.VM_SHM_UNMAP;
export const VM_GETPHYS = VM_CALL_NR.VM_GETPHYS;
export const VM_GETREF = VM_CALL_NR.VM_GETREF;
export const VM_RS_SET_PRIV = VM_CALL_NR.VM_RS_SET_PRIV;

/**
 * Calls only privileged processes may make (MINIX: everything outside `VM_BASIC_CALLS` needs
 * its bit in the caller's `vm_call_mask`). The others (brk, mmap, munmap, info) are open to
 * every process. Who is privileged: see `src/servers/vm/acl.ts`.
 */
export const VM_PRIVILEGED_CALLS: ReadonlySet<VmCallName> = new Set<VmCallName>([
  "VM_EXIT",
  "VM_FORK",
  "VM_EXEC_NEWMEM",
  "VM_REMAP",
  "VM_SHM_UNMAP",
  "VM_GETPHYS",
  "VM_GETREF",
  "VM_RS_SET_PRIV",
  "VM_QUERY_EXIT",
  "VM_NOTIFY_SIG",
  "VM_WATCH_EXIT",
  "VM_KEEP",
]);

/** The call named by `m_type`, if VM serves it. */
export function vmCallName(type: number): VmCallName | undefined {
  for (const [name, n] of Object.entries(VM_CALL_NR)) if (n === type) return name as VmCallName;
  return undefined;
}

/** `minix_mmap` protection bits (PROT_*; MINIX sys/mman.h). */
export const PROT_NONE = 0x00;
export const PROT_READ = 0x01;
export const PROT_WRITE = 0x02;
export const PROT_EXEC = 0x04;

/**
 * `minix_mmap` flags, MINIX 3.2 values (sys/mman.h). POSIX MAP_SHARED (0x01) does not exist
 * on MINIX: SysV-style sharing is MAP_IPC_SHARED.
 */
export const MAP_PRIVATE = 0x0002;
export const MAP_ANON = 0x0004;
/** Allocate all memory now, not on demand. */
export const MAP_PREALLOC = 0x0008;
/** Physically contiguous (needs MAP_PREALLOC). */
export const MAP_CONTIG = 0x0010;
/** Physically below 16 MiB. */
export const MAP_LOWER16M = 0x0020;
/** Physically aligned at 64 KiB. */
export const MAP_ALIGN64K = 0x0040;
/** Physically below 1 MiB. */
export const MAP_LOWER1M = 0x0080;
/** Memory to be shared with other processes (region flag VR_SHARED; needs MAP_PREALLOC). */
export const MAP_IPC_SHARED = 0x0100;
/** Map exactly at the address given, or fail. */
export const MAP_FIXED = 0x0200;
/** `minix_mmap`'s failure value (the library returns the error code separately). */
export const MAP_FAILED = 0xffff_ffff;

/**
 * User mappings (mmap, brk) lie below this address; non-fixed mmaps are placed as high as
 * possible under it, the heap grows up from the end of the data area (MINIX VM_DATATOP).
 */
export const VM_USER_TOP = 0x8000_0000;

/** Most pages a program's loaded image may have (VM_EXEC_NEWMEM, boot option `programs`). */
export const EXEC_IMAGE_PAGES_MAX = 65536;

type AnyLayout = Layout<Readonly<Record<string, FieldKind>>>;

/** Reply of VM_BRK, VM_MMAP and VM_MUNMAP: the resulting address (VMM_RETADDR). */
const VM_ADDR_REPLY = defineLayout({ addr: "vir" });

/** Request and reply layout of every VM call: the one place their offsets are decided. */
export const VM_CALLS = {
  /** VME_ENDPOINT: the process that is gone; VM frees all its memory (from PM). */
  VM_EXIT: { req: defineLayout({ endpoint: "endpoint" }), reply: defineLayout({}) },
  /**
   * VMF_ENDPOINT (the parent), VMF_SLOTNO (the free process slot for the child): copy the
   * parent's address space copy-on-write and create the child (SYS_FORK). Reply:
   * VMF_CHILD_ENDPOINT (from PM).
   */
  VM_FORK: {
    req: defineLayout({ endpt: "endpoint", slot: "i32" }),
    reply: defineLayout({ endpt: "endpoint" }),
  },
  /**
   * Instead of MINIX's sizes and file identity: the process and the pages of the new
   * program's loaded image. VM builds the new address space (the image allocated and zeroed
   * up front, the data area demand-zero) and only then drops the old one; out of memory
   * (ENOMEM) the old image is untouched. Reply: where the image starts (from PM).
   */
  VM_EXEC_NEWMEM: {
    req: defineLayout({ endpt: "endpoint", imagePages: "u32" }),
    reply: VM_ADDR_REPLY,
  },
  /** VMB_ADDR: the new break. Reply: the break now in effect. */
  VM_BRK: { req: defineLayout({ addr: "vir" }), reply: VM_ADDR_REPLY },
  /**
   * VMM_ADDR (hint, or the address with MAP_FIXED), VMM_LEN, VMM_PROT, VMM_FLAGS, VMM_FD (-1:
   * anonymous), VMM_OFFSET. Reply: VMM_RETADDR.
   */
  VM_MMAP: {
    req: defineLayout({
      addr: "vir",
      len: "u32",
      prot: "i32",
      flags: "i32",
      fd: "i32",
      offset: "u32",
    }),
    reply: VM_ADDR_REPLY,
  },
  /** VMUM_ADDR, VMUM_LEN. Reply: the address unmapped. */
  VM_MUNMAP: { req: defineLayout({ addr: "vir", len: "u32" }), reply: VM_ADDR_REPLY },
  /**
   * VMRE_D, VMRE_S, VMRE_DA (0: VM chooses), VMRE_SA, VMRE_SIZE: map the frames of the source
   * region starting at VMRE_SA (of exactly VMRE_SIZE bytes, page rounded) into the
   * destination as shared memory. Reply: VMRE_RETA, the destination address.
   */
  VM_REMAP: {
    req: defineLayout({
      dest: "endpoint",
      src: "endpoint",
      destAddr: "vir",
      srcAddr: "vir",
      size: "u32",
    }),
    reply: VM_ADDR_REPLY,
  },
  /** VMUN_ENDPT, VMUN_ADDR: unmap the shared region starting there. Reply: the address. */
  VM_SHM_UNMAP: { req: defineLayout({ endpoint: "endpoint", addr: "vir" }), reply: VM_ADDR_REPLY },
  /** VMPHYS_ENDPT, VMPHYS_ADDR. Reply VMPHYS_RETA: the first frame of that shared region. */
  VM_GETPHYS: {
    req: defineLayout({ endpoint: "endpoint", addr: "vir" }),
    reply: defineLayout({ phys: "u32" }),
  },
  /** VMREFCNT_ENDPT, VMREFCNT_ADDR. Reply VMREFCNT_RETC: that first frame's reference count. */
  VM_GETREF: {
    req: defineLayout({ endpoint: "endpoint", addr: "vir" }),
    reply: defineLayout({ count: "u32" }),
  },
  /**
   * VM_RS_NR, and instead of MINIX's call bitmap one flag: non-zero grants the privileged
   * calls (VM_PRIVILEGED_CALLS), zero takes them away.
   */
  VM_RS_SET_PRIV: {
    req: defineLayout({ endpoint: "endpoint", privileged: "u32" }),
    reply: defineLayout({}),
  },
  /**
   * VM_QUERY_EXIT, the IPC server's call: one endpoint VM recorded for it (VM_QUERY_RET_PT,
   * NONE when there is none) and whether more remain (VM_QUERY_IS_MORE).
   */
  VM_QUERY_EXIT: {
    req: defineLayout({}),
    reply: defineLayout({ endpoint: "endpoint", more: "u32" }),
  },
  /**
   * VM_NOTIFY_SIG, PM's call: `endpoint` was signalled or exited; if the IPC server
   * `ipcEndpoint` watches it (VM_WATCH_EXIT), VM records it (duplicates once; a full table is
   * ENOMEM) and notifies the IPC server. Unwatched processes: OK, nothing recorded.
   */
  VM_NOTIFY_SIG: {
    req: defineLayout({ endpoint: "endpoint", ipcEndpoint: "endpoint" }),
    reply: defineLayout({}),
  },
  /** VM_WE_EP: the IPC server asks to hear of this process's signals and exit. */
  VM_WATCH_EXIT: { req: defineLayout({ endpoint: "endpoint" }), reply: defineLayout({}) },
  /**
   * Not MINIX's: memory that outlives its process (DS keeps its store there across a
   * restart). `key` names a set of frames VM holds one reference each on. Unknown key and
   * `size` > 0: the caller's mmap region starting at `addr` of exactly `size` bytes (page
   * rounded) becomes shared, every page present, and VM keeps its frames under `key`. Known
   * key: the frames are mapped into the caller at `addr` (0: VM chooses) as a shared
   * writable region. `size` 0: VM lets go of the key's frames. Reply: the address, the kept
   * size in bytes, and `fresh` 1 when the key was new.
   */
  VM_KEEP: {
    req: defineLayout({ addr: "vir", size: "u32", key: "u32" }),
    reply: defineLayout({ addr: "vir", fresh: "u32", size: "u32" }),
  },
  /**
   * Statistics (MINIX VM_INFO copies `vm_stats_info` / `vm_usage_info` to a buffer; here they
   * fit in the reply): physical frames, faults and memory requests served, and the caller's
   * regions, mapped pages and page-table frames.
   */
  VM_INFO: {
    req: defineLayout({}),
    reply: defineLayout({
      totalFrames: "u32",
      freeFrames: "u32",
      faults: "u32",
      memreqs: "u32",
      regions: "u32",
      pages: "u32",
      tableFrames: "u32",
    }),
  },
} as const satisfies {
  readonly [K in VmCallName]: { readonly req: AnyLayout; readonly reply: AnyLayout };
};
export type VmReq<K extends VmCallName> = ReturnType<(typeof VM_CALLS)[K]["req"]["read"]>;
export type VmReply<K extends VmCallName> = ReturnType<(typeof VM_CALLS)[K]["reply"]["read"]>;
