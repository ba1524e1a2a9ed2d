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
   * the same object for the same DataView). Its fields are accessors, not enumerable: use
   * `read` for an object to spread, keep or compare.
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

const C_I8 = 0;
const C_U8 = 1;
const C_I16 = 2;
const C_U16 = 3;
const C_I32 = 4;
const C_U32 = 5;
const C_BYTES = 6;

function kindCode(kind: FieldKind): number {
  if (typeof kind === "object") return C_BYTES;
  switch (kind) {
    case "i8":
      return C_I8;
    case "u8":
      return C_U8;
    case "i16":
      return C_I16;
    case "u16":
      return C_U16;
    case "i32":
    case "endpoint":
      return C_I32;
    case "u32":
    case "vir":
      return C_U32;
  }
}

function readCoded(view: DataView, off: number, code: number, size: number): number | Uint8Array {
  switch (code) {
    case C_I32:
      return view.getInt32(off, true);
    case C_U32:
      return view.getUint32(off, true);
    case C_I8:
      return view.getInt8(off);
    case C_U8:
      return view.getUint8(off);
    case C_I16:
      return view.getInt16(off, true);
    case C_U16:
      return view.getUint16(off, true);
    default:
      return new Uint8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + size));
  }
}

function writeCoded(
  view: DataView,
  off: number,
  code: number,
  size: number,
  v: number | Uint8Array,
): void {
  if (code === C_BYTES) {
    const bytes = v instanceof Uint8Array ? v : new Uint8Array(0);
    const dst = new Uint8Array(view.buffer, view.byteOffset + off, size);
    dst.fill(0);
    dst.set(bytes.subarray(0, size));
    return;
  }
  const x = typeof v === "number" ? v : 0;
  if (code >= C_I32) view.setUint32(off, x >>> 0, true);
  else if (code >= C_I16) view.setUint16(off, x & 0xffff, true);
  else view.setUint8(off, x & 0xff);
}

/**
 * An overlay's accessor for one field of `view`: one small function per kind, closed over the
 * view rather than reading it from `this`. The closures made from one literal share their
 * type feedback, so a `this.view` load would see every layout's overlay and go megamorphic;
 * a captured view is a plain context load, and the DataView method load stays monomorphic.
 */
function getter(view: DataView, o: number, code: number, size: number): () => number | Uint8Array {
  switch (code) {
    case C_I32:
      return () => view.getInt32(o, true);
    case C_U32:
      return () => view.getUint32(o, true);
    default:
      return () => readCoded(view, o, code, size);
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
  let last: { readonly view: DataView } | null = null;
  // The hot paths (`read`, `write`) walk parallel arrays with numeric kinds.
  const n = entries.length;
  const names = entries.map((e) => e[0]);
  const offs = entries.map((e) => e[2]);
  const codes = entries.map((e) => kindCode(e[1]));
  const sizes = entries.map((e) => sizeOf(e[1]));
  // Every decoded object starts as a copy of one with all the fields (one hidden class).
  const shape: Record<string, number | Uint8Array> = {};
  for (const name of names) shape[name] = 0;
  return {
    fields,
    offsets: offsets as { readonly [N in keyof F]: number },
    overlay(view) {
      if (last?.view !== view) {
        const proto: object = {};
        for (const [name, kind, off] of entries) {
          Object.defineProperty(proto, name, {
            get: getter(view, off, kindCode(kind), sizeOf(kind)),
          });
        }
        last = Object.create(proto, { view: { value: view } }) as { view: DataView };
      }
      return last as unknown as Fields<F>;
    },
    read(view) {
      const out: Record<string, number | Uint8Array> = { ...shape };
      for (let i = 0; i < n; i++) out[names[i]!] = readCoded(view, offs[i]!, codes[i]!, sizes[i]!);
      return out as Fields<F>;
    },
    write(view, values) {
      const vals = values as Record<string, number | Uint8Array | undefined>;
      for (let i = 0; i < n; i++) {
        writeCoded(view, offs[i]!, codes[i]!, sizes[i]!, vals[names[i]!] ?? 0);
      }
    },
  };
}

/** A 64-byte message buffer with accessors for the header. */
export class Message {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** The same 64 bytes as 16 host-order words (how the CPU port copies messages fastest). */
  readonly words: Uint32Array;

  constructor(bytes: Uint8Array = new Uint8Array(MESSAGE_SIZE)) {
    if (bytes.length !== MESSAGE_SIZE || bytes.byteOffset % 4 !== 0) {
      throw new RangeError("Message buffer must be 64 word-aligned bytes");
    }
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, MESSAGE_SIZE);
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, MESSAGE_SIZE / 4);
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
    this.clearPayload();
    this.type = type;
    layout.write(this.view, values);
    return this;
  }

  /** Zeroes the 56 payload bytes (the header stays). */
  clearPayload(): void {
    clearPayload(this.words);
  }

  clear(): void {
    this.bytes.fill(0);
  }
}

/** Zeroes the payload words of the message in `w`. Unrolled: it is on every request's path. */
export function clearPayload(w: Uint32Array): void {
  w[2] = 0;
  w[3] = 0;
  w[4] = 0;
  w[5] = 0;
  w[6] = 0;
  w[7] = 0;
  w[8] = 0;
  w[9] = 0;
  w[10] = 0;
  w[11] = 0;
  w[12] = 0;
  w[13] = 0;
  w[14] = 0;
  w[15] = 0;
}

/**
 * Copies the 16 words of a message. Written out because V8 runs this straight-line code
 * several times faster than the equivalent loop, and it is on every message's path.
 */
export function copy16(d: Uint32Array, di: number, s: Uint32Array, si: number): void {
  d[di] = s[si]!;
  d[di + 1] = s[si + 1]!;
  d[di + 2] = s[si + 2]!;
  d[di + 3] = s[si + 3]!;
  d[di + 4] = s[si + 4]!;
  d[di + 5] = s[si + 5]!;
  d[di + 6] = s[si + 6]!;
  d[di + 7] = s[si + 7]!;
  d[di + 8] = s[si + 8]!;
  d[di + 9] = s[si + 9]!;
  d[di + 10] = s[si + 10]!;
  d[di + 11] = s[si + 11]!;
  d[di + 12] = s[si + 12]!;
  d[di + 13] = s[si + 13]!;
  d[di + 14] = s[si + 14]!;
  d[di + 15] = s[si + 15]!;
}

const utf8 = new TextDecoder();

/** A NUL-terminated (or NUL-padded) byte string: the bytes before the first NUL, as UTF-8. */
export function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8.decode(end < 0 ? bytes : bytes.subarray(0, end));
}
