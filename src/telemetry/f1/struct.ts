/**
 * Packed little-endian C structs described as data, so one table names every field (with
 * its unit) and both the decoder and the packet simulator's encoder walk it: the two cannot
 * drift apart, and the struct sizes the game documents are checked against the tables in
 * the tests. The decoded value's TypeScript type is derived from the table itself.
 *
 * Types: u8 i8 u16 i16 u32 f32 u64 (bigint), `dir16` (an i16 holding a normalised direction
 * component, read as value / 32767), `char` with a count (a NUL-padded UTF-8 string), or a
 * nested struct. `count` makes a fixed-length array.
 */

export type ScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'f32' | 'u64' | 'dir16';

export interface FieldDef {
  readonly name: string;
  readonly type: ScalarType | 'char' | StructDef;
  readonly count?: number;
  readonly unit?: string;
  readonly doc?: string;
}

export interface StructDef {
  readonly name: string;
  readonly fields: readonly FieldDef[];
}

type ScalarValue<T> = T extends 'u64' ? bigint : number;
type ElementValue<T> = T extends StructDef ? Decoded<T> : ScalarValue<T>;
type FieldValue<F extends FieldDef> = F['type'] extends 'char' ? string : F extends { readonly count: number } ? ElementValue<F['type']>[] : ElementValue<F['type']>;

/** The plain object a struct decodes to: one key per field, arrays for counted fields. */
export type Decoded<S extends StructDef> = { -readonly [F in S['fields'][number] as F['name']]: FieldValue<F> };

const SCALAR_SIZE: Record<ScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, f32: 4, u64: 8, dir16: 2 };

const sizes = new WeakMap<StructDef, number>();

/** Bytes the struct occupies, packed (no padding, as the games send it). */
export function sizeOf(def: StructDef): number {
  let size = sizes.get(def);
  if (size !== undefined) return size;
  size = 0;
  for (const f of def.fields) size += elementSize(f.type) * (f.count ?? 1);
  sizes.set(def, size);
  return size;
}

function elementSize(type: FieldDef['type']): number {
  if (typeof type === 'object') return sizeOf(type);
  return type === 'char' ? 1 : SCALAR_SIZE[type];
}

function readScalar(view: DataView, type: ScalarType, at: number): number | bigint {
  switch (type) {
    case 'u8':
      return view.getUint8(at);
    case 'i8':
      return view.getInt8(at);
    case 'u16':
      return view.getUint16(at, true);
    case 'i16':
      return view.getInt16(at, true);
    case 'u32':
      return view.getUint32(at, true);
    case 'f32':
      return view.getFloat32(at, true);
    case 'u64':
      return view.getBigUint64(at, true);
    case 'dir16':
      return view.getInt16(at, true) / 32767;
  }
}

function writeScalar(view: DataView, type: ScalarType, at: number, value: number | bigint): void {
  switch (type) {
    case 'u8':
      return view.setUint8(at, Number(value));
    case 'i8':
      return view.setInt8(at, Number(value));
    case 'u16':
      return view.setUint16(at, Number(value), true);
    case 'i16':
      return view.setInt16(at, Number(value), true);
    case 'u32':
      return view.setUint32(at, Number(value), true);
    case 'f32':
      return view.setFloat32(at, Number(value), true);
    case 'u64':
      return view.setBigUint64(at, BigInt(value), true);
    case 'dir16':
      return view.setInt16(at, Math.max(-32767, Math.min(32767, Math.round(Number(value) * 32767))), true);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/**
 * Reads `def` at `offset`. The caller has checked that `sizeOf(def)` bytes are there; a
 * view shorter than that throws a RangeError, which is a bug in the caller, not bad input.
 */
export function decodeStruct<S extends StructDef>(def: S, view: DataView, offset = 0): Decoded<S> {
  const out: Record<string, unknown> = {};
  let at = offset;
  for (const f of def.fields) {
    const type = f.type;
    if (type === 'char') {
      const bytes = new Uint8Array(view.buffer, view.byteOffset + at, f.count ?? 1);
      const end = bytes.indexOf(0);
      out[f.name] = utf8.decode(end < 0 ? bytes : bytes.subarray(0, end));
      at += bytes.length;
    } else if (typeof type === 'object') {
      const size = sizeOf(type);
      if (f.count === undefined) {
        out[f.name] = decodeStruct(type, view, at);
        at += size;
      } else {
        const items: unknown[] = [];
        for (let i = 0; i < f.count; i++, at += size) items.push(decodeStruct(type, view, at));
        out[f.name] = items;
      }
    } else {
      const size = SCALAR_SIZE[type];
      if (f.count === undefined) {
        out[f.name] = readScalar(view, type, at);
        at += size;
      } else {
        const items: (number | bigint)[] = [];
        for (let i = 0; i < f.count; i++, at += size) items.push(readScalar(view, type, at));
        out[f.name] = items;
      }
    }
  }
  return out as Decoded<S>;
}

/** Writes `value` as `def` at `offset`; missing numbers are written as 0. */
export function encodeStruct<S extends StructDef>(def: S, value: Decoded<S>, view: DataView, offset = 0): number {
  const src = value as Record<string, unknown>;
  let at = offset;
  for (const f of def.fields) {
    const type = f.type;
    const v = src[f.name];
    if (type === 'char') {
      const n = f.count ?? 1;
      const bytes = new Uint8Array(view.buffer, view.byteOffset + at, n);
      bytes.fill(0);
      // NUL-padded; a string that fills the field has no terminator (event codes are 4 of 4).
      bytes.set(utf8Encoder.encode(typeof v === 'string' ? v : '').subarray(0, n));
      at += n;
    } else if (typeof type === 'object') {
      const size = sizeOf(type);
      if (f.count === undefined) at = encodeStruct(type, v as Decoded<typeof type>, view, at);
      else for (let i = 0; i < f.count; i++, at += size) encodeStruct(type, ((v as unknown[] | undefined)?.[i] ?? {}) as Decoded<typeof type>, view, at);
    } else {
      const size = SCALAR_SIZE[type];
      if (f.count === undefined) {
        writeScalar(view, type, at, (v as number | bigint | undefined) ?? 0);
        at += size;
      } else {
        for (let i = 0; i < f.count; i++, at += size) writeScalar(view, type, at, ((v as (number | bigint)[] | undefined)?.[i]) ?? 0);
      }
    }
  }
  return at;
}

/** Every field as `path: type [unit] doc`, for docs and the field-naming test. */
export function describeStruct(def: StructDef, prefix = ''): { path: string; type: string; unit: string; doc: string }[] {
  const rows: { path: string; type: string; unit: string; doc: string }[] = [];
  for (const f of def.fields) {
    const path = `${prefix}${f.name}${f.count !== undefined ? `[${f.count}]` : ''}`;
    if (typeof f.type === 'object') rows.push(...describeStruct(f.type, `${path}.`));
    else rows.push({ path, type: f.type, unit: f.unit ?? '', doc: f.doc ?? '' });
  }
  return rows;
}
