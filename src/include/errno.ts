/**
 * Error codes, negative inside the system as in MINIX (`_SIGN` is `-` when `_SYSTEM`).
 * MINIX: include/errno.h. Values are the spec's (MINIX-SPEC §0.2).
 */
export const OK = 0;
export const EPERM = -1;
export const ENOENT = -2;
export const ESRCH = -3;
export const EINTR = -4;
export const ENXIO = -6;
export const E2BIG = -7;
export const ENOEXEC = -8;
export const ECHILD = -10;
export const EAGAIN = -11;
export const ENOMEM = -12;
export const EACCES = -13;
export const EFAULT = -14;
export const EBUSY = -16;
export const EEXIST = -17;
export const EINVAL = -22;
export const EFBIG = -27;
export const ENOSPC = -28;
export const EDOM = -33;
export const ERANGE = -34;
export const ENOSYS = -38;
export const ELOOP = -40;
export const ERESTART = -41;
export const EIDRM = -43;
export const ELOCKED = -101;
export const EBADCALL = -102;
export const ECALLDENIED = -104;
export const EDEADSRCDST = -105;
export const ENOTREADY = -106;
export const EBADREQUEST = -107;
export const ETRAPDENIED = -110;
/** Pseudo result: do not reply now. */
export const EDONTREPLY = -201;

/** Kernel-internal pseudo results; never visible to user space. */
export const VMSUSPEND = -996;
export const EFAULT_SRC = -995;
export const EFAULT_DST = -994;

const NAMES: Readonly<Record<number, string>> = {
  [OK]: "OK",
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  [ESRCH]: "ESRCH",
  [EINTR]: "EINTR",
  [ENXIO]: "ENXIO",
  [E2BIG]: "E2BIG",
  [ENOEXEC]: "ENOEXEC",
  [ECHILD]: "ECHILD",
  [EAGAIN]: "EAGAIN",
  [ENOMEM]: "ENOMEM",
  [EACCES]: "EACCES",
  [EFAULT]: "EFAULT",
  [EBUSY]: "EBUSY",
  [EEXIST]: "EEXIST",
  [EINVAL]: "EINVAL",
  [EFBIG]: "EFBIG",
  [ENOSPC]: "ENOSPC",
  [EDOM]: "EDOM",
  [ERANGE]: "ERANGE",
  [ENOSYS]: "ENOSYS",
  [ELOOP]: "ELOOP",
  [ERESTART]: "ERESTART",
  [EIDRM]: "EIDRM",
  [ELOCKED]: "ELOCKED",
  [EBADCALL]: "EBADCALL",
  [ECALLDENIED]: "ECALLDENIED",
  [EDEADSRCDST]: "EDEADSRCDST",
  [ENOTREADY]: "ENOTREADY",
  [EBADREQUEST]: "EBADREQUEST",
  [ETRAPDENIED]: "ETRAPDENIED",
  [EDONTREPLY]: "EDONTREPLY",
  [VMSUSPEND]: "VMSUSPEND",
  [EFAULT_SRC]: "EFAULT_SRC",
  [EFAULT_DST]: "EFAULT_DST",
};

/** The symbolic name of a status code, e.g. `errName(-105) === "EDEADSRCDST"`. */
export function errName(code: number): string {
  return NAMES[code] ?? (code >= 0 ? String(code) : `E?${-code}`);
}
