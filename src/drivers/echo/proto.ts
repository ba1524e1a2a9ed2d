/**
 * The echo driver's protocol: ECHO answers `value + 1` with the init type of the instance that
 * answered (0 = fresh, 2 = restarted); the CRASH_* requests and HANG end it in the ways a
 * driver can fail, for demonstrations, tests and benchmarks of RS.
 */
import { defineLayout } from "../../include/message.ts";

export const ECHO = 0x5000;
/** Throws out of the process (an illegal instruction: SIGILL). */
export const CRASH_THROW = 0x5001;
/** Reads unmapped memory (SIGSEGV from VM). */
export const CRASH_SEGV = 0x5002;
/** Has the kernel raise SIGKILL on itself. */
export const CRASH_KILL = 0x5003;
/** Exits through SEF (sys_exit: SIGABRT through RS) although nobody asked it to stop. */
export const CRASH_EXIT = 0x5005;
/** Stops answering anything, pings included (RS's heartbeat kills it). */
export const HANG = 0x5004;
export const ECHO_LAYOUT = defineLayout({ value: "i32", incarnation: "i32" });
