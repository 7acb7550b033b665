/**
 * "object" columns at the Arrow edge: Arrow types a Frame has no typed-array form for (lists,
 * structs, maps, unions, binary, time of day, durations, intervals) become JS arrays of plain
 * values, and such arrays become Arrow vectors again.
 *
 * Plain values are structured-clonable and own their memory (they cross threads inside a
 * partition): lists are arrays, structs plain objects, maps JS Maps, binary a copied
 * Uint8Array, 64-bit integers bigints, decimals numbers, other scalars what Arrow's `get` gives.
 *
 * Going back, the Arrow type is inferred from the values (Arrow's own inference trips over
 * nulls inside structs): null -> Null, boolean -> Bool, number -> Float64, bigint -> Int64,
 * string -> Utf8, Date -> Timestamp(ms), Uint8Array -> Binary, array -> List of the elements'
 * type, Map -> Map of the keys' and values' types, other objects -> Struct over the union of
 * their keys. So an object column survives Arrow -> Frame -> Arrow as data, and keeps its type
 * where the inferred type is the one it had (List<Float64>, Struct<{a: Utf8}>, Binary ...).
 */

import * as arrow from "apache-arrow";
import { TesseraError } from "../../errors.js";

/** A decimal's unscaled integer, scaled to a number (the value Parquet readers give too). */
export function decimalToNumber(v: unknown, scale: number): number | null {
  if (v === null || v === undefined) return null;
  const big = arrow.util.bigNumToBigInt(v as Parameters<typeof arrow.util.bigNumToBigInt>[0]);
  return scale === 0 ? Number(big) : Number(big) / 10 ** scale;
}

/** A value from `vector.get(i)` of type `type`, as plain data. */
export function toPlain(v: unknown, type: arrow.DataType): unknown {
  if (v === null || v === undefined) return null;
  const t = arrow.DataType.isDictionary(type) ? type.dictionary : type;
  if (arrow.DataType.isList(t) || arrow.DataType.isLargeList(t) || arrow.DataType.isFixedSizeList(t)) {
    const child = t.children[0]!.type;
    return Array.from(v as Iterable<unknown>, (x) => toPlain(x, child));
  }
  if (arrow.DataType.isStruct(t)) {
    const row = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of t.children) out[f.name] = toPlain(row[f.name], f.type);
    return out;
  }
  if (arrow.DataType.isMap(t)) {
    const [keyField, valueField] = t.children[0]!.type.children as arrow.Field[];
    const out = new Map<unknown, unknown>();
    for (const [k, x] of v as Iterable<[unknown, unknown]>) out.set(toPlain(k, keyField!.type), toPlain(x, valueField!.type));
    return out;
  }
  if (arrow.DataType.isDecimal(t)) return decimalToNumber(v, t.scale);
  if (ArrayBuffer.isView(v)) return (v as Uint8Array).slice();
  return v;
}

/** Plain values of one Arrow chunk (null where not valid). */
export function plainValues(data: arrow.Data): unknown[] {
  const vector = arrow.makeVector(data);
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = vector.isValid(i) ? toPlain(vector.get(i), data.type) : null;
  return out;
}

type Kind = "null" | "boolean" | "number" | "bigint" | "string" | "date" | "binary" | "list" | "map" | "struct";

function kindOf(v: unknown): Kind | undefined {
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "boolean":
    case "number":
    case "bigint":
    case "string":
      return typeof v as Kind;
    case "object":
      if (v instanceof Date) return "date";
      if (v instanceof Uint8Array) return "binary";
      if (Array.isArray(v)) return "list";
      if (v instanceof Map) return "map";
      return "struct";
    default:
      return undefined;
  }
}

/** The Arrow type of these values; `what` names them in errors ("column x", "column x[]"). */
export function inferArrowType(values: Iterable<unknown>, what: string): arrow.DataType {
  let kind: Kind | undefined;
  const seen: unknown[] = [];
  for (const v of values) {
    const k = kindOf(v);
    if (k === undefined) throw new TesseraError(`${what}: cannot store ${typeof v} values in Arrow (got ${String(v)})`);
    if (k === "null") continue;
    if (kind !== undefined && kind !== k) {
      throw new TesseraError(`${what}: values mix ${kind} and ${k} (${String(v)}); Arrow needs one type per column, so cast them to one first`);
    }
    kind = k;
    seen.push(v);
  }
  switch (kind) {
    case undefined:
    case "null":
      return new arrow.Null();
    case "boolean":
      return new arrow.Bool();
    case "number":
      return new arrow.Float64();
    case "bigint":
      return new arrow.Int64();
    case "string":
      return new arrow.Utf8();
    case "date":
      return new arrow.TimestampMillisecond();
    case "binary":
      return new arrow.Binary();
    case "list":
      return new arrow.List(new arrow.Field("item", inferArrowType(flatten(seen as unknown[][]), `${what}[]`), true));
    case "map": {
      const maps = seen as Map<unknown, unknown>[];
      const keys = inferArrowType(maps.flatMap((m) => [...m.keys()]), `${what} keys`);
      const vals = inferArrowType(maps.flatMap((m) => [...m.values()]), `${what} values`);
      const entry = new arrow.Struct([new arrow.Field("key", keys, false), new arrow.Field("value", vals, true)]);
      return new arrow.Map_(new arrow.Field("entries", entry, false));
    }
    case "struct": {
      const names: string[] = [];
      const known = new Set<string>();
      for (const o of seen as Record<string, unknown>[]) {
        for (const k of Object.keys(o)) {
          if (!known.has(k)) {
            known.add(k);
            names.push(k);
          }
        }
      }
      const rows = seen as Record<string, unknown>[];
      return new arrow.Struct(names.map((n) => new arrow.Field(n, inferArrowType(rows.map((r) => r[n]), `${what}.${n}`), true)));
    }
  }
}

function flatten(lists: readonly unknown[][]): unknown[] {
  const out: unknown[] = [];
  for (const l of lists) for (const x of l) out.push(x);
  return out;
}

/** Values of an object column (null where valid is 0) as one Arrow chunk. */
export function objectToArrowData(values: readonly unknown[], valid: Uint8Array | undefined, name: string): arrow.Data {
  const vs = valid ? values.map((v, i) => (valid[i] ? v : null)) : values;
  const what = `column ${JSON.stringify(name)}`;
  const type = inferArrowType(vs, what);
  if (arrow.DataType.isNull(type)) return arrow.makeData({ type, length: vs.length, nullCount: vs.length });
  try {
    const builder = arrow.makeBuilder({ type, nullValues: [null, undefined] });
    for (const v of vs) builder.append(v);
    return builder.finish().flush();
  } catch (err) {
    throw new TesseraError(`${what}: cannot convert its values to Arrow ${String(type)}: ${(err as Error).message}`, { cause: err });
  }
}
