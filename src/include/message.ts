/**
 * Messages: fixed 64-byte records (`m_source`, `m_type`, 56 payload bytes) that live in
 * process memory and are copied byte for byte by the kernel. Payload layouts are declared
 * once per protocol with `defineLayout`; offsets are computed from the declaration, so no
 * field offset is ever written twice. MINIX: include/minix/ipc.h (MINIX-SPEC §2.1).
 */
import type { Endpoint } from "./endpoint.ts";
import type { VirAddr } from "./types.ts";

export const MESSAGE_SIZE = 64;
export const M_SOURCE = 0;
export const M_TYPE = 4;
export const M_PAYLOAD = 8;
export const PAYLOAD_SIZE = MESSAGE_SIZE - M_PAYLOAD;

/** Field kinds: fixed-width little-endian integers, branded ids, or a byte array. */
export type FieldKind =
  "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "endpoint" | "vir" | { readonly bytes: number };

type ValueOf<K extends FieldKind> = K extends "endpoint"
  ? Endpoint
  : K extends "vir"
    ? VirAddr
    : K extends { readonly bytes: number }
      ? Uint8Array
      : number;

/** The decoded form of a layout: one property per declared field. */
export type Fields<F extends Readonly<Record<string, FieldKind>>> = {
  [N in keyof F]: ValueOf<F[N]>;
};

export interface Layout<F extends Readonly<Record<string, FieldKind>>> {
  readonly fields: F;
  /** Byte offset of each field from the start of the message. */
  readonly offsets: { readonly [N in keyof F]: number };
  read(view: DataView): Fields<F>;
  /**
   * The fields of the message in `view` read when used, without decoding anything up front:
   * a view of the message, not a copy (valid while the message holds what it was read for;
   * the same object for the same DataView). Its fields are not own properties: use `read`
   * for an object to spread, keep or compare.
   */
  overlay(view: DataView): Readonly<Fields<F>>;
  write(view: DataView, values: Fields<F>): void;
}

function sizeOf(kind: FieldKind): number {
  if (typeof kind === "object") return kind.bytes;
  switch (kind) {
    case "i8":
    case "u8":
      return 1;
    case "i16":
    case "u16":
      return 2;
    case "i32":
    case "u32":
    case "endpoint":
    case "vir":
      return 4;
  }
}

function readField(view: DataView, off: number, kind: FieldKind): number | Uint8Array {
  if (typeof kind === "object") {
    return new Uint8Array(
      view.buffer.slice(view.byteOffset + off, view.byteOffset + off + kind.bytes),
    );
  }
  switch (kind) {
    case "i8":
      return view.getInt8(off);
    case "u8":
      return view.getUint8(off);
    case "i16":
      return view.getInt16(off, true);
    case "u16":
      return view.getUint16(off, true);
    case "i32":
    case "endpoint":
      return view.getInt32(off, true);
    case "u32":
    case "vir":
      return view.getUint32(off, true);
  }
}

function writeField(view: DataView, off: number, kind: FieldKind, v: number | Uint8Array): void {
  if (typeof kind === "object") {
    const bytes = v instanceof Uint8Array ? v : new Uint8Array(0);
    const dst = new Uint8Array(view.buffer, view.byteOffset + off, kind.bytes);
    dst.fill(0);
    dst.set(bytes.subarray(0, kind.bytes));
    return;
  }
  const n = typeof v === "number" ? v : 0;
  switch (kind) {
    case "i8":
    case "u8":
      view.setUint8(off, n & 0xff);
      return;
    case "i16":
    case "u16":
      view.setUint16(off, n & 0xffff, true);
      return;
    case "i32":
    case "u32":
    case "endpoint":
    case "vir":
      view.setUint32(off, n >>> 0, true);
      return;
  }
}

/**
 * Declares a payload layout. Fields are placed in declaration order from `M_PAYLOAD`, each
 * at its natural alignment. Throws at module load if the payload does not fit in 56 bytes.
 */
export function defineLayout<const F extends Readonly<Record<string, FieldKind>>>(
  fields: F,
): Layout<F> {
  return place(fields, M_PAYLOAD, MESSAGE_SIZE);
}

/**
 * Declares a structure in memory (e.g. a kernel-call argument block) with fields from offset
 * 0; `size` is the total size in bytes.
 */
export function defineStruct<const F extends Readonly<Record<string, FieldKind>>>(
  fields: F,
): Layout<F> & { readonly size: number } {
  const layout = place(fields, 0, Number.MAX_SAFE_INTEGER);
  let size = 0;
  for (const [name, kind] of Object.entries(fields)) {
    size = Math.max(size, (layout.offsets as Record<string, number>)[name]! + sizeOf(kind));
  }
  return { ...layout, size: Math.ceil(size / 4) * 4 };
}

function place<const F extends Readonly<Record<string, FieldKind>>>(
  fields: F,
  start: number,
  limit: number,
): Layout<F> {
  const offsets: Record<string, number> = {};
  const entries: [string, FieldKind, number][] = [];
  let off = start;
  for (const [name, kind] of Object.entries(fields)) {
    const size = sizeOf(kind);
    const align = typeof kind === "object" ? 1 : size;
    off = Math.ceil(off / align) * align;
    offsets[name] = off;
    entries.push([name, kind, off]);
    off += size;
  }
  if (off > limit) {
    throw new RangeError(`Message layout too large: ${off - start} payload bytes`);
  }
  const proto: object = {};
  for (const [name, kind, o] of entries) {
    Object.defineProperty(proto, name, {
      get(this: { readonly view: DataView }) {
        return readField(this.view, o, kind);
      },
    });
  }
  let last: { readonly view: DataView } | null = null;
  return {
    fields,
    offsets: offsets as { readonly [N in keyof F]: number },
    overlay(view) {
      if (last?.view !== view)
        last = Object.create(proto, { view: { value: view } }) as { view: DataView };
      return last as unknown as Fields<F>;
    },
    read(view) {
      const out: Record<string, number | Uint8Array> = {};
      for (const [name, kind, o] of entries) out[name] = readField(view, o, kind);
      return out as Fields<F>;
    },
    write(view, values) {
      const vals = values as Record<string, number | Uint8Array>;
      for (const [name, kind, o] of entries) writeField(view, o, kind, vals[name] ?? 0);
    },
  };
}

/** A 64-byte message buffer with accessors for the header. */
export class Message {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(bytes: Uint8Array = new Uint8Array(MESSAGE_SIZE)) {
    if (bytes.length !== MESSAGE_SIZE) throw new RangeError("Message buffer must be 64 bytes");
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, MESSAGE_SIZE);
  }

  get source(): Endpoint {
    return this.view.getInt32(M_SOURCE, true) as Endpoint;
  }

  set source(e: Endpoint) {
    this.view.setInt32(M_SOURCE, e, true);
  }

  get type(): number {
    return this.view.getInt32(M_TYPE, true);
  }

  set type(t: number) {
    this.view.setInt32(M_TYPE, t, true);
  }

  /** Decodes the payload with `layout`. */
  get<F extends Readonly<Record<string, FieldKind>>>(layout: Layout<F>): Fields<F> {
    return layout.read(this.view);
  }

  /** Sets `m_type` and encodes the payload with `layout` (unlisted bytes are zeroed). */
  set<F extends Readonly<Record<string, FieldKind>>>(
    type: number,
    layout: Layout<F>,
    values: Fields<F>,
  ): this {
    this.bytes.fill(0, M_PAYLOAD);
    this.type = type;
    layout.write(this.view, values);
    return this;
  }

  clear(): void {
    this.bytes.fill(0);
  }
}
