/**
 * The call vector: every implemented kernel call and its handler. The compiler checks that
 * each call with a layout in include/kcall.ts has exactly one handler of the right type;
 * numbers without a handler answer EBADREQUEST (`do_unused`). MINIX: kernel/system.c
 * `system_init`.
 */
import type { KcallName } from "../../include/kcall.ts";
import type { KcallHandler } from "../system.ts";
import { doAbort } from "./do_abort.ts";
import { doClear } from "./do_clear.ts";
import { doDiagctl } from "./do_diagctl.ts";
import { doExec } from "./do_exec.ts";
import { doExit } from "./do_exit.ts";
import { doEndksig } from "./do_endksig.ts";
import { doFork } from "./do_fork.ts";
import { doGetinfo } from "./do_getinfo.ts";
import { doGetksig } from "./do_getksig.ts";
import { doKill } from "./do_kill.ts";
import { doPrivctl } from "./do_privctl.ts";
import { doSafecopyFrom, doSafecopyTo } from "./do_safecopy.ts";
import { doSafememset } from "./do_safememset.ts";
import { doSafemap } from "./do_safemap.ts";
import { doSaferevmap } from "./do_saferevmap.ts";
import { doSafeunmap } from "./do_safeunmap.ts";
import { doSetalarm } from "./do_setalarm.ts";
import { doSetgrant } from "./do_setgrant.ts";
import { doSigreturn } from "./do_sigreturn.ts";
import { doSigsend } from "./do_sigsend.ts";
import { doTimes } from "./do_times.ts";
import { doVmctl } from "./do_vmctl.ts";
import { doVsafecopy } from "./do_vsafecopy.ts";

export const callVec = {
  // Process management
  SYS_FORK: doFork, // a process forked a new process
  SYS_EXEC: doExec, // a process starts a registered program anew
  SYS_EXIT: doExit, // a system process asks to exit
  SYS_CLEAR: doClear, // release a process slot
  SYS_PRIVCTL: doPrivctl, // set or change a process's privileges
  // Signal handling
  SYS_KILL: doKill, // cause a process to be signaled
  SYS_GETKSIG: doGetksig, // signal manager checks for pending kernel signals
  SYS_ENDKSIG: doEndksig, // signal manager is done with a process's signals
  SYS_SIGSEND: doSigsend, // start a POSIX-style signal handler
  SYS_SIGRETURN: doSigreturn, // return from a POSIX-style signal handler
  // Clock
  SYS_TIMES: doTimes, // process times and uptime
  SYS_SETALARM: doSetalarm, // schedule a CLOCK notification
  // System information and diagnostics
  SYS_GETINFO: doGetinfo, // copy kernel information to the caller
  SYS_DIAGCTL: doDiagctl, // print on the console
  SYS_ABORT: doAbort, // a system process halts the machine
  // Memory
  SYS_SETGRANT: doSetgrant, // install the caller's grant table
  SYS_VMCTL: doVmctl, // VM's control of page tables and memory requests
  // Copying
  SYS_SAFECOPYFROM: doSafecopyFrom, // copy from a grant to the caller
  SYS_SAFECOPYTO: doSafecopyTo, // copy from the caller to a grant
  SYS_VSAFECOPY: doVsafecopy, // a vector of safe copies
  SYS_SAFEMEMSET: doSafememset, // fill granted memory with a byte
  SYS_SAFEMAP: doSafemap, // map granted pages
  SYS_SAFEREVMAP: doSaferevmap, // the grantor revokes mappings of its memory
  SYS_SAFEUNMAP: doSafeunmap, // the grantee removes a mapping
} satisfies { [K in KcallName]: KcallHandler<K> };
