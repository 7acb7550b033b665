/**
 * Comparisons, each a bool column: numbers one typed-array loop per operator (against a number
 * without broadcasting it), strings by value through their dictionaries (against a literal the
 * dictionary is compared once and rows look their code up), and membership in a list (isin).
 */

import { TesseraError } from "../errors.js";
import { isNumeric, type Column, type ColumnData, type Frame } from "./frame.js";
import { show, type ExprNode, type Literal } from "./expr.js";
import { andValid, asColumn, broadcast, col, type Value } from "./eval-value.js";

export const COMPARE = new Set(["eq", "ne", "lt", "le", "gt", "ge"]);

/** `lit op col` is `col FLIP[op] lit`. */
export const FLIP: Record<string, string> = { eq: "eq", ne: "ne", lt: "gt", le: "ge", gt: "lt", ge: "le" };

/** col op scalar, for a column of numbers (any typed array but 64-bit integers). */
export function compareScalar(op: string, a: Float64Array, x: number, n: number): Uint8Array {
  if (!(a instanceof Float64Array)) return compareScalarAny(op, a, x, n);
  const out = new Uint8Array(n);
  compareScalarInto(op, a, x, n, out);
  return out;
}

/**
 * col op scalar into `out`, for Float64Array columns only: its loops see one array type (the
 * block evaluators' and float64 columns'), which compareScalarAny's would not.
 */
export function compareScalarInto(op: string, a: Float64Array, x: number, n: number, out: Uint8Array): void {
  switch (op) {
    case "eq":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! === x);
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! !== x);
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! < x);
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! <= x);
      break;
    case "gt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > x);
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! >= x);
      break;
  }
}

function compareScalarAny(op: string, a: Float64Array, x: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  switch (op) {
    case "eq":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! === x);
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! !== x);
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! < x);
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! <= x);
      break;
    case "gt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > x);
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! >= x);
      break;
  }
  return out;
}

/** col op col over any numeric typed arrays (compileMask keeps a Float64Array-only copy, so that its loops see one type). */
export function compareNumeric(op: string, x: ColumnData, y: ColumnData, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const a = x as Float64Array;
  const b = y as Float64Array;
  switch (op) {
    case "eq":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! === b[i]!);
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! !== b[i]!);
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! < b[i]!);
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! <= b[i]!);
      break;
    case "gt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > b[i]!);
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! >= b[i]!);
      break;
  }
  return out;
}

function cmp(op: string, x: string, y: string): boolean {
  switch (op) {
    case "eq":
      return x === y;
    case "ne":
      return x !== y;
    case "lt":
      return x < y;
    case "le":
      return x <= y;
    case "gt":
      return x > y;
    default:
      return x >= y;
  }
}

export function compareStrings(op: string, a: Value, b: Value, n: number, e: ExprNode): Value {
  const strCol = (v: Value): Column => {
    if (v.kind === "scalar") {
      if (typeof v.value !== "string") throw new TesseraError(`${show(e)}: cannot compare a string with ${JSON.stringify(v.value)}`);
      return broadcast(v.value, n);
    }
    if (v.col.type !== "string") throw new TesseraError(`${show(e)}: cannot compare a string with a ${v.col.type} column`);
    return v.col;
  };
  const ca = strCol(a);
  const cb = strCol(b);
  const out = new Uint8Array(n);
  const codesA = ca.data as Int32Array;
  const codesB = cb.data as Int32Array;
  const da = ca.dictionary ?? [];
  const db = cb.dictionary ?? [];
  if (b.kind === "scalar" || a.kind === "scalar") {
    // Compare each dictionary entry once; rows look their code up.
    const [codes, dict, other, flip] = b.kind === "scalar" ? [codesA, da, db[0]!, false] : [codesB, db, da[0]!, true];
    const table = Uint8Array.from(dict, (s) => +(flip ? cmp(op, other, s) : cmp(op, s, other)));
    for (let i = 0; i < n; i++) out[i] = table[codes[i]!]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = +cmp(op, da[codesA[i]!]!, db[codesB[i]!]!);
  }
  return col("bool", out, andValid(ca.valid, cb.valid));
}

export function isin(frame: Frame, a: Value, values: readonly Literal[], e: ExprNode): Value {
  const c = asColumn(a, frame.length);
  const n = frame.length;
  const out = new Uint8Array(n);
  if (c.type === "string") {
    const wanted = new Set(values.filter((v): v is string => typeof v === "string"));
    const table = Uint8Array.from(c.dictionary ?? [], (s) => +wanted.has(s));
    const codes = c.data as Int32Array;
    for (let i = 0; i < n; i++) out[i] = table[codes[i]!]!;
  } else if (c.type === "int64" || c.type === "timestamp") {
    const wanted = new Set(values.map((v) => (typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined)));
    const src = c.data as BigInt64Array;
    for (let i = 0; i < n; i++) out[i] = +wanted.has(src[i]!);
  } else if (isNumeric(c.type) || c.type === "bool" || c.type === "date32") {
    const wanted = new Set(values.map((v) => (typeof v === "boolean" ? +v : v)));
    const src = c.data as Float64Array;
    for (let i = 0; i < n; i++) out[i] = +wanted.has(src[i]!);
  } else throw new TesseraError(`${show(e)}: isin is not supported on a ${c.type} column`);
  // A null is never "in" a list (pandas and Arrow agree).
  if (c.valid) for (let i = 0; i < n; i++) out[i]! &= c.valid[i]!;
  return col("bool", out);
}
