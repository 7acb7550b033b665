/**
 * Column builders for the CSV parser: one per output column, filled a batch of rows at a time
 * from the tokenizer's field boundaries (csv-parse.ts), each with its own parse loop.
 *
 *   numbers, bools, dates   parsed in place into the column's typed array
 *   int64, timestamps       written as two int32 halves when the value is a safe integer
 *                           (no BigInt per value); through BigInt only beyond 2^53
 *   strings                 dictionary-encoded on the fly by a hash table over text ranges,
 *                           so a repeated value costs a hash and a compare, not a substring
 *
 * Nulls: a field is null when absent (short row), or equal to one of `nullValues`. When some
 * null value would also parse as the column's type (nullValues: ["-1"] on an int column) nulls
 * are checked first; otherwise only fields that fail to parse are looked up.
 */

import { TesseraError } from "../../errors.js";
import type { Column, ColumnMeta } from "../frame.js";
import { isNanWord, parseBigIntText, parseBoolText, parseDateText, parseFloatText, parseIntText, parseTimestampText, stamp, stampValue } from "./csv-scalars.js";
import type { FieldTable } from "./csv-parse.js";

export class Nulls {
  private readonly set: Set<string>;
  private readonly maxLength: number;
  readonly empty: boolean;
  constructor(readonly values: readonly string[]) {
    this.set = new Set(values);
    this.maxLength = values.reduce((m, v) => Math.max(m, v.length), 0);
    this.empty = this.set.has("");
  }
  is(text: string, s: number, e: number): boolean {
    const n = e - s;
    if (n === 0) return this.empty;
    return n <= this.maxLength && this.set.has(text.slice(s, e));
  }
  /** Whether some non-empty null value also reads as a value of this column. */
  overlaps(ok: (v: string) => boolean): boolean {
    return this.values.some((v) => v !== "" && ok(v));
  }
}

/** Thrown by a column: the parser adds the place. */
export class CsvValueError extends TesseraError {
  override name = "CsvValueError";
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(message);
  }
}

export abstract class ColumnBuilder {
  valid: Uint8Array | undefined;
  /** Rows written so far (the next row's index). */
  at = 0;
  private nullFirst: boolean | undefined;
  constructor(
    readonly meta: ColumnMeta,
    readonly nulls: Nulls,
    protected capacity: number,
  ) {}
  /** Store text[s, e) at row `at`; false when it is not a value of this type. */
  abstract parse(text: string, s: number, e: number): boolean;
  protected abstract grow(capacity: number): void;
  abstract column(): Column;
  /** Whether `v` is a value of this type (number builders may scribble on row `at`: it is rewritten). */
  protected reads(v: string): boolean {
    return this.parse(v, 0, v.length);
  }

  setNull(): void {
    (this.valid ??= new Uint8Array(this.capacity).fill(1))[this.at] = 0;
  }

  /** Rows 0..t.rows of field `col`. */
  fill(text: string, t: FieldTable, col: number, unescape: (s: string) => string): void {
    if (this.at + t.rows > this.capacity) this.resize(Math.max(this.at + t.rows, this.capacity * 2));
    const { starts, ends, escaped, ncols } = t;
    const nulls = this.nulls;
    const nullFirst = (this.nullFirst ??= nulls.overlaps((v) => this.reads(v)));
    for (let r = 0, k = col; r < t.rows; r++, k += ncols, this.at++) {
      const s = starts[k]!;
      const e = ends[k]!;
      if (s < 0 || (s === e && nulls.empty) || (nullFirst && nulls.is(text, s, e))) {
        this.setNull();
      } else if (escaped[k]) {
        const v = unescape(text.slice(s, e));
        if (nulls.is(v, 0, v.length)) this.setNull();
        else if (!this.parse(v, 0, v.length)) throw this.bad(v, r);
      } else if (!this.parse(text, s, e)) {
        if (nulls.is(text, s, e)) this.setNull();
        else throw this.bad(text.slice(s, e), r);
      }
    }
  }

  private resize(c: number): void {
    this.grow(c);
    if (this.valid) {
      const v = new Uint8Array(c).fill(1);
      v.set(this.valid.subarray(0, this.at));
      this.valid = v;
    }
    this.capacity = c;
  }

  private bad(value: string, row: number): CsvValueError {
    const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
    const what = this.meta.type === "timestamp" ? `timestamp[${this.meta.unit}]` : this.meta.type;
    return new CsvValueError(`cannot read ${JSON.stringify(shown)} as ${what}`, row);
  }

  protected finish(data: Column["data"]): Column {
    const c: Column = { ...this.meta, data };
    if (this.valid) c.valid = this.valid.length === this.at ? this.valid : this.valid.slice(0, this.at);
    return c;
  }
}

type Typed = Float64Array | Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
type TypedCtor = new (n: number) => Typed;

abstract class NumberBuilder extends ColumnBuilder {
  data: Typed;
  constructor(
    meta: ColumnMeta,
    nulls: Nulls,
    capacity: number,
    private readonly ctor: TypedCtor,
  ) {
    super(meta, nulls, capacity);
    this.data = new ctor(capacity);
  }
  protected grow(c: number): void {
    const d = new this.ctor(c);
    d.set(this.data.subarray(0, this.at));
    this.data = d;
  }
  column(): Column {
    return this.finish(this.data.length === this.at ? this.data : this.data.slice(0, this.at));
  }
}

class IntBuilder extends NumberBuilder {
  constructor(meta: ColumnMeta, nulls: Nulls, capacity: number, ctor: TypedCtor, private readonly min: number, private readonly max: number) {
    super(meta, nulls, capacity, ctor);
  }
  parse(text: string, s: number, e: number): boolean {
    const v = parseIntText(text, s, e);
    if (!(v >= this.min && v <= this.max)) return false;
    this.data[this.at] = v;
    return true;
  }
}

class FloatBuilder extends NumberBuilder {
  parse(text: string, s: number, e: number): boolean {
    const v = parseFloatText(text, s, e);
    if (v !== v && !isNanWord(text, s, e)) return false;
    this.data[this.at] = v;
    return true;
  }
}

class BoolBuilder extends NumberBuilder {
  parse(text: string, s: number, e: number): boolean {
    const v = parseBoolText(text, s, e, true);
    if (v < 0) return false;
    this.data[this.at] = v;
    return true;
  }
}

class DateBuilder extends NumberBuilder {
  parse(text: string, s: number, e: number): boolean {
    const v = parseDateText(text, s, e);
    if (v !== v) return false;
    this.data[this.at] = v;
    return true;
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const TWO32 = 4294967296;

/** int64, uint64 and timestamps: 64-bit slots written as int32 halves where a number suffices. */
class Int64Builder extends ColumnBuilder {
  data: BigInt64Array | BigUint64Array;
  halves: Int32Array;
  private readonly signed: boolean;
  private readonly timestamp: boolean;
  constructor(meta: ColumnMeta, nulls: Nulls, capacity: number) {
    super(meta, nulls, capacity);
    this.signed = meta.type !== "uint64";
    this.timestamp = meta.type === "timestamp";
    this.data = this.signed ? new BigInt64Array(capacity) : new BigUint64Array(capacity);
    this.halves = new Int32Array(this.data.buffer);
  }
  private put(v: number): void {
    if (!LITTLE_ENDIAN) {
      this.data[this.at] = BigInt(v);
      return;
    }
    let lo = v % TWO32;
    if (lo < 0) lo += TWO32;
    this.halves[2 * this.at] = lo | 0;
    this.halves[2 * this.at + 1] = ((v - lo) / TWO32) | 0;
  }
  parse(text: string, s: number, e: number): boolean {
    if (this.timestamp) {
      if (!parseTimestampText(text, s, e)) return false;
      const unit = this.meta.unit ?? "us";
      const per = unit === "s" ? 1 : unit === "ms" ? 1e3 : unit === "us" ? 1e6 : 1e9;
      const v = stamp.seconds * per + Math.floor(stamp.nanos / (1e9 / per));
      if (Number.isSafeInteger(v)) this.put(v);
      else {
        const big = stampValue(unit);
        if (big === undefined) return false;
        this.data[this.at] = big;
      }
      return true;
    }
    const v = parseIntText(text, s, e);
    if (Number.isSafeInteger(v)) {
      if (!this.signed && v < 0) return false;
      this.put(v);
      return true;
    }
    const big = parseBigIntText(text, s, e, this.signed);
    if (big === undefined) return false;
    this.data[this.at] = big;
    return true;
  }
  protected grow(c: number): void {
    const d = this.signed ? new BigInt64Array(c) : new BigUint64Array(c);
    d.set(this.data.subarray(0, this.at) as BigInt64Array & BigUint64Array);
    this.data = d;
    this.halves = new Int32Array(d.buffer);
  }
  column(): Column {
    return this.finish(this.data.length === this.at ? this.data : this.data.slice(0, this.at));
  }
}

/** Strings, dictionary-encoded through an open-addressing table keyed by the text's chars. */
class StringBuilder extends ColumnBuilder {
  codes: Int32Array;
  readonly dictionary: string[] = [];
  private hashes: Int32Array = new Int32Array(16);
  private slots: Int32Array = new Int32Array(64);
  constructor(meta: ColumnMeta, nulls: Nulls, capacity: number) {
    super(meta, nulls, capacity);
    this.codes = new Int32Array(capacity);
  }
  parse(text: string, s: number, e: number): boolean {
    let h = 0x811c9dc5 ^ (e - s);
    for (let i = s; i < e; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const c = this.slots[slot]! - 1;
      if (c < 0) {
        this.codes[this.at] = this.add(text.slice(s, e), h);
        return true;
      }
      if (this.hashes[c] === h && same(this.dictionary[c]!, text, s, e)) {
        this.codes[this.at] = c;
        return true;
      }
    }
  }
  protected override reads(): boolean {
    return true;
  }
  private add(v: string, h: number): number {
    const code = this.dictionary.length;
    this.dictionary.push(v);
    if (code >= this.hashes.length) {
      const hs = new Int32Array(this.hashes.length * 2);
      hs.set(this.hashes);
      this.hashes = hs;
    }
    this.hashes[code] = h;
    if (2 * (code + 1) > this.slots.length) this.rehash(this.slots.length * 2);
    else this.insert(code);
    return code;
  }
  private insert(code: number): void {
    const mask = this.slots.length - 1;
    let slot = this.hashes[code]! & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = code + 1;
  }
  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let c = 0; c < this.dictionary.length; c++) this.insert(c);
  }
  protected grow(c: number): void {
    const d = new Int32Array(c);
    d.set(this.codes.subarray(0, this.at));
    this.codes = d;
  }
  column(): Column {
    const c = this.finish(this.codes.length === this.at ? this.codes : this.codes.slice(0, this.at));
    c.dictionary = this.dictionary;
    return c;
  }
}

function same(v: string, text: string, s: number, e: number): boolean {
  if (v.length !== e - s) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) !== text.charCodeAt(s + i)) return false;
  return true;
}

const INTS: Record<string, [TypedCtor, number, number]> = {
  int8: [Int8Array, -128, 127],
  int16: [Int16Array, -32768, 32767],
  int32: [Int32Array, -(2 ** 31), 2 ** 31 - 1],
  uint8: [Uint8Array, 0, 255],
  uint16: [Uint16Array, 0, 65535],
  uint32: [Uint32Array, 0, 2 ** 32 - 1],
};

/** A builder for a column of `meta`'s type with room for `capacity` rows (it grows past that). */
export function columnBuilder(meta: ColumnMeta, nulls: Nulls, capacity: number): ColumnBuilder {
  const t = meta.type;
  const int = INTS[t];
  if (int) return new IntBuilder(meta, nulls, capacity, int[0], int[1], int[2]);
  switch (t) {
    case "float64":
      return new FloatBuilder(meta, nulls, capacity, Float64Array);
    case "float32":
      return new FloatBuilder(meta, nulls, capacity, Float32Array);
    case "bool":
      return new BoolBuilder(meta, nulls, capacity, Uint8Array);
    case "date32":
      return new DateBuilder(meta, nulls, capacity, Int32Array);
    case "int64":
    case "uint64":
    case "timestamp":
      return new Int64Builder(meta, nulls, capacity);
    case "string":
      return new StringBuilder(meta, nulls, capacity);
    default:
      throw new TesseraError(`readCsv: cannot read a column as ${t}`);
  }
}
