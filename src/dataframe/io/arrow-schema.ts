/**
 * Frame column kinds <-> Arrow types and schemas, and Arrow's validity bitmaps <-> the 0/1
 * bytes a Frame uses. The table of which type becomes which is in arrow.ts.
 */

import * as arrow from "apache-arrow";
import { TesseraError } from "../../errors.js";
import { allocColumnData, makeFrame, type ColumnMeta, type Frame, type NumericType, type Schema, type TimeUnit } from "../frame.js";

const NUMERIC_ARROW: Record<NumericType, () => arrow.DataType> = {
  float64: () => new arrow.Float64(),
  float32: () => new arrow.Float32(),
  int8: () => new arrow.Int8(),
  int16: () => new arrow.Int16(),
  int32: () => new arrow.Int32(),
  uint8: () => new arrow.Uint8(),
  uint16: () => new arrow.Uint16(),
  uint32: () => new arrow.Uint32(),
};

const UNIT_TO_ARROW: Record<TimeUnit, arrow.TimeUnit> = {
  s: arrow.TimeUnit.SECOND,
  ms: arrow.TimeUnit.MILLISECOND,
  us: arrow.TimeUnit.MICROSECOND,
  ns: arrow.TimeUnit.NANOSECOND,
};
const UNIT_FROM_ARROW: Record<number, TimeUnit> = { 0: "s", 1: "ms", 2: "us", 3: "ns" };

// ---------------------------------------------------------------------------------------------
// Types and schemas

/**
 * The Arrow type a column of this kind becomes ("object" columns: Null until values say more).
 * A string column's dictionary id is its position, so batches of frames with the same columns
 * share one schema and can follow each other in one IPC stream (each with its own dictionary).
 */
export function arrowTypeOf(meta: ColumnMeta, position = 0): arrow.DataType {
  const t = meta.type;
  if (t in NUMERIC_ARROW) return NUMERIC_ARROW[t as NumericType]();
  switch (t) {
    case "int64":
      return new arrow.Int64();
    case "uint64":
      return new arrow.Uint64();
    case "bool":
      return new arrow.Bool();
    case "string":
      return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), position);
    case "timestamp":
      return new arrow.Timestamp(UNIT_TO_ARROW[meta.unit ?? "ms"], meta.tz ?? null);
    case "date32":
      return new arrow.DateDay();
    case "object":
      return new arrow.Null();
  }
  throw new TesseraError(`arrow: unknown column type ${JSON.stringify(t)}`);
}

/** The Frame column kind an Arrow type becomes (see the table above). */
export function columnMetaOf(type: arrow.DataType): ColumnMeta {
  switch (type.typeId) {
    case arrow.Type.Int: {
      const t = type as arrow.Int;
      const name = `${t.isSigned ? "int" : "uint"}${t.bitWidth}` as ColumnMeta["type"];
      return { type: name };
    }
    case arrow.Type.Float: {
      const p = (type as arrow.Float).precision;
      return { type: p === arrow.Precision.DOUBLE ? "float64" : "float32" };
    }
    case arrow.Type.Decimal:
      return { type: "float64" };
    case arrow.Type.Bool:
      return { type: "bool" };
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
    case arrow.Type.Utf8View:
      return { type: "string" };
    case arrow.Type.Dictionary: {
      const v = (type as arrow.Dictionary).dictionary;
      return isStringType(v) ? { type: "string" } : columnMetaOf(v);
    }
    case arrow.Type.Timestamp: {
      const t = type as arrow.Timestamp;
      const m: ColumnMeta = { type: "timestamp", unit: UNIT_FROM_ARROW[t.unit]! };
      if (t.timezone) m.tz = t.timezone;
      return m;
    }
    case arrow.Type.Date:
      return (type as arrow.Date_).unit === arrow.DateUnit.DAY ? { type: "date32" } : { type: "timestamp", unit: "ms" };
    default:
      return { type: "object" };
  }
}

export function isStringType(t: arrow.DataType): boolean {
  return t.typeId === arrow.Type.Utf8 || t.typeId === arrow.Type.LargeUtf8 || t.typeId === arrow.Type.Utf8View;
}

export function schemaFromArrow(schema: arrow.Schema): Schema {
  return { names: schema.fields.map((f) => f.name), types: schema.fields.map((f) => columnMetaOf(f.type)) };
}

/** An Arrow schema for a Frame schema (object columns typed Null: their values decide later). */
export function arrowSchemaOf(schema: Schema): arrow.Schema {
  return new arrow.Schema(schema.names.map((n, i) => new arrow.Field(n, arrowTypeOf(schema.types[i]!, i), true)));
}

/** A frame with these columns and no rows. */
export function emptyFrameOf(schema: Schema): Frame {
  return makeFrame(
    [...schema.names],
    schema.types.map((m) => ({ ...m, data: allocColumnData(m.type, 0), ...(m.type === "string" ? { dictionary: [] } : {}) })),
    0,
  );
}

// ---------------------------------------------------------------------------------------------
// Bits

/** 0/1 bytes -> an Arrow bitmap (LSB first), padded to 8 bytes. */
export function packBits(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  const out = new Uint8Array(((n + 63) >> 6) << 3);
  for (let i = 0; i < n; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** An Arrow bitmap from bit `offset` -> n bytes of 0/1. */
export function unpackBits(bits: Uint8Array, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const b = offset + i;
    out[i] = (bits[b >> 3]! >> (b & 7)) & 1;
  }
  return out;
}

export function countZeros(v: Uint8Array): number {
  let z = 0;
  for (let i = 0; i < v.length; i++) z += v[i] ? 0 : 1;
  return z;
}

