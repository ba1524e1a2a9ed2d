/**
 * Signal numbers (MINIX 3.1.x numbering) and the kernel signals of the A era.
 * MINIX: include/signal.h (MINIX-SPEC §3.7).
 */
export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGABRT = 6;
export const SIGBUS = 7;
/** The same number as SIGBUS (MINIX's obsolete SIGEMT). */
export const SIGEMT = 7;
export const SIGFPE = 8;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGSEGV = 11;
export const SIGUSR2 = 12;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGCHLD = 17;
/** System signal: end of a delayed stop. */
export const SIGSNDELAY = 26;
/** Kernel signals, delivered to system processes as notifications from SYSTEM. */
export const SIGKMEM = 27;
export const SIGKMESS = 28;
export const SIGKSIGSM = 29;
export const SIGKSIG = 30;
export const NSIG = 32;
