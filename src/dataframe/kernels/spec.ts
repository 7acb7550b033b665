/**
 * Groupby aggregations: their names, which column types take them, and how partial states are
 * named.
 *
 * A partial (one partition's groups, or a combination of partials) is a Frame: the key columns
 * under their own names, then state columns named "\0<column>\0<state>" (and "\0\0size"), so
 * no user column can collide with them and combine/finalize need no side channel:
 *
 *   count  f64       non-null, non-NaN values          sum, sumc  f64   compensated sum (+ low part)
 *   isum   int64 / uint64  exact wrapping integer sum  mean, m2   f64   Welford/Chan state (with count)
 *   min, max, first, last   the column's own type, null where the group has no value
 *   distinct  object: an array of the group's distinct values (nunique, a JS fallback)
 *   size   f64       rows in the group, nulls included
 */

import { TesseraError } from "../../errors.js";
import type { Column, ColumnType } from "../frame.js";

export type AggName = "count" | "sum" | "mean" | "min" | "max" | "var" | "std" | "first" | "last" | "size" | "nunique";

export const AGG_NAMES: readonly AggName[] = ["count", "sum", "mean", "min", "max", "var", "std", "first", "last", "size", "nunique"];

/** Aggregations per value column, in output order: `{ delay: ["mean", "count"] }`. */
export type GroupbyAggs = Readonly<Record<string, readonly AggName[]>>;

export type StateName = "count" | "sum" | "sumc" | "isum" | "mean" | "m2" | "min" | "max" | "first" | "last" | "distinct";

export const SIZE_STATE = "\0\0size";

export function stateName(column: string, state: StateName): string {
  return `\0${column}\0${state}`;
}

/** Split a partial's column name: a state of a column, the size state, or a key (undefined). */
export function parseStateName(name: string): { column: string; state: StateName | "size" } | undefined {
  if (name === SIZE_STATE) return { column: "", state: "size" };
  if (!name.startsWith("\0")) return undefined;
  const at = name.lastIndexOf("\0");
  return { column: name.slice(1, at), state: name.slice(at + 1) as StateName };
}

const NUMERIC = new Set<ColumnType>(["float64", "float32", "int8", "int16", "int32", "uint8", "uint16", "uint32", "int64", "uint64", "bool"]);
const ORDERED = new Set<ColumnType>([...NUMERIC, "string", "timestamp", "date32"]);

export const isIntLike = (t: ColumnType): boolean => NUMERIC.has(t) && t !== "float64" && t !== "float32";

/** Throws unless column `name` of type t can take agg. */
export function checkAgg(name: string, c: Column, agg: AggName): void {
  if (!AGG_NAMES.includes(agg)) {
    throw new TesseraError(`groupby: unknown aggregation ${JSON.stringify(agg)} for column ${JSON.stringify(name)}; expected one of ${AGG_NAMES.join(", ")}`);
  }
  const t = c.type;
  const ok =
    agg === "size" ||
    (t !== "object" && (agg === "count" || agg === "first" || agg === "last" || agg === "nunique")) ||
    ((agg === "sum" || agg === "mean" || agg === "var" || agg === "std") && NUMERIC.has(t)) ||
    ((agg === "min" || agg === "max") && ORDERED.has(t));
  if (!ok) throw new TesseraError(`groupby: cannot take the ${agg} of column ${JSON.stringify(name)} (type ${t})`);
}

/** The states a partial holds for a column asked for `aggs`. */
export function statesFor(c: Column, aggs: readonly AggName[]): Set<StateName> {
  const s = new Set<StateName>();
  const has = (a: AggName) => aggs.includes(a);
  if (has("count") || has("mean") || has("var") || has("std")) s.add("count");
  if (has("mean") || (has("sum") && !isIntLike(c.type))) {
    s.add("sum");
    s.add("sumc");
  }
  if (has("sum") && isIntLike(c.type)) s.add("isum");
  if (has("var") || has("std")) {
    s.add("mean");
    s.add("m2");
  }
  for (const a of ["min", "max", "first", "last"] as const) if (has(a)) s.add(a);
  if (has("nunique")) s.add("distinct");
  return s;
}
