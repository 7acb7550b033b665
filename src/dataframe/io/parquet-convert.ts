/**
 * Decoded Parquet values -> Frame columns. A ColumnBuilder collects one flat column of a
 * partition, page by page and row group by row group, straight into its typed array (grown as
 * values arrive, so a row count claimed by a corrupt footer allocates nothing by itself):
 *
 *   kind       page values (hyparquet decoders, or our RLE)   column data
 *   number     Int32Array / Float32Array / Float64Array        the column's typed array (set: INT32
 *                                                              into uint8..uint32 wraps, as Parquet means)
 *   bigint     BigInt64Array                                   BigInt64Array / BigUint64Array
 *   int96      bigint[] (days << 64 | nanos of the day)        BigInt64Array in the column's unit (ns
 *                                                              by default: a value outside the years
 *                                                              1677-2262 is an error naming int96Unit)
 *   bool       boolean[] or 0/1 bytes                          Uint8Array 0/1
 *   float16    2-byte Uint8Arrays                              Float32Array
 *   string     Uint8Array per value (UTF-8)                    Int32Array codes + dictionary
 *   uuid       16-byte Uint8Arrays                             codes + "xxxxxxxx-xxxx-..." strings
 *   decimal    Int32Array / BigInt64Array / big-endian bytes   numbers (unscaled / 10^scale)
 *   binary     Uint8Array per value                            copies (own buffers, so a partition
 *                                                              never pins a whole page)
 *   interval   12-byte Uint8Arrays                             { months, days, milliseconds }
 *   null       (nothing)                                       nulls
 *
 * Dictionary pages are converted once per column chunk; data pages then carry indices. For
 * strings the chunk's dictionary is merged into the column's (each distinct string once) and
 * indices become codes by a lookup table: no string is hashed per row.
 */

import { parseDecimal, parseFloat16 } from "hyparquet/src/convert.js";
import { TesseraError } from "../../errors.js";
import { allocColumnData, type Column, type ColumnData, type ColumnMeta, type TimeUnit } from "../frame.js";
import { takeArray } from "./parquet-pool.js";
import type { DecodeKind } from "./parquet-schema.js";

/**
 * A decoded data page's non-null values: raw values, indices into the chunk's dictionary, or
 * the bytes of PLAIN fixed-width values (INT32, FLOAT, DOUBLE, INT64; little-endian, any
 * alignment), which the builder copies straight into its array when the bits mean the same.
 */
export type PageValues = { raw: ArrayLike<unknown> } | { indices: Int32Array } | { plain: Uint8Array; physical: PlainType };

export type PlainType = "INT32" | "FLOAT" | "DOUBLE" | "INT64";

const PLAIN_ARRAY: Record<PlainType, new (b: ArrayBuffer) => ArrayLike<unknown>> = {
  INT32: Int32Array,
  FLOAT: Float32Array,
  DOUBLE: Float64Array,
  INT64: BigInt64Array,
};

/** PLAIN bytes as an (aligned) typed array of the physical type: one copy. */
function plainValues(bytes: Uint8Array, physical: PlainType): ArrayLike<unknown> {
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  return new PLAIN_ARRAY[physical](buf);
}

const PLAIN_WIDTH: Record<PlainType, number> = { INT32: 4, FLOAT: 4, DOUBLE: 8, INT64: 8 };

const utf8 = new TextDecoder();
const JULIAN_EPOCH = 2440588n;
const NS_PER_DAY = 86_400_000_000_000n;
const NS_PER: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1000n, ns: 1n };
const I64_MAX = 2n ** 63n - 1n;

/** INT96 (Julian day << 64 | nanoseconds of the day) as a count of `unit` since the epoch. */
function int96(v: bigint, unit: TimeUnit): bigint {
  const ns = ((v >> 64n) - JULIAN_EPOCH) * NS_PER_DAY + (v & 0xffff_ffff_ffff_ffffn);
  const per = NS_PER[unit];
  // Floor division, so instants before the epoch round down as for other timestamps.
  const out = per === 1n ? ns : ns >= 0n ? ns / per : -((-ns + per - 1n) / per);
  if (out > I64_MAX || out < -I64_MAX - 1n) {
    const days = Number((v >> 64n) - JULIAN_EPOCH);
    const date = new Date(days * 86_400_000);
    const shown = Number.isNaN(date.getTime()) ? `${days} days from 1970` : date.toISOString().slice(0, 10);
    throw new TesseraError(`the INT96 timestamp ${shown} does not fit a 64-bit count of ${unit}; read with int96Unit: "us" (or "ms")`);
  }
  return out;
}

function uuidString(b: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < 16; i++) hex += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Raw values of a page or dictionary as the column's values (typed arrays pass through). */
export function convertValues(kind: DecodeKind, raw: ArrayLike<unknown>, scale: number, unit: TimeUnit = "ns"): ArrayLike<unknown> {
  const n = raw.length;
  switch (kind) {
    case "number":
    case "bigint":
      return raw;
    case "bool":
      return raw instanceof Uint8Array ? raw : Uint8Array.from(raw as ArrayLike<boolean>, (b) => (b ? 1 : 0));
    case "int96": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = int96(raw[i] as bigint, unit);
      return out;
    }
    case "float16": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = parseFloat16(raw[i] as Uint8Array) ?? NaN;
      return out;
    }
    case "string": {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = utf8.decode(raw[i] as Uint8Array);
      return out;
    }
    case "uuid": {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = uuidString(raw[i] as Uint8Array);
      return out;
    }
    case "decimal": {
      const out = new Array<number>(n);
      const factor = 10 ** scale;
      for (let i = 0; i < n; i++) {
        const v = raw[i];
        const unscaled = v instanceof Uint8Array ? parseDecimal(v) : Number(v as number | bigint);
        out[i] = scale > 308 ? unscaled * 10 ** -scale : unscaled / factor;
      }
      return out;
    }
    case "binary": {
      const out = new Array<Uint8Array>(n);
      for (let i = 0; i < n; i++) out[i] = (raw[i] as Uint8Array).slice();
      return out;
    }
    case "interval": {
      const out = new Array<{ months: number; days: number; milliseconds: number }>(n);
      for (let i = 0; i < n; i++) {
        const b = raw[i] as Uint8Array;
        const v = new DataView(b.buffer, b.byteOffset, 12);
        out[i] = { months: v.getUint32(0, true), days: v.getUint32(4, true), milliseconds: v.getUint32(8, true) };
      }
      return out;
    }
    case "null":
      return new Array<null>(n).fill(null);
    case "nested":
      throw new TesseraError("internal: nested columns are not decoded page by page");
  }
}

/** Column data for `type`: typed arrays from this thread's pool (parquet-pool.ts), others as usual. */
function allocData(type: Column["type"], n: number): ColumnData {
  const empty = allocColumnData(type, 0);
  if (Array.isArray(empty)) return allocColumnData(type, n);
  return takeArray(empty.constructor as unknown as Parameters<typeof takeArray<ColumnData>>[0], n);
}

type Writable = { [i: number]: unknown; length: number; set?(a: ArrayLike<unknown>, at: number): void };

function badIndex(j: number, size: number): never {
  throw new TesseraError(`dictionary index ${j >>> 0} is out of range (the dictionary has ${size} values)`);
}

function checkIndices(ix: Int32Array, size: number): void {
  for (let i = 0; i < ix.length; i++) if (ix[i]! >>> 0 >= size) badIndex(ix[i]!, size);
}

/**
 * out[at + i] = table[ix[i]], every index checked against the table's size. One loop per common
 * pair of array types, so each stays monomorphic (a shared generic loop runs several times slower).
 */
function gather(out: Writable, at: number, table: ArrayLike<unknown>, ix: Int32Array): void {
  const size = table.length;
  const n = ix.length;
  if (out instanceof Int32Array && table instanceof Int32Array) {
    for (let i = 0; i < n; i++) {
      const j = ix[i]!;
      if (j >>> 0 >= size) badIndex(j, size);
      out[at + i] = table[j]!;
    }
  } else if (out instanceof Float64Array && table instanceof Float64Array) {
    for (let i = 0; i < n; i++) {
      const j = ix[i]!;
      if (j >>> 0 >= size) badIndex(j, size);
      out[at + i] = table[j]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const j = ix[i]!;
      if (j >>> 0 >= size) badIndex(j, size);
      out[at + i] = table[j];
    }
  }
}

/** One flat column of a partition, built page by page. */
export class ColumnBuilder {
  private data: ColumnData;
  private valid: Uint8Array | undefined;
  private length = 0;
  /** The current chunk's dictionary, as column values (or, for strings, as column codes). */
  private dict: ArrayLike<unknown> | undefined;
  private codesOf: Int32Array | undefined;
  /** Strings: the column's distinct values, and where each is. */
  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly kind: DecodeKind,
    readonly meta: ColumnMeta,
    private readonly expected: number,
    private readonly scale = 0,
  ) {
    // Room for the rows the footer lists, up to 1M at first: a corrupt count allocates little.
    this.data = allocData(this.storedType(), Math.min(expected, 1 << 20));
  }

  private storedType(): Column["type"] {
    return this.isString() ? "string" : this.meta.type;
  }

  private isString(): boolean {
    return this.kind === "string" || this.kind === "uuid";
  }

  private reserve(n: number): void {
    const need = this.length + n;
    if (need > this.expected) throw new TesseraError(`column ${JSON.stringify(this.name)}: the pages hold more than the ${this.expected} rows the footer lists`);
    if (need <= this.data.length) return;
    const size = Math.min(this.expected, Math.max(need, this.data.length * 2));
    const grown = allocData(this.storedType(), size);
    if (Array.isArray(grown)) for (let i = 0; i < this.length; i++) grown[i] = (this.data as unknown[])[i];
    else (grown as Int32Array).set((this.data as Int32Array).subarray(0, this.length));
    this.data = grown;
    if (this.valid) {
      const v = new Uint8Array(size);
      v.set(this.valid.subarray(0, this.length));
      this.valid = v;
    }
  }

  private code(s: string): number {
    let c = this.stringIndex.get(s);
    if (c === undefined) {
      c = this.strings.length;
      this.strings.push(s);
      this.stringIndex.set(s, c);
    }
    return c;
  }

  /** A new column chunk begins: its dictionary (if any) comes next. */
  startChunk(): void {
    this.dict = undefined;
    this.codesOf = undefined;
  }

  /** The chunk's dictionary page, as raw values. */
  setDictionary(raw: ArrayLike<unknown>): void {
    const values = convertValues(this.kind, raw, this.scale, this.meta.unit);
    this.dict = values;
    if (this.isString()) {
      const codes = new Int32Array(values.length);
      for (let i = 0; i < values.length; i++) codes[i] = this.code(values[i] as string);
      this.codesOf = codes;
    }
  }

  get dictionarySize(): number | undefined {
    return this.dict?.length;
  }

  /**
   * A data page of n rows: `defs` has 1 where a row has a value (null: all do); `values` are the
   * values of those rows, in order.
   */
  append(n: number, defs: Uint8Array | null, values: PageValues): void {
    this.reserve(n);
    const at = this.length;
    const out = this.data as Writable;
    if ("plain" in values) {
      const target = this.data as unknown as { buffer: ArrayBuffer; byteOffset: number; BYTES_PER_ELEMENT?: number };
      const width = PLAIN_WIDTH[values.physical];
      // Same bits in the column's array (int32 / uint32 / date32 from INT32, float32, float64,
      // int64 / uint64 / timestamp from INT64): one copy of the page's bytes, no conversion.
      if (!defs && (this.kind === "number" || this.kind === "bigint") && !Array.isArray(target) && target.BYTES_PER_ELEMENT === width && values.plain.length === n * width) {
        new Uint8Array(target.buffer, target.byteOffset + at * width, n * width).set(values.plain);
        this.markValid(at, n, defs);
        this.length += n;
        return;
      }
      values = { raw: plainValues(values.plain, values.physical) };
    }
    if ("indices" in values) {
      const table = this.isString() ? this.codesOf : this.dict;
      if (!table) throw new TesseraError(`column ${JSON.stringify(this.name)}: a data page refers to a dictionary, but its column chunk has no dictionary page`);
      const ix = values.indices;
      if (!defs) gather(out, at, table, ix);
      else {
        checkIndices(ix, table.length);
        this.scatter(at, n, defs, (j) => table[ix[j]!]);
      }
    } else {
      const src = this.isString() ? this.stringCodes(convertValues(this.kind, values.raw, this.scale, this.meta.unit)) : convertValues(this.kind, values.raw, this.scale, this.meta.unit);
      if (!defs) {
        if (out.set && !Array.isArray(src)) out.set(src, at);
        else for (let i = 0; i < n; i++) out[at + i] = src[i];
      } else {
        this.scatter(at, n, defs, (j) => src[j]);
      }
    }
    this.markValid(at, n, defs);
    this.length += n;
  }

  /**
   * The column's own bytes for the next n rows when PLAIN values of `width` bytes are stored as
   * they are (the same test as append's copy), for a decoder to write them there itself; null
   * when they need converting. commitRows(n) then counts them as n rows with values.
   */
  plainTarget(n: number, width: number): Uint8Array | null {
    const data = this.data as unknown as { BYTES_PER_ELEMENT?: number };
    if ((this.kind !== "number" && this.kind !== "bigint") || Array.isArray(data) || data.BYTES_PER_ELEMENT !== width) return null;
    return this.rowBytes(n, width);
  }

  /**
   * The current chunk's dictionary as the column stores it (for strings, the column's codes of
   * its values), when a decoder may copy its entries' bytes into the column as they are (the
   * same array type); null otherwise. Entries are written with rowBytes, then commitRows.
   */
  dictionaryTable(): Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array | null {
    const table = (this.isString() ? this.codesOf : this.dict) as unknown;
    if (!table || Array.isArray(this.data) || !ArrayBuffer.isView(table)) return null;
    if (table.constructor !== this.data.constructor) return null;
    const t = table as Int32Array;
    return t.BYTES_PER_ELEMENT === 4 || t.BYTES_PER_ELEMENT === 8 ? t : null;
  }

  /** The column's bytes for the next n rows (`width` bytes a row, the array's own). */
  rowBytes(n: number, width: number): Uint8Array {
    this.reserve(n);
    const data = this.data as unknown as { buffer: ArrayBuffer; byteOffset: number; BYTES_PER_ELEMENT: number };
    if (data.BYTES_PER_ELEMENT !== width) throw new TesseraError(`internal: column ${JSON.stringify(this.name)} has ${data.BYTES_PER_ELEMENT}-byte values, not ${width}`);
    return new Uint8Array(data.buffer, data.byteOffset + this.length * width, n * width);
  }

  /** The next n rows were written through rowBytes: all have values. */
  commitRows(n: number): void {
    this.reserve(n);
    this.markValid(this.length, n, null);
    this.length += n;
  }

  private markValid(at: number, n: number, defs: Uint8Array | null): void {
    if (defs || this.valid) {
      if (!this.valid) {
        this.valid = new Uint8Array(this.data.length);
        this.valid.fill(1, 0, at);
      }
      if (defs) this.valid.set(defs, at);
      else this.valid.fill(1, at, at + n);
    }
  }

  private stringCodes(strings: ArrayLike<unknown>): Int32Array {
    const codes = new Int32Array(strings.length);
    for (let i = 0; i < strings.length; i++) codes[i] = this.code(strings[i] as string);
    return codes;
  }

  private scatter(at: number, n: number, defs: Uint8Array, value: (j: number) => unknown): void {
    const out = this.data as Writable;
    // Null rows hold null, or zero (pooled arrays hold old values until written).
    const none = Array.isArray(out) ? null : out instanceof BigInt64Array || out instanceof BigUint64Array ? 0n : 0;
    let j = 0;
    for (let i = 0; i < n; i++) out[at + i] = defs[i] ? value(j++) : none;
  }

  finish(): Column {
    if (this.length !== this.expected) {
      throw new TesseraError(`column ${JSON.stringify(this.name)}: read ${this.length} rows, but the footer lists ${this.expected}`);
    }
    const data = this.data.length === this.length ? this.data : (this.data.slice(0, this.length) as ColumnData);
    const col: Column = { type: this.storedType(), data };
    if (this.meta.unit) col.unit = this.meta.unit;
    if (this.meta.tz) col.tz = this.meta.tz;
    if (this.isString()) col.dictionary = this.strings;
    if (this.valid) {
      const v = this.valid.length === this.length ? this.valid : this.valid.slice(0, this.length);
      if (v.includes(0)) col.valid = v;
    }
    return col;
  }
}
