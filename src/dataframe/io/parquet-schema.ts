/**
 * Parquet schema -> Frame column types. Each top-level field of the file becomes one column;
 * its ColumnMeta (what the dataframe layer sees) and its decode kind (how a worker turns pages
 * into that column) are decided here, from the schema alone, identically on the client (schema
 * of the dataset) and on the workers (decoding).
 *
 *   physical / annotation                       column                       decode kind
 *   BOOLEAN                                     bool                         bool
 *   INT32 (INT_8/16/32, UINT_8/16/32)           int8 ... uint32               number
 *   INT32 DATE                                  date32 (days)                number
 *   INT32 TIME(ms)                              int32 (ms of the day)        number
 *   INT64, INT_64 / UINT_64                     int64 / uint64 (BigInt)      bigint
 *   INT64 TIMESTAMP(unit, utc)                  timestamp unit, tz "UTC" if adjusted to UTC
 *   INT64 TIMESTAMP_MILLIS / _MICROS            timestamp ms / us, tz "UTC"
 *   INT64 TIME(us, ns)                          int64 (units of the day)     bigint
 *   INT96 (legacy Impala / Spark timestamps)    timestamp ns (or int96Unit), no tz   int96
 *   FLOAT / DOUBLE                              float32 / float64            number
 *   FLBA(2) FLOAT16                             float32                      float16
 *   BYTE_ARRAY STRING / UTF8 / ENUM / JSON      string (dictionary)          string
 *   FLBA(16) UUID                               string "xxxxxxxx-xxxx-..."   uuid
 *   DECIMAL (INT32, INT64, BYTE_ARRAY, FLBA)    object: numbers (unscaled / 10^scale)
 *   BYTE_ARRAY without annotation, BSON,        object: Uint8Array (own copies); with
 *     GEOMETRY / GEOGRAPHY (WKB), other FLBA      `binaryAsString`, plain BYTE_ARRAY -> string
 *   FLBA(12) INTERVAL                           object: { months, days, milliseconds }
 *   NULL (unknown) logical type                 object: all null             null
 *   groups (structs, lists, maps), repeated     object: plain JS values      nested
 *     fields                                      (parquet-nested.ts)
 *
 * Logical types win over converted types where both are present; an unknown logical type (one
 * newer than this reader) is ignored, so the column reads by its physical type.
 */

import type { SchemaElement } from "hyparquet";
import { TesseraError } from "../../errors.js";
import type { ColumnMeta, ColumnType, TimeUnit } from "../frame.js";

export type DecodeKind =
  | "bool"
  | "number"
  | "bigint"
  | "int96"
  | "float16"
  | "string"
  | "uuid"
  | "decimal"
  | "binary"
  | "interval"
  | "null"
  | "nested";

/** Choices that change column types (they travel in each part, so workers decide alike). */
export interface PlanOptions {
  /** Unannotated BYTE_ARRAY as strings rather than binary. */
  binaryAsString?: boolean;
  /** Unit of INT96 timestamps (default "ns", whose range is the years 1677 to 2262). */
  int96Unit?: TimeUnit;
}

/** One top-level field of the file, as a column. */
export interface FieldPlan {
  name: string;
  meta: ColumnMeta;
  kind: DecodeKind;
  /** Index of the field's first schema element in the flat schema list, and how many it spans. */
  element: number;
  span: number;
  /** Index of its first leaf (column chunk) among all leaves, and how many leaves it has. */
  leaf: number;
  leaves: number;
  /** Scale of a decimal column (values are unscaled / 10^scale). */
  scale?: number;
}

const UNITS: Record<string, TimeUnit> = { MILLIS: "ms", MICROS: "us", NANOS: "ns" };

/** The logical type, when it is one this reader knows (hyparquet passes unknown ones through raw). */
function logicalOf(el: SchemaElement): string | undefined {
  const t = (el.logical_type as { type?: unknown } | undefined)?.type;
  return typeof t === "string" ? t : undefined;
}

function isDecimal(el: SchemaElement): boolean {
  return logicalOf(el) === "DECIMAL" || el.converted_type === "DECIMAL";
}

function decimalScale(el: SchemaElement): number {
  const lt = el.logical_type as { scale?: number } | undefined;
  return lt?.scale ?? el.scale ?? 0;
}

function intType(el: SchemaElement): ColumnType {
  const lt = el.logical_type as { type?: string; bitWidth?: number; isSigned?: boolean } | undefined;
  if (lt?.type === "INTEGER" && typeof lt.bitWidth === "number") {
    const w = lt.bitWidth;
    if (w === 8) return lt.isSigned ? "int8" : "uint8";
    if (w === 16) return lt.isSigned ? "int16" : "uint16";
    if (w === 32) return lt.isSigned ? "int32" : "uint32";
  }
  switch (el.converted_type) {
    case "INT_8":
      return "int8";
    case "INT_16":
      return "int16";
    case "UINT_8":
      return "uint8";
    case "UINT_16":
      return "uint16";
    case "UINT_32":
      return "uint32";
    default:
      return "int32";
  }
}

function leafPlan(el: SchemaElement, { binaryAsString = false, int96Unit = "ns" }: PlanOptions): { meta: ColumnMeta; kind: DecodeKind } {
  const logical = logicalOf(el);
  if (logical === "NULL") return { meta: { type: "object" }, kind: "null" };
  switch (el.type) {
    case "BOOLEAN":
      return { meta: { type: "bool" }, kind: "bool" };
    case "INT32":
      if (isDecimal(el)) return { meta: { type: "object" }, kind: "decimal" };
      if (logical === "DATE" || el.converted_type === "DATE") return { meta: { type: "date32" }, kind: "number" };
      if (logical === "TIME" || el.converted_type === "TIME_MILLIS") return { meta: { type: "int32" }, kind: "number" };
      return { meta: { type: intType(el) }, kind: "number" };
    case "INT64": {
      if (isDecimal(el)) return { meta: { type: "object" }, kind: "decimal" };
      const lt = el.logical_type as { type?: string; unit?: string; isAdjustedToUTC?: boolean; bitWidth?: number; isSigned?: boolean } | undefined;
      if (logical === "TIMESTAMP" && lt?.unit && UNITS[lt.unit]) {
        const meta: ColumnMeta = { type: "timestamp", unit: UNITS[lt.unit]! };
        if (lt.isAdjustedToUTC) meta.tz = "UTC";
        return { meta, kind: "bigint" };
      }
      if (el.converted_type === "TIMESTAMP_MILLIS") return { meta: { type: "timestamp", unit: "ms", tz: "UTC" }, kind: "bigint" };
      if (el.converted_type === "TIMESTAMP_MICROS") return { meta: { type: "timestamp", unit: "us", tz: "UTC" }, kind: "bigint" };
      const unsigned = el.converted_type === "UINT_64" || (logical === "INTEGER" && lt?.isSigned === false);
      return { meta: { type: unsigned ? "uint64" : "int64" }, kind: "bigint" };
    }
    case "INT96":
      return { meta: { type: "timestamp", unit: int96Unit }, kind: "int96" };
    case "FLOAT":
      return { meta: { type: "float32" }, kind: "number" };
    case "DOUBLE":
      return { meta: { type: "float64" }, kind: "number" };
    case "BYTE_ARRAY":
      if (isDecimal(el)) return { meta: { type: "object" }, kind: "decimal" };
      if (logical === "STRING" || logical === "ENUM" || logical === "JSON") return { meta: { type: "string" }, kind: "string" };
      if (el.converted_type === "UTF8" || el.converted_type === "ENUM" || el.converted_type === "JSON") return { meta: { type: "string" }, kind: "string" };
      if (binaryAsString && logical === undefined && el.converted_type === undefined) return { meta: { type: "string" }, kind: "string" };
      return { meta: { type: "object" }, kind: "binary" };
    case "FIXED_LEN_BYTE_ARRAY":
      if (!(typeof el.type_length === "number" && el.type_length > 0)) {
        throw new TesseraError(`column ${JSON.stringify(el.name)} is FIXED_LEN_BYTE_ARRAY with an invalid length ${el.type_length} (the schema is corrupt)`);
      }
      if (isDecimal(el)) return { meta: { type: "object" }, kind: "decimal" };
      if (logical === "FLOAT16" && el.type_length === 2) return { meta: { type: "float32" }, kind: "float16" };
      if (logical === "UUID" && el.type_length === 16) return { meta: { type: "string" }, kind: "uuid" };
      if (el.converted_type === "INTERVAL" && el.type_length === 12) return { meta: { type: "object" }, kind: "interval" };
      return { meta: { type: "object" }, kind: "binary" };
    default:
      throw new TesseraError(`column ${JSON.stringify(el.name)} has an unknown physical type ${JSON.stringify(el.type ?? null)} (the schema is corrupt)`);
  }
}

/** Number of schema elements in the subtree at `i` (itself included); throws when the list is too short. */
function subtreeSpan(schema: readonly SchemaElement[], i: number): { span: number; leaves: number } {
  let span = 1;
  let leaves = 0;
  let pending = 1;
  for (let j = i; pending > 0; j++) {
    const el = schema[j];
    if (!el) throw new TesseraError(`the schema ends inside field ${JSON.stringify(schema[i]?.name)} (its num_children do not add up; the footer is corrupt)`);
    pending--;
    const children = el.num_children ?? 0;
    if (children < 0 || children > schema.length) throw new TesseraError(`schema element ${JSON.stringify(el.name)} claims ${children} children (the footer is corrupt)`);
    if (children === 0) leaves++;
    pending += children;
    span = j - i + 1;
  }
  return { span, leaves };
}

/** One plan per top-level field, in file order. */
export function planFields(schema: readonly SchemaElement[], options: PlanOptions = {}): FieldPlan[] {
  const root = schema[0];
  if (!root) throw new TesseraError("the schema is empty (the footer is corrupt)");
  const count = root.num_children ?? 0;
  const plans: FieldPlan[] = [];
  let element = 1;
  let leaf = 0;
  for (let f = 0; f < count; f++) {
    const el = schema[element];
    if (!el) throw new TesseraError(`the schema lists ${count} columns but describes ${f} (the footer is corrupt)`);
    if (typeof el.name !== "string") throw new TesseraError(`column ${f} of the schema has no name (the footer is corrupt)`);
    const { span, leaves } = subtreeSpan(schema, element);
    const nested = span > 1 || el.repetition_type === "REPEATED" || (el.num_children ?? 0) > 0;
    let plan: { meta: ColumnMeta; kind: DecodeKind };
    try {
      plan = nested ? { meta: { type: "object" }, kind: "nested" } : leafPlan(el, options);
    } catch (err) {
      throw err instanceof TesseraError ? err : new TesseraError(`column ${JSON.stringify(el.name)}: ${(err as Error).message}`, { cause: err });
    }
    const p: FieldPlan = { name: el.name, meta: plan.meta, kind: plan.kind, element, span, leaf, leaves };
    if (plan.kind === "decimal") p.scale = decimalScale(el);
    plans.push(p);
    element += span;
    leaf += leaves;
  }
  if (element !== schema.length) {
    throw new TesseraError(`the schema has ${schema.length} elements but its fields use ${element} (the footer is corrupt)`);
  }
  return plans;
}

/** Dotted paths of every leaf under a field, in order (what path_in_schema of its chunks must say). */
export function leafPaths(schema: readonly SchemaElement[], plan: FieldPlan): string[][] {
  const out: string[][] = [];
  const stack: { path: string[]; remaining: number }[] = [];
  for (let i = plan.element; i < plan.element + plan.span; i++) {
    const el = schema[i]!;
    while (stack.length && stack[stack.length - 1]!.remaining === 0) stack.pop();
    const parent = stack[stack.length - 1];
    const path = parent ? [...parent.path, el.name] : [el.name];
    if (parent) parent.remaining--;
    const children = el.num_children ?? 0;
    if (children > 0) stack.push({ path, remaining: children });
    else out.push(path);
  }
  return out;
}

/** The schema elements of `fields` only (a valid schema: root first, with its child count fixed). */
export function pruneSchema(schema: readonly SchemaElement[], fields: readonly FieldPlan[]): SchemaElement[] {
  const out: SchemaElement[] = [{ ...schema[0]!, num_children: fields.length }];
  for (const f of fields) out.push(...schema.slice(f.element, f.element + f.span));
  return out;
}

/** Names of the fields, quoted and comma separated: for "columns are ..." messages. */
export function describeNames(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(", ");
}
