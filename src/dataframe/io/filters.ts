/**
 * Row filters in the DNF form of dask and pyarrow (`read_parquet(filters=...)`):
 *
 *   [["x", ">", 0], ["y", "=", "a"]]            x > 0 AND y = "a"
 *   [[["x", ">", 0]], [["y", "in", ["a"]]]]     (x > 0) OR (y in ["a"])
 *
 * Ops: "=" / "==", "!=", "<", "<=", ">", ">=", "in", "not in". They are used twice: on the client
 * to skip row groups whose statistics (min, max, null count) prove no row can match
 * (`mayMatch`), and on the worker to keep the matching rows of what it read (`filterMask`).
 *
 * Semantics are pyarrow's (filters become Arrow compute expressions there):
 * - a null never satisfies a comparison, and `!=` is a comparison: null != 5 is not true;
 * - `in` matches a null row only when the list holds null; `not in` keeps null rows unless the
 *   list holds null (Arrow's is_in is false, never null, for a null input);
 * - a comparison with a null value (`["x", "=", null]`) matches nothing;
 * - NaN compares as IEEE says (NaN != 1 is true, NaN < 1 is false); `in [NaN]` matches NaN;
 * - strings compare by code point (= UTF-8 byte order, as Parquet statistics are ordered).
 *
 * Values are taken in the column's terms: numbers or bigints for numeric, int64 and decimal
 * columns; strings; booleans; for timestamps a Date, an ISO string, or a number / bigint in the
 * column's unit; for dates a Date, a "YYYY-MM-DD" string or a number of days.
 */

import { TesseraError } from "../../errors.js";
import type { Column, ColumnMeta, Frame, TimeUnit } from "../frame.js";

export type FilterOp = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in";
export type FilterScalar = number | bigint | string | boolean | Date | null;
export type FilterTerm = readonly [column: string, op: FilterOp, value: FilterScalar | readonly FilterScalar[]];
export type Filters = readonly FilterTerm[] | readonly (readonly FilterTerm[])[];

type Op = "=" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in";
type Value = number | bigint | string;

/** One checked term: values in the column's own terms (see normalizeFilters). */
export interface Predicate {
  column: string;
  op: Op;
  /** Comparison value; null for a comparison with null (matches nothing). */
  value: Value | null;
  /** `in` / `not in` values, nulls removed. */
  values: Value[];
  /** `in` / `not in`: the list held null. */
  hasNull: boolean;
}

/** ORed conjunctions of ANDed predicates. */
export type Dnf = Predicate[][];

/** What a column's filter values are compared as. */
type Domain = "number" | "bigint" | "string" | "bool" | "time" | "date";

const OPS = new Set<string>(["=", "==", "!=", "<", "<=", ">", ">=", "in", "not in"]);

function domainOf(meta: ColumnMeta, decimal: boolean): Domain | null {
  switch (meta.type) {
    case "int64":
    case "uint64":
      return "bigint";
    case "timestamp":
      return "time";
    case "date32":
      return "date";
    case "string":
      return "string";
    case "bool":
      return "bool";
    case "object":
      return decimal ? "number" : null;
    default:
      return "number";
  }
}

/** Milliseconds since the epoch in a column's unit: exact bigints where whole, else a number. */
function msToUnit(ms: number, unit: TimeUnit): Value {
  switch (unit) {
    case "ns":
      return BigInt(Math.trunc(ms)) * 1_000_000n + BigInt(Math.round((ms - Math.trunc(ms)) * 1e6));
    case "us":
      return BigInt(Math.trunc(ms)) * 1000n + BigInt(Math.round((ms - Math.trunc(ms)) * 1e3));
    case "ms":
      return Number.isInteger(ms) ? BigInt(ms) : ms;
    case "s":
      return ms % 1000 === 0 ? BigInt(ms / 1000) : ms / 1000;
  }
}

function normalizeValue(v: FilterScalar, domain: Domain, meta: ColumnMeta, where: () => string): Value | null {
  if (v === null || v === undefined) return null;
  const bad = (): TesseraError =>
    new TesseraError(`${where()}: ${typeof v === "object" ? "a Date" : `a ${typeof v}`} cannot be compared with a ${meta.type} column`);
  switch (domain) {
    case "number":
      if (typeof v === "number") return v;
      if (typeof v === "bigint") return Number(v);
      throw bad();
    case "bigint":
      if (typeof v === "bigint") return v;
      if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
      throw bad();
    case "string":
      if (typeof v === "string") return v;
      throw bad();
    case "bool":
      if (typeof v === "boolean") return v ? 1 : 0;
      throw bad();
    case "time": {
      if (typeof v === "bigint") return v;
      if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
      const ms = v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : NaN;
      if (Number.isNaN(ms)) throw typeof v === "string" ? new TesseraError(`${where()}: cannot parse ${JSON.stringify(v)} as a date and time`) : bad();
      return msToUnit(ms, meta.unit ?? "ms");
    }
    case "date": {
      if (typeof v === "number") return v;
      if (typeof v === "bigint") return Number(v);
      const ms = v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : NaN;
      if (Number.isNaN(ms)) throw typeof v === "string" ? new TesseraError(`${where()}: cannot parse ${JSON.stringify(v)} as a date`) : bad();
      return ms / 86_400_000;
    }
  }
}

function isTerm(x: unknown): x is FilterTerm {
  return Array.isArray(x) && x.length === 3 && typeof x[0] === "string" && typeof x[1] === "string";
}

/** The filters as a list of conjunctions (a flat list of terms is one conjunction). */
function conjunctions(filters: Filters): (readonly FilterTerm[])[] {
  if (!Array.isArray(filters)) throw new TesseraError(`filters: expected a list of [column, op, value] terms (or a list of such lists), got ${typeof filters}`);
  if (filters.length === 0) return [];
  if (filters.every(isTerm)) return [filters as readonly FilterTerm[]];
  return (filters as readonly unknown[]).map((c, i) => {
    if (!Array.isArray(c) || !c.every(isTerm)) {
      throw new TesseraError(`filters: item ${i} is ${JSON.stringify(c, (_k, x) => (typeof x === "bigint" ? `${x}n` : x))}, expected [column, op, value] or a list of them`);
    }
    return c as readonly FilterTerm[];
  });
}

/** The columns the filters name, each once. */
export function filterColumns(filters: Filters | null | undefined): string[] {
  if (!filters) return [];
  return [...new Set(conjunctions(filters).flatMap((c) => c.map((t) => t[0])))];
}

export interface FilterColumn {
  meta: ColumnMeta;
  decimal: boolean;
}

/**
 * Filters checked against the columns (names, ops, value types) and put in each column's terms.
 * `describe` lists the available columns for a message naming a missing one.
 */
export function normalizeFilters(filters: Filters, columns: ReadonlyMap<string, FilterColumn>, describe: () => string): Dnf {
  return conjunctions(filters).map((conj) =>
    conj.map(([column, rawOp, raw]) => {
      const where = () => `filter ${JSON.stringify([column, rawOp, raw], (_k, x) => (typeof x === "bigint" ? `${x}n` : x))}`;
      if (!OPS.has(rawOp)) throw new TesseraError(`${where()}: unknown op ${JSON.stringify(rawOp)}; ops are =, ==, !=, <, <=, >, >=, in, not in`);
      const col = columns.get(column);
      if (!col) throw new TesseraError(`${where()}: no column ${JSON.stringify(column)}; ${describe()}`);
      const domain = domainOf(col.meta, col.decimal);
      if (!domain) throw new TesseraError(`${where()}: column ${JSON.stringify(column)} holds nested or binary values, which filters cannot compare`);
      const op: Op = rawOp === "==" ? "=" : (rawOp as Op);
      if (op === "in" || op === "not in") {
        if (!Array.isArray(raw)) throw new TesseraError(`${where()}: "${op}" takes a list of values`);
        const values: Value[] = [];
        let hasNull = false;
        for (const v of raw as readonly FilterScalar[]) {
          const n = normalizeValue(v, domain, col.meta, where);
          if (n === null) hasNull = true;
          else values.push(n);
        }
        return { column, op, value: null, values, hasNull };
      }
      if (Array.isArray(raw)) throw new TesseraError(`${where()}: "${op}" takes one value, not a list (use "in")`);
      return { column, op, value: normalizeValue(raw as FilterScalar, domain, col.meta, where), values: [], hasNull: false };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Comparing values

/** Code-point order of two strings (JS `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF: move them above 0xE000-0xFFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** -1, 0, 1, or NaN when the two do not compare (NaN values). Strings by code point. */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === "string" && typeof b === "string") return Math.sign(compareStrings(a, b));
  return a < b ? -1 : a > b ? 1 : a == b ? 0 : NaN;
}

/** A test for one non-null value. */
function valueTest(p: Predicate): (x: Value) => boolean {
  const v = p.value;
  switch (p.op) {
    case "in":
    case "not in": {
      const set = new Set<Value>(p.values);
      // Numbers and bigints of equal value must meet in the set: whole numbers as bigints too.
      for (const x of p.values) if (typeof x === "bigint" && Number.isSafeInteger(Number(x))) set.add(Number(x));
      for (const x of p.values) if (typeof x === "number" && Number.isInteger(x)) set.add(BigInt(x));
      return p.op === "in" ? (x) => set.has(x) : (x) => !set.has(x);
    }
    case "=":
      return (x) => compareValues(x, v!) === 0;
    case "!=":
      return (x) => compareValues(x, v!) !== 0;
    case "<":
      return (x) => compareValues(x, v!) < 0;
    case "<=":
      return (x) => compareValues(x, v!) <= 0;
    case ">":
      return (x) => compareValues(x, v!) > 0;
    case ">=":
      return (x) => compareValues(x, v!) >= 0;
  }
}

/** 1 where the predicate holds for row i of the column. */
function predicateMask(c: Column, p: Predicate, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (p.value === null && p.op !== "in" && p.op !== "not in") return out;
  const test = valueTest(p);
  const nullMatches = p.op === "in" ? p.hasNull : p.op === "not in" ? !p.hasNull : false;
  const valid = c.valid;
  if (c.type === "string") {
    const dict = c.dictionary ?? [];
    const byCode = new Uint8Array(dict.length);
    for (let k = 0; k < dict.length; k++) byCode[k] = test(dict[k]!) ? 1 : 0;
    const codes = c.data as Int32Array;
    for (let i = 0; i < n; i++) out[i] = valid && !valid[i] ? (nullMatches ? 1 : 0) : byCode[codes[i]!]!;
    return out;
  }
  const data = c.data as ArrayLike<unknown>;
  for (let i = 0; i < n; i++) {
    const x = data[i];
    if ((valid && !valid[i]) || x === null || x === undefined) out[i] = nullMatches ? 1 : 0;
    else out[i] = test(x as Value) ? 1 : 0;
  }
  return out;
}

/** 1 for the rows of `frame` the filters keep. */
export function filterMask(frame: Frame, dnf: Dnf): Uint8Array {
  const n = frame.length;
  const keep = new Uint8Array(n);
  for (const conj of dnf) {
    const m = new Uint8Array(n).fill(1);
    for (const p of conj) {
      const i = frame.names.indexOf(p.column);
      if (i < 0) throw new TesseraError(`filters: column ${JSON.stringify(p.column)} was not read`);
      const pm = predicateMask(frame.columns[i]!, p, n);
      for (let r = 0; r < n; r++) m[r]! &= pm[r]!;
    }
    for (let r = 0; r < n; r++) keep[r]! |= m[r]!;
  }
  return keep;
}

// ---------------------------------------------------------------------------------------------
// Row-group statistics

/** What a row group's statistics say about one column, in the column's terms. */
export interface ColumnStats {
  rows: number;
  nullCount?: number;
  /** Lower / upper bounds of the non-null values (absent when unknown). */
  min?: Value;
  max?: Value;
  /** The bounds are the true min and max (not truncated), so min == max means every value is it. */
  exact: boolean;
  /** Float columns: NaN may hide from min / max. */
  float: boolean;
}

function canMatch(p: Predicate, s: ColumnStats): boolean {
  const nullsKnown = s.nullCount !== undefined;
  const someNull = !nullsKnown || s.nullCount! > 0;
  const allNull = nullsKnown && s.nullCount === s.rows;
  const { min, max } = s;
  const known = min !== undefined && max !== undefined;
  const cmp = (a: Value, b: Value) => compareValues(a, b);
  const single = known && s.exact && !s.float && cmp(min!, max!) === 0;
  switch (p.op) {
    case "in":
      if (p.hasNull && someNull) return true;
      if (allNull) return false;
      if (!known) return true;
      return p.values.some((v) => !(cmp(v, min!) < 0 || cmp(v, max!) > 0));
    case "not in":
      if (!p.hasNull && someNull) return true;
      if (allNull) return false;
      return !(single && p.values.some((v) => cmp(v, min!) === 0));
  }
  if (p.value === null || allNull) return false;
  if (!known) return true;
  const v = p.value;
  switch (p.op) {
    case "=":
      return !(cmp(v, min!) < 0 || cmp(v, max!) > 0);
    case "!=":
      return !(single && cmp(v, min!) === 0);
    case "<":
      return !(cmp(min!, v) >= 0);
    case "<=":
      return !(cmp(min!, v) > 0);
    case ">":
      return !(cmp(max!, v) <= 0);
    case ">=":
      return !(cmp(max!, v) < 0);
  }
}

/** False only when the statistics prove that no row of the group matches. */
export function mayMatch(dnf: Dnf, stats: (column: string) => ColumnStats | undefined): boolean {
  if (dnf.length === 0) return true;
  return dnf.some((conj) =>
    conj.every((p) => {
      const s = stats(p.column);
      return s === undefined || canMatch(p, s);
    }),
  );
}
