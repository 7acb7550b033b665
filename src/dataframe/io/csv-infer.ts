/**
 * Column types for CSV: inferred from a sample of values, or declared by the user.
 *
 * Inference looks at a column's non-null sampled values and picks the first type that reads
 * every one of them:
 *
 *   bool        true / false in any case
 *   int32       integers within int32; int64 if some need more (float64 past int64)
 *   float64     numbers (integers mixed with decimals, inf, nan)
 *   date32      YYYY-MM-DD
 *   timestamp   ISO-8601 date-times (dates may be mixed in: midnight); unit "us", or "ns" if a
 *               value has more than six fraction digits; tz "UTC" if any value has an offset
 *               (every value with an offset is converted to UTC; values without are read as is)
 *   string      anything else, and columns with no non-null value in the sample
 *
 * Integer columns with missing values stay integers (with nulls), unlike pandas' float64. A
 * value later in the file that does not fit the sampled type is an error naming the column,
 * and the fix is a `dtypes` override.
 */

import { TesseraError } from "../../errors.js";
import type { ColumnMeta, ColumnType, TimeUnit } from "../frame.js";
import { isNanWord, parseBigIntText, parseBoolText, parseDateText, parseFloatText, parseIntText, parseTimestampText, stamp } from "./csv-scalars.js";

/** A declared column type: a Frame type name, "timestamp[ms]", "timestamp[us, UTC]", or a ColumnMeta. */
export type DtypeSpec = ColumnType | `timestamp[${TimeUnit}]` | `timestamp[${TimeUnit}, ${string}]` | ColumnMeta;

const READABLE: ReadonlySet<ColumnType> = new Set<ColumnType>([
  "float64",
  "float32",
  "int8",
  "int16",
  "int32",
  "uint8",
  "uint16",
  "uint32",
  "int64",
  "uint64",
  "bool",
  "string",
  "timestamp",
  "date32",
]);
const UNITS: ReadonlySet<string> = new Set(["s", "ms", "us", "ns"]);

/** A dtype override as a ColumnMeta; errors name the column and list what is accepted. */
export function parseDtype(spec: DtypeSpec, column: string): ColumnMeta {
  const bad = (why: string) =>
    new TesseraError(
      `readCsv: dtypes.${column} = ${JSON.stringify(spec)}: ${why}; use one of ${[...READABLE].join(", ")}, or "timestamp[unit]" / "timestamp[unit, tz]" with unit s, ms, us or ns`,
    );
  let meta: ColumnMeta;
  if (typeof spec === "string") {
    const m = /^timestamp\[\s*(\w+)\s*(?:,\s*([^\]]+?)\s*)?\]$/.exec(spec);
    if (m) {
      meta = { type: "timestamp", unit: m[1] as TimeUnit };
      if (m[2]) meta.tz = m[2];
    } else meta = { type: spec as ColumnType };
  } else if (spec && typeof spec === "object" && typeof spec.type === "string") meta = { ...spec };
  else throw bad("not a type");
  if (!READABLE.has(meta.type)) throw bad(meta.type === "object" ? "CSV fields are text, not objects" : "unknown type");
  if (meta.type === "timestamp") {
    meta.unit ??= "us";
    if (!UNITS.has(meta.unit)) throw bad(`unknown unit ${JSON.stringify(meta.unit)}`);
  } else {
    delete meta.unit;
    delete meta.tz;
  }
  return meta;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The type of a column whose sampled non-null values are `values`. */
export function inferColumn(values: readonly string[]): ColumnMeta {
  if (values.length === 0) return { type: "string" };
  if (values.every((v) => parseBoolText(v, 0, v.length, false) >= 0)) return { type: "bool" };
  if (values.every((v) => parseIntText(v, 0, v.length) === parseIntText(v, 0, v.length))) {
    if (values.every((v) => inRange(parseIntText(v, 0, v.length)))) return { type: "int32" };
    if (values.every((v) => parseBigIntText(v, 0, v.length, true) !== undefined)) return { type: "int64" };
    return { type: "float64" };
  }
  if (values.every((v) => isFloat(v))) return { type: "float64" };
  if (values.every((v) => parseDateText(v, 0, v.length) === parseDateText(v, 0, v.length))) return { type: "date32" };
  let unit: TimeUnit = "us";
  let utc = false;
  for (const v of values) {
    if (!parseTimestampText(v, 0, v.length)) return { type: "string" };
    if (stamp.fractionDigits > 6) unit = "ns";
    if (stamp.hasOffset) utc = true;
  }
  return utc ? { type: "timestamp", unit, tz: "UTC" } : { type: "timestamp", unit };
}

function inRange(v: number): boolean {
  return v >= INT32_MIN && v <= INT32_MAX;
}

function isFloat(v: string): boolean {
  const x = parseFloatText(v, 0, v.length);
  return x === x || isNanWord(v, 0, v.length);
}
