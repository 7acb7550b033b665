/**
 * What an expression node evaluates to: a column, or a literal kept as a scalar until an
 * operator needs it as a column (broadcast). Shared by the evaluator's operator files.
 */

import type { Column, ColumnData, ColumnType } from "./frame.js";
import type { Literal } from "./expr.js";

export type Value = { kind: "column"; col: Column } | { kind: "scalar"; value: Literal };

export function col(type: ColumnType, data: ColumnData, valid?: Uint8Array, extra: Partial<Column> = {}): Value {
  const c: Column = { type, data, ...extra };
  if (valid) c.valid = valid;
  return { kind: "column", col: c };
}

export function broadcast(value: Literal, n: number): Column {
  if (value === null) return { type: "float64", data: new Float64Array(n), valid: new Uint8Array(n) };
  if (typeof value === "number") return { type: "float64", data: new Float64Array(n).fill(value) };
  if (typeof value === "boolean") return { type: "bool", data: new Uint8Array(n).fill(+value) };
  if (typeof value === "bigint") return { type: "int64", data: new BigInt64Array(n).fill(value) };
  return { type: "string", data: new Int32Array(n), dictionary: [value] };
}

export function asColumn(v: Value, n: number): Column {
  return v.kind === "column" ? v.col : broadcast(v.value, n);
}

/** The rows valid in both (an absent mask means all valid). */
export function andValid(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (!a) return b;
  if (!b) return a;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i]! & b[i]!;
  return out;
}
