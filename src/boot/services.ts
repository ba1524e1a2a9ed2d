/** Boot image entries of the system servers that exist so far. */
import {
  DS_PROC_NR,
  INIT_PROC_NR,
  PM_PROC_NR,
  RS_PROC_NR,
  VM_PROC_NR,
} from "../include/endpoint.ts";
import { SF_CORE_SRV, SF_NEED_COPY, SF_SYNCH_BOOT, SF_USE_COPY } from "../include/rs.ts";
import { dsMain } from "../servers/ds/main.ts";
import { dsArgv } from "../servers/ds/limits.ts";
import { rsMain } from "../servers/rs/main.ts";
import { initMain } from "../servers/init/main.ts";
import { pmMain } from "../servers/pm/main.ts";
import { vmMain } from "../servers/vm/main.ts";
import type { BootImageEntry } from "./image.ts";

/**
 * The VM server in its fixed slot, above ordinary processes in priority. Not PROC_FULLVM (its
 * memory is mapped by the loader); with RS, a core service RS initialises first (SF_SYNCH_BOOT)
 * and cannot restart (no copy).
 */
export const vmEntry: BootImageEntry = {
  name: "vm",
  slot: VM_PROC_NR,
  program: vmMain,
  priority: 2,
  dataPages: 16,
  vm: true,
  fullvm: false,
  sysFlags: SF_CORE_SRV | SF_NEED_COPY | SF_SYNCH_BOOT,
};

/**
 * RS, the root system process: the only process the kernel lets run at boot. Not PROC_FULLVM:
 * its memory (with the boot tables) is mapped by the loader, as it runs before VM.
 */
export const rsEntry: BootImageEntry = {
  name: "rs",
  slot: RS_PROC_NR,
  program: rsMain,
  priority: 4,
  dataPages: 16,
  rs: true,
  fullvm: false,
  sysFlags: SF_CORE_SRV | SF_NEED_COPY,
};

/**
 * PM, the process manager, in its fixed slot: a system process (all kernel calls) whose
 * arguments may give image sizes (`name:pages`) of programs exec starts. With RS, a core
 * service without a program copy, as in MINIX's sys table: RS cannot restart it (it forks
 * through PM), so RS refuses to refresh it and its death panics the system. (Unlike MINIX it
 * keeps PROC_FULLVM: a page table of its own, managed by VM.)
 */
export const pmEntry: BootImageEntry = {
  name: "pm",
  slot: PM_PROC_NR,
  program: pmMain,
  priority: 3,
  dataPages: 16,
  sysFlags: SF_CORE_SRV | SF_NEED_COPY,
};

/** INIT (pid 1), a user process; `argv` names the program it starts (see initMain). */
export function initEntry(argv: readonly string[] = []): BootImageEntry {
  return { name: "init", slot: INIT_PROC_NR, program: initMain, priv: "user", argv, dataPages: 4 };
}

/**
 * DS, the data store, in its fixed slot. RS initialises it synchronously (SF_SYNCH_BOOT), right
 * after VM, and publishes the boot services' labels as soon as it is up; RS keeps a copy to
 * restart it. Its limits are argv words the boot loader adds from the boot option `ds`.
 */
export const dsEntry: BootImageEntry = {
  name: "ds",
  slot: DS_PROC_NR,
  program: dsMain,
  optionArgv: (opts) => dsArgv(opts.ds),
  priority: 3,
  dataPages: 16,
  sysFlags: SF_NEED_COPY | SF_USE_COPY | SF_SYNCH_BOOT,
};
