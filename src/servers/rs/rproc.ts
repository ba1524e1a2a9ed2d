/**
 * RS's per-service records (MINIX `struct rproc` and `struct rprocpub` in one): label,
 * endpoint and pid of the running instance, flags, restart count and backoff, heartbeat
 * timestamps, and what RS needs to start the service again (program copy, argv, privileges).
 * MINIX: servers/rs/type.h, const.h (MINIX-SPEC §6.1).
 */
import { NONE, type Endpoint } from "../../include/endpoint.ts";
import { RS_IN_USE } from "../../include/rs.ts";

/** Privileges RS installs with SYS_PRIV_SET_SYS (PRIV_ARG), or the shared user structure. */
export type PrivSpec =
  | "user"
  | {
      readonly flags: number;
      readonly trapMask: number;
      /** Privilege-id mask of allowed targets (first 32 ids), or "all". */
      readonly ipcTo: number | "all";
      readonly kCallMask0: number;
      readonly kCallMask1: number;
      readonly sigMgr: Endpoint;
    };

export interface Rproc {
  readonly label: string;
  /** Name in the program table RS restarts from (its "copy"), or null: cannot restart. */
  readonly program: string | null;
  readonly argv: readonly string[];
  readonly priv: PrivSpec;
  readonly sysFlags: number;
  /** Heartbeat period in ticks (0 = no pings). */
  readonly period: number;
  /** A boot service in a fixed slot with a static privilege id (first incarnation). */
  readonly boot: boolean;
  endpoint: Endpoint;
  /** The endpoint of the last instance that died (NONE before the first death). */
  deadEndpoint: Endpoint;
  /** PM's pid of the running instance (0 = not known yet). */
  pid: number;
  flags: number;
  /** Times started again after a death. */
  restarts: number;
  /** RS periods left before the next restart (0 = none pending). */
  backoff: number;
  /** Tick of the last ping sent, of the last sign of life, of the SIGTERM sent (0 = none). */
  checkTm: number;
  aliveTm: number;
  stopTm: number;
  /** A caller waiting for RS_UP/RS_DOWN/RS_REFRESH to finish (NONE = nobody). */
  lateReply: Endpoint;
}

export function newRproc(
  init: Pick<Rproc, "label" | "program" | "argv" | "priv" | "sysFlags" | "period" | "boot">,
): Rproc {
  return {
    ...init,
    endpoint: NONE,
    deadEndpoint: NONE,
    pid: 0,
    flags: RS_IN_USE,
    restarts: 0,
    backoff: 0,
    checkTm: 0,
    aliveTm: 0,
    stopTm: 0,
    lateReply: NONE,
  };
}

/** A service's public record, as RS_LIST answers it and the inspector shows it. */
export interface RprocInfo {
  readonly label: string;
  readonly endpoint: Endpoint;
  readonly pid: number;
  readonly flags: number;
  readonly sysFlags: number;
  readonly restarts: number;
  readonly backoff: number;
  readonly period: number;
}

export function rprocInfo(rp: Rproc): RprocInfo {
  const { label, endpoint, pid, flags, sysFlags, restarts, backoff, period } = rp;
  return { label, endpoint, pid, flags, sysFlags, restarts, backoff, period };
}

/** The table of services, in the order they were set up. */
export class RprocTable {
  readonly #list: Rproc[] = [];

  add(rp: Rproc): void {
    this.#list.push(rp);
  }

  remove(rp: Rproc): void {
    const i = this.#list.indexOf(rp);
    if (i >= 0) this.#list.splice(i, 1);
  }

  byLabel(label: string): Rproc | undefined {
    return this.#list.find((r) => r.label === label);
  }

  byEndpoint(ep: number): Rproc | undefined {
    return this.#list.find((r) => r.endpoint === ep);
  }

  get all(): readonly Rproc[] {
    return this.#list;
  }

  /** The system services (user processes of the boot image are not services). */
  get services(): Rproc[] {
    return this.#list.filter((r) => r.priv !== "user");
  }
}
