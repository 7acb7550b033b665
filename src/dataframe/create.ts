/**
 * Dataframes from data the client already has: plain columns (fromArrays) or Arrow tables
 * (fromArrow), cut into partitions of `chunksize` rows (or `npartitions` equal ones), like
 * dask's from_pandas. The partitions are shipped with the graph.
 */

import { TesseraError } from "../errors.js";
import { tokenize } from "../graph/tokenize.js";
import { DataFrame } from "./dataframe.js";
import { makeFrame, schemaOf, sliceFrame, stringColumn, type Column, type Frame } from "./frame.js";
import { FramesInput } from "./input.js";

export interface PartitionOptions {
  /** Rows per partition (default 1,000,000). */
  chunksize?: number;
  /** Number of partitions of (nearly) equal size; wins over chunksize. */
  npartitions?: number;
}

export type ColumnInput =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | BigInt64Array
  | readonly (number | null)[]
  | readonly (string | null)[]
  | readonly (boolean | null)[]
  | readonly (bigint | null)[]
  | readonly (Date | null)[];

const TYPED: [abstract new (...args: never[]) => unknown, Column["type"]][] = [
  [Float64Array, "float64"],
  [Float32Array, "float32"],
  [Int32Array, "int32"],
  [Int16Array, "int16"],
  [Int8Array, "int8"],
  [Uint32Array, "uint32"],
  [Uint16Array, "uint16"],
  [Uint8Array, "uint8"],
  [BigInt64Array, "int64"],
];

export function toColumn(name: string, values: ColumnInput): Column {
  for (const [ctor, type] of TYPED) if (values instanceof ctor) return { type, data: values as Column["data"] };
  if (!Array.isArray(values)) throw new TesseraError(`column ${JSON.stringify(name)}: expected a typed array or an array of values`);
  const first = values.find((v) => v !== null && v !== undefined);
  const valid = values.some((v) => v === null || v === undefined) ? Uint8Array.from(values, (v) => +(v !== null && v !== undefined)) : undefined;
  const withValid = (c: Column): Column => (valid ? { ...c, valid } : c);
  const check = (ok: (v: unknown) => boolean, what: string) => {
    const bad = values.findIndex((v) => v !== null && v !== undefined && !ok(v));
    if (bad >= 0) throw new TesseraError(`column ${JSON.stringify(name)}: row ${bad} holds ${String(values[bad])}, but the column holds ${what}`);
  };
  if (typeof first === "string" || first === undefined) {
    check((v) => typeof v === "string", "strings");
    return stringColumn(values as (string | null)[]);
  }
  if (typeof first === "number") {
    check((v) => typeof v === "number", "numbers");
    return withValid({ type: "float64", data: Float64Array.from(values as (number | null)[], (v) => v ?? 0) });
  }
  if (typeof first === "boolean") {
    check((v) => typeof v === "boolean", "booleans");
    return withValid({ type: "bool", data: Uint8Array.from(values as (boolean | null)[], (v) => +(v ?? 0)) });
  }
  if (typeof first === "bigint") {
    check((v) => typeof v === "bigint", "bigints");
    return withValid({ type: "int64", data: BigInt64Array.from(values as (bigint | null)[], (v) => v ?? 0n) });
  }
  if (first instanceof Date) {
    check((v) => v instanceof Date, "dates");
    return withValid({ type: "timestamp", unit: "ms", data: BigInt64Array.from(values as (Date | null)[], (v) => BigInt(v ? v.getTime() : 0)) });
  }
  throw new TesseraError(`column ${JSON.stringify(name)}: cannot store values like ${String(first)} (${typeof first}); use numbers, strings, booleans, bigints or Dates`);
}

/** Cut a frame into partitions. */
export function partitionFrame(frame: Frame, options: PartitionOptions = {}): Frame[] {
  let size: number;
  if (options.npartitions !== undefined) {
    if (!Number.isInteger(options.npartitions) || options.npartitions < 1) throw new TesseraError(`npartitions must be a positive integer, got ${options.npartitions}`);
    size = Math.max(1, Math.ceil(frame.length / options.npartitions));
  } else {
    size = options.chunksize ?? 1_000_000;
    if (!Number.isInteger(size) || size < 1) throw new TesseraError(`chunksize must be a positive integer, got ${size}`);
  }
  if (frame.length === 0) return [frame];
  const out: Frame[] = [];
  for (let at = 0; at < frame.length; at += size) out.push(sliceFrame(frame, at, at + size));
  return out;
}

export function fromFrame(frame: Frame, options: PartitionOptions = {}): DataFrame {
  const parts = partitionFrame(frame, options);
  return new DataFrame(new FramesInput(parts, schemaOf(frame), tokenize(parts)));
}

/** A dataframe from columns: `fromArrays({ key: Int32Array, name: ["a", null, "b"] })`. */
export function fromArrays(columns: Record<string, ColumnInput>, options: PartitionOptions = {}): DataFrame {
  const names = Object.keys(columns);
  if (names.length === 0) throw new TesseraError("fromArrays: give at least one column");
  const cols = names.map((n) => toColumn(n, columns[n]!));
  const lengths = new Set(cols.map((c) => c.data.length));
  if (lengths.size > 1) throw new TesseraError(`fromArrays: columns have different lengths: ${names.map((n, i) => `${n}=${cols[i]!.data.length}`).join(", ")}`);
  return fromFrame(makeFrame(names, cols), options);
}
