/**
 * `service`: manage system services through RS (MINIX commands/service/service.c).
 *
 *     service up <program> [-label L] [-period ticks]
 *     service down <label>
 *     service restart <label>
 *     service refresh <label>
 *     service list
 *
 * Prints on the console; exits 0 on success, 1 when RS refuses (unknown label, missing
 * privileges, busy service…), 2 on bad arguments — each failure with one line saying why.
 */
import { NONE } from "../include/endpoint.ts";
import { E2BIG, EBUSY, EINVAL, ENOENT, EPERM, ESRCH, OK, errName } from "../include/errno.ts";
import {
  RS_ACTIVE,
  RS_EXITING,
  RS_INITIALIZING,
  RS_MAX_LABEL_LEN,
  RS_MAX_PROG_LEN,
  RS_NOPINGREPLY,
  RS_REFRESHING,
  RS_TERMINATED,
  SF_CORE_SRV,
} from "../include/rs.ts";
import type { ProcessContext } from "../include/trap.ts";
import type { Syscall } from "../lib/ipc.ts";
import { sysDiagctl } from "../lib/libsys/sys_misc.ts";
import { encodeLabel, rsCall } from "../lib/rs.ts";
import { cString } from "../include/message.ts";

const USAGE =
  "Usage: service up <program> [-label L] [-period ticks] | down <label> | restart <label> | refresh <label> | list";

/** Exit statuses. */
export const SERVICE_OK = 0;
export const SERVICE_REFUSED = 1;
export const SERVICE_USAGE = 2;

function* say(ctx: ProcessContext, line: string): Syscall<void> {
  yield* sysDiagctl(ctx, `${line}\n`);
}

function why(status: number, label: string): string {
  switch (status) {
    case ESRCH:
      return `no service labelled "${label}"`;
    case EPERM:
      return "permission denied";
    case EBUSY:
      return `service "${label}" is busy`;
    case ENOENT:
      return `no program "${label}"`;
    case E2BIG:
    case EINVAL:
      return "bad request";
    default:
      return errName(status);
  }
}

function validLabel(s: string, max: number): boolean {
  const n = new TextEncoder().encode(s).length;
  return n > 0 && n < max;
}

export function* serviceMain(ctx: ProcessContext): Syscall {
  const [, cmd = "", ...args] = ctx.argv;
  switch (cmd) {
    case "up":
      return yield* up(ctx, args);
    case "down":
    case "restart":
    case "refresh":
      return yield* change(ctx, cmd, args);
    case "list":
      if (args.length !== 0) return yield* usage(ctx);
      return yield* list(ctx);
    default:
      return yield* usage(ctx);
  }
}

function* usage(ctx: ProcessContext): Syscall {
  yield* say(ctx, USAGE);
  return SERVICE_USAGE;
}

function* up(ctx: ProcessContext, args: readonly string[]): Syscall {
  const [program, ...opts] = args;
  if (program === undefined || !validLabel(program, RS_MAX_PROG_LEN + 1)) return yield* usage(ctx);
  let label = "";
  let period = 0;
  for (let i = 0; i < opts.length; i += 2) {
    const value = opts[i + 1];
    if (value === undefined) return yield* usage(ctx);
    if (opts[i] === "-label" && validLabel(value, RS_MAX_LABEL_LEN)) label = value;
    else if (opts[i] === "-period" && /^\d{1,7}$/.test(value)) period = Number(value);
    else return yield* usage(ctx);
  }
  const r = yield* rsCall(ctx, "RS_UP", {
    label: encodeLabel(label),
    program: new TextEncoder().encode(program),
    period,
    flags: 0,
  });
  if (r.status !== OK) {
    yield* say(
      ctx,
      `service: up ${program}: ${why(r.status === ESRCH ? ENOENT : r.status, program)}`,
    );
    return SERVICE_REFUSED;
  }
  yield* say(ctx, `service: ${label || program} is up (endpoint ${r.reply.endpoint})`);
  return SERVICE_OK;
}

function* change(
  ctx: ProcessContext,
  cmd: "down" | "restart" | "refresh",
  args: readonly string[],
): Syscall {
  const label = args[0];
  if (args.length !== 1 || label === undefined || !validLabel(label, RS_MAX_LABEL_LEN)) {
    return yield* usage(ctx);
  }
  const call = cmd === "down" ? "RS_DOWN" : cmd === "restart" ? "RS_RESTART" : "RS_REFRESH";
  const r = yield* rsCall(ctx, call, { label: encodeLabel(label) });
  if (r.status !== OK) {
    yield* say(ctx, `service: ${cmd} ${label}: ${why(r.status, label)}`);
    return SERVICE_REFUSED;
  }
  return SERVICE_OK;
}

function flagNames(flags: number, sysFlags: number, backoff: number): string {
  const names: string[] = [];
  if ((flags & RS_ACTIVE) !== 0) names.push("active");
  if ((flags & RS_INITIALIZING) !== 0) names.push("init");
  if ((flags & RS_EXITING) !== 0) names.push("exiting");
  if ((flags & RS_REFRESHING) !== 0) names.push("refreshing");
  if ((flags & RS_NOPINGREPLY) !== 0) names.push("noping");
  if ((flags & RS_TERMINATED) !== 0) names.push("dead");
  if (backoff > 0) names.push(`backoff:${backoff}`);
  if ((sysFlags & SF_CORE_SRV) !== 0) names.push("core");
  return names.join(",") || "-";
}

function* list(ctx: ProcessContext): Syscall {
  const rows: string[][] = [["label", "endpoint", "pid", "flags", "restarts"]];
  for (let index = 0; ; index++) {
    const r = yield* rsCall(ctx, "RS_LIST", { index });
    if (r.status === ESRCH) break;
    if (r.status !== OK) {
      yield* say(ctx, `service: list: ${why(r.status, "")}`);
      return SERVICE_REFUSED;
    }
    const x = r.reply;
    rows.push([
      cString(x.label),
      x.endpoint === NONE ? "-" : String(x.endpoint),
      x.pid === 0 ? "-" : String(x.pid),
      flagNames(x.flags, x.sysFlags, x.backoff),
      String(x.restarts),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const text = rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
  yield* say(ctx, text);
  return SERVICE_OK;
}
