/**
 * RS keeps DS's label ↔ endpoint naming current (MINIX `publish_service` /
 * `unpublish_service`, MINIX-SPEC §5.10, §6.6): every service's label is published with
 * DSF_OVERWRITE when it starts or restarts (so subscribers of a label learn a restarted
 * service's new endpoint) and deleted when it goes for good (DS then drops everything the
 * label owned). Whenever DS itself reports a successful init — at boot or after a restart —
 * RS publishes every label again, so a DS that lost its store still names everyone.
 * DS names `rs` and `ds` itself. A failure is logged: naming must not stop RS.
 */
import { NONE } from "../../include/endpoint.ts";
import { DSF_OVERWRITE } from "../../include/ds.ts";
import { OK } from "../../include/errno.ts";
import { RS_INITIALIZING } from "../../include/rs.ts";
import type { Syscall } from "../../lib/ipc.ts";
import { dsDeleteLabel, dsPublishLabel, dsSetEndpoint } from "../../lib/libsys/ds.ts";
import type { Rproc } from "./rproc.ts";
import type { RsState } from "./state.ts";

const DS_LABEL = "ds";
const RS_LABEL = "rs";

function named(rp: Rproc): boolean {
  return rp.priv !== "user" && rp.label !== DS_LABEL && rp.label !== RS_LABEL;
}

/** Is DS up (initialised) for RS to talk to? */
function dsUp(rs: RsState): boolean {
  const ds = rs.table.byLabel(DS_LABEL);
  return ds !== undefined && ds.endpoint !== NONE && (ds.flags & RS_INITIALIZING) === 0;
}

/** `publish_service`: the label of `rp` names its (new) endpoint. */
export function* dsLabelUp(rs: RsState, rp: Rproc): Syscall<void> {
  if (rp.label === DS_LABEL) {
    dsSetEndpoint(rs.ctx, rp.endpoint, false);
    return;
  }
  if (!named(rp) || !dsUp(rs)) return;
  const r = yield* dsPublishLabel(rs.ctx, rp.label, rp.endpoint, DSF_OVERWRITE);
  if (r !== OK) yield* rs.print(`cannot publish label ${rp.label} in DS (${r})`);
}

/** `unpublish_service`: the label of `rp` goes (with everything it owned in DS). */
export function* dsLabelDown(rs: RsState, rp: Rproc): Syscall<void> {
  if (!named(rp) || !dsUp(rs)) return;
  const r = yield* dsDeleteLabel(rs.ctx, rp.label);
  if (r !== OK) yield* rs.print(`cannot delete label ${rp.label} in DS (${r})`);
}

/** DS finished its init (`ds` is its record): publish every running service's label. */
export function* dsLabelsAll(rs: RsState, ds: Rproc): Syscall<void> {
  dsSetEndpoint(rs.ctx, ds.endpoint, false);
  for (const rp of rs.table.all) if (rp.endpoint !== NONE) yield* dsLabelUp(rs, rp);
}

/** For RS's init paths: true when `rp` is DS. */
export function isDs(rp: Rproc): boolean {
  return rp.label === DS_LABEL;
}
