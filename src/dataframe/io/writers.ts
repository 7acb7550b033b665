/**
 * Writing one partition as CSV text or as a Parquet file (toCsv, toParquet: one file each).
 *
 * CSV (frameToCsv): quotes a field only when it holds the separator, the quote or a line break
 * (quotes doubled inside); nulls and NaN are empty fields; infinities "inf" / "-inf" (what
 * pandas writes and readCsv reads); bools true / false; dates YYYY-MM-DD; timestamps ISO-8601
 * with "T", the unit's fraction digits when the value has a fraction, and "Z" when the column
 * has a tz: UTC and named zones are written as UTC instants, fixed offsets like "+05:30" as
 * local time with that offset. Object values are written as JSON (bigints as numbers, bytes as
 * arrays). As in pandas, an empty string and a string equal to a null marker ("NA") read back
 * as null.
 *
 * Parquet (frameToParquet, hyparquet-writer, snappy by default): every column is OPTIONAL.
 *
 *   float64 / float32           DOUBLE / FLOAT
 *   int8 int16 int32            INT32 (INTEGER 8 / 16 / 32, signed)
 *   uint8 uint16 uint32         INT32 (INTEGER 8 / 16 / 32, unsigned)
 *   int64 / uint64              INT64 (INTEGER 64, signed / unsigned)
 *   bool                        BOOLEAN
 *   string                      BYTE_ARRAY UTF8 (the writer dictionary-encodes it)
 *   timestamp                   INT64 TIMESTAMP(unit; isAdjustedToUTC when tz is set, so a
 *                               named tz reads back as UTC); unit "s" is written as MILLIS
 *   date32                      INT32 DATE
 *   object                      strings: UTF8; Uint8Arrays: BYTE_ARRAY; else JSON
 */

import { parquetWriteBuffer, type ColumnSource } from "hyparquet-writer";
import { TesseraError } from "../../errors.js";
import type { Column, Frame, TimeUnit } from "../frame.js";

export interface CsvWriteOptions {
  /** Write the column names first (default true). */
  header?: boolean;
  /** Field separator (default ","). */
  sep?: string;
  /** Line terminator (default "\n"). */
  lineTerminator?: string;
}

const TWO = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Year, month, day of days since the epoch (Howard Hinnant's civil_from_days). */
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

function isoDate(days: number): string {
  const [y, m, d] = civil(days);
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, "0") : (y < 0 ? "-" : "+") + String(Math.abs(y)).padStart(6, "0");
  return `${year}-${TWO(m)}-${TWO(d)}`;
}

const PER_SECOND: Record<TimeUnit, bigint> = { s: 1n, ms: 1000n, us: 1_000_000n, ns: 1_000_000_000n };
const DIGITS: Record<TimeUnit, number> = { s: 0, ms: 3, us: 6, ns: 9 };

/** Minutes east of UTC for a fixed-offset tz ("+05:30", "-0800"), else undefined. */
function fixedOffset(tz: string): number | undefined {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : undefined;
}

export function isoTimestamp(value: bigint, unit: TimeUnit, tz: string | undefined): string {
  const per = PER_SECOND[unit];
  const offset = tz === undefined ? undefined : fixedOffset(tz);
  let v = value + BigInt((offset ?? 0) * 60) * per;
  let sub = v % per;
  if (sub < 0n) sub += per;
  v = (v - sub) / per;
  const secs = Number(v);
  const days = Math.floor(secs / 86400);
  const sod = secs - days * 86400;
  let out = `${isoDate(days)}T${TWO(Math.floor(sod / 3600))}:${TWO(Math.floor(sod / 60) % 60)}:${TWO(sod % 60)}`;
  if (sub !== 0n) out += `.${String(sub).padStart(DIGITS[unit], "0")}`;
  if (tz === undefined) return out;
  if (offset === undefined || offset === 0) return `${out}Z`;
  const a = Math.abs(offset);
  return `${out}${offset < 0 ? "-" : "+"}${TWO(Math.floor(a / 60))}:${TWO(a % 60)}`;
}

function jsonValue(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? Number(x) : x instanceof Uint8Array ? Array.from(x) : x instanceof Map ? Object.fromEntries(x) : x));
}

/** Formats row i of a column as CSV text (unquoted), "" for null. */
function formatter(c: Column): (i: number) => string {
  const d = c.data as ArrayLike<unknown>;
  switch (c.type) {
    case "float64":
    case "float32": {
      const f = d as Float64Array;
      return (i) => {
        const v = f[i]!;
        return v !== v ? "" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v);
      };
    }
    case "bool":
      return (i) => (d[i] ? "true" : "false");
    case "string": {
      const dict = c.dictionary ?? [];
      const codes = d as Int32Array;
      return (i) => dict[codes[i]!] ?? "";
    }
    case "date32":
      return (i) => isoDate(d[i] as number);
    case "timestamp": {
      const unit = c.unit ?? "ms";
      return (i) => isoTimestamp(d[i] as bigint, unit, c.tz);
    }
    case "object":
      return (i) => {
        const v = d[i];
        return v === null || v === undefined ? "" : typeof v === "string" ? v : jsonValue(v);
      };
    default:
      return (i) => String(d[i]);
  }
}

/** One partition as CSV text. */
export function frameToCsv(frame: Frame, options: CsvWriteOptions = {}): string {
  const sep = options.sep ?? ",";
  const eol = options.lineTerminator ?? "\n";
  if (sep.length !== 1 || sep === '"' || sep === "\n" || sep === "\r") throw new TesseraError(`toCsv: sep must be one character other than a quote or line break, got ${JSON.stringify(sep)}`);
  const special = new RegExp(`[${sep.replace(/[\\\]^-]/g, "\\$&")}"\\r\\n]`);
  const quote = (s: string) => (special.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const formats = frame.columns.map(formatter);
  const lines: string[] = [];
  if (options.header ?? true) lines.push(frame.names.map(quote).join(sep));
  const ncols = frame.columns.length;
  const fields = new Array<string>(ncols);
  for (let r = 0; r < frame.length; r++) {
    for (let j = 0; j < ncols; j++) {
      const valid = frame.columns[j]!.valid;
      fields[j] = valid && !valid[r] ? "" : quote(formats[j]!(r));
    }
    lines.push(fields.join(sep));
  }
  return lines.length === 0 ? "" : lines.join(eol) + eol;
}

// ---------------------------------------------------------------------------------------------

type WriteOptions = Parameters<typeof parquetWriteBuffer>[0];
type SchemaElement = NonNullable<WriteOptions["schema"]>[number];
type CompressionCodec = NonNullable<WriteOptions["codec"]>;

export interface ParquetWriteOptions {
  /** Compression (default "SNAPPY"; others need `compressors`, e.g. from hyparquet-compressors' writers). */
  codec?: CompressionCodec;
  compressors?: WriteOptions["compressors"];
  /** Rows per row group (default: the whole partition, up to 1,000,000). */
  rowGroupSize?: number;
  /** Min/max statistics per column chunk (default true). */
  statistics?: boolean;
}

// Integer columns carry only the converted type (INT_8 ... UINT_64): hyparquet-writer's INTEGER
// logical type encodes into footers DuckDB rejects ("TProtocolException: Invalid data").
const PARQUET_UNIT: Record<TimeUnit, "MILLIS" | "MICROS" | "NANOS"> = { s: "MILLIS", ms: "MILLIS", us: "MICROS", ns: "NANOS" };

/** Values with null where not valid (a plain array), or the typed array itself when all are valid. */
function withNulls(c: Column, values: ArrayLike<unknown>, map?: (v: unknown) => unknown): ArrayLike<unknown> {
  if (!c.valid && !map) return values;
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = c.valid && !c.valid[i] ? null : map ? map(values[i]) : values[i];
  return out;
}

function parquetColumn(c: Column, name: string): { element: SchemaElement; data: ArrayLike<unknown> } {
  const base = { name, repetition_type: "OPTIONAL" as const };
  switch (c.type) {
    case "float64":
      return { element: { ...base, type: "DOUBLE" }, data: withNulls(c, c.data) };
    case "float32":
      return { element: { ...base, type: "FLOAT" }, data: withNulls(c, c.data) };
    case "int8":
    case "int16":
    case "int32":
    case "uint8":
    case "uint16": {
      const bits = Number(c.type.replace(/\D/g, ""));
      const signed = c.type.startsWith("int");
      const converted = `${signed ? "INT" : "UINT"}_${bits}` as SchemaElement["converted_type"];
      return { element: { ...base, type: "INT32", converted_type: converted }, data: withNulls(c, c.data) };
    }
    case "uint32": {
      // As plain numbers: the writer maps those to INT32 bits (it rejects a Uint32Array's big values).
      return { element: { ...base, type: "INT32", converted_type: "UINT_32" }, data: withNulls(c, c.data, (v) => v) };
    }
    case "int64":
      return { element: { ...base, type: "INT64", converted_type: "INT_64" }, data: withNulls(c, c.data) };
    case "uint64":
      return { element: { ...base, type: "INT64", converted_type: "UINT_64" }, data: withNulls(c, c.data) };
    case "bool":
      return { element: { ...base, type: "BOOLEAN" }, data: withNulls(c, c.data, (v) => v !== 0) };
    case "string": {
      const dict = c.dictionary ?? [];
      return { element: { ...base, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } }, data: withNulls(c, c.data, (v) => dict[v as number]) };
    }
    case "timestamp": {
      const unit = c.unit ?? "ms";
      const element: SchemaElement = { ...base, type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: c.tz !== undefined, unit: PARQUET_UNIT[unit] } };
      if (unit === "ms" || unit === "s") element.converted_type = "TIMESTAMP_MILLIS";
      if (unit === "us") element.converted_type = "TIMESTAMP_MICROS";
      return { element, data: withNulls(c, c.data, unit === "s" ? (v) => (v as bigint) * 1000n : undefined) };
    }
    case "date32":
      return { element: { ...base, type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } }, data: withNulls(c, c.data) };
    case "object":
      return objectColumn(c, name);
  }
  throw new TesseraError(`toParquet: column ${JSON.stringify(name)} has unknown type ${JSON.stringify(c.type)}`);
}

function objectColumn(c: Column, name: string): { element: SchemaElement; data: ArrayLike<unknown> } {
  const values = withNulls(c, c.data) as unknown[];
  const present = values.filter((v) => v !== null && v !== undefined);
  const base = { name, repetition_type: "OPTIONAL" as const, type: "BYTE_ARRAY" as const };
  if (present.length > 0 && present.every((v) => typeof v === "string")) return { element: { ...base, converted_type: "UTF8" }, data: values };
  if (present.length > 0 && present.every((v) => v instanceof Uint8Array)) return { element: base, data: values };
  // The writer serializes JSON itself; Maps and bigints are made plain first, as in CSV.
  const plain = values.map((v) => (v === null || v === undefined ? null : (JSON.parse(jsonValue(v)) as unknown)));
  return { element: { ...base, converted_type: "JSON" }, data: plain };
}

/** One partition as the bytes of a Parquet file. */
export function frameToParquet(frame: Frame, options: ParquetWriteOptions = {}): Uint8Array {
  const columns = frame.columns.map((c, i) => {
    try {
      return parquetColumn(c, frame.names[i]!);
    } catch (err) {
      if (err instanceof TesseraError) throw err;
      throw new TesseraError(`toParquet: column ${JSON.stringify(frame.names[i])}: ${(err as Error).message}`, { cause: err });
    }
  });
  const schema: SchemaElement[] = [{ name: "root", num_children: columns.length }, ...columns.map((c) => c.element)];
  const columnData = columns.map((c, i) => ({ name: frame.names[i]!, data: c.data }) as ColumnSource);
  try {
    const buffer = parquetWriteBuffer({
      columnData,
      schema,
      codec: options.codec ?? "SNAPPY",
      ...(options.compressors ? { compressors: options.compressors } : {}),
      rowGroupSize: options.rowGroupSize ?? Math.max(1, Math.min(frame.length, 1_000_000)),
      statistics: options.statistics ?? true,
      createdBy: "tessera",
    });
    return new Uint8Array(buffer);
  } catch (err) {
    throw new TesseraError(`toParquet: ${(err as Error).message}`, { cause: err });
  }
}
