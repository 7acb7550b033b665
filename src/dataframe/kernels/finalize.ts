/**
 * Groupby results from a (combined) partial: the key columns, then `<column>_<agg>` for every
 * requested aggregation, groups sorted by key (pandas' sort=True) unless `sort: false` keeps
 * them in order of first appearance.
 *
 * Result types (pandas' where the Frame can say it; nulls where pandas gives NaN):
 *   count, size, nunique   int64 (BigInt64Array), never null
 *   sum                    int64 for integer and bool columns (exact, wrapping like numpy),
 *                          uint64 for uint64 ones, float64 for floats (0 for a group with no values)
 *   mean, var, std         float64; null where there is no value (var/std: count <= ddof)
 *   min, max, first, last  the column's own type (string, timestamp with its unit, ...); null
 *                          where the group has no value
 * var/std use ddof = 1 (pandas' default) unless told otherwise. Null keys sort last.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { TesseraError } from "../../errors.js";
import { column, type Column, type Frame } from "../frame.js";
import { takeColumn } from "./columns.js";
import { type AggName, type GroupbyAggs, SIZE_STATE, parseStateName, stateName } from "./spec.js";
import { argsortFrame } from "./sort.js";

export interface FinalizeOptions {
  /** Sort groups by key (default true); false keeps first-appearance order. */
  sort?: boolean;
  /** Delta degrees of freedom of var and std (default 1). */
  ddof?: number;
}

export function finalizeGroupby(k: Kernels, partial: Frame, aggs: GroupbyAggs, options: FinalizeOptions = {}): Frame {
  const keys = partial.names.filter((n) => parseStateName(n) === undefined);
  const ddof = options.ddof ?? 1;
  const ng = partial.length;
  const state = (name: string, s: string, optional = false): Column | undefined => {
    const key = s === "size" ? SIZE_STATE : stateName(name, s as never);
    const i = partial.names.indexOf(key);
    if (i < 0 && optional) return undefined;
    if (i < 0) throw new TesseraError(`finalizeGroupby: the partial has no ${s} state for column ${JSON.stringify(name)}; was it computed for these aggregations?`);
    return partial.columns[i]!;
  };
  const names = [...keys];
  const columns = keys.map((n) => column(partial, n));
  for (const [name, list] of Object.entries(aggs)) {
    for (const agg of list) {
      const out = `${name}_${agg}`;
      if (names.includes(out)) throw new TesseraError(`groupby: result column ${JSON.stringify(out)} is also a key or requested twice`);
      names.push(out);
      columns.push(result(agg, (s, optional) => state(name, s, optional), ng, ddof));
    }
  }
  const frame: Frame = { length: ng, names, columns };
  if (options.sort === false || keys.length === 0 || ng < 2) return frame;
  const order = argsortFrame(k, frame, keys.map((c) => ({ column: c })));
  return { length: ng, names, columns: columns.map((c) => takeColumn(c, order)) };
}

type StateOf = ((s: string) => Column) & ((s: string, optional: true) => Column | undefined);

function result(agg: AggName, find: (s: string, optional?: boolean) => Column | undefined, ng: number, ddof: number): Column {
  const state = find as StateOf;
  const f = (s: string) => state(s).data as Float64Array;
  switch (agg) {
    case "count":
    case "size":
      return int64Of(f(agg));
    case "nunique":
      return { type: "int64", data: BigInt64Array.from(state("distinct").data as unknown[][], (a) => BigInt(a.length)) };
    case "sum": {
      const exact = state("isum", true);
      if (exact) return exact;
      const sum = f("sum"), comp = f("sumc");
      const out = new Float64Array(ng);
      for (let g = 0; g < ng; g++) out[g] = total(sum[g]!, comp[g]!);
      return { type: "float64", data: out };
    }
    case "mean": {
      const count = f("count"), sum = f("sum"), comp = f("sumc");
      return floats(ng, (g) => (count[g]! > 0 ? total(sum[g]!, comp[g]!) / count[g]! : undefined));
    }
    case "var":
    case "std": {
      const count = f("count"), m2 = f("m2");
      return floats(ng, (g) => {
        if (!(count[g]! > ddof)) return undefined;
        const v = Math.max(0, m2[g]!) / (count[g]! - ddof);
        return agg === "std" ? Math.sqrt(v) : v;
      });
    }
    case "min":
    case "max":
    case "first":
    case "last":
      return state(agg);
  }
}

/** Sum plus its compensation, unless the sum is already infinite or NaN. */
function total(sum: number, comp: number): number {
  return Number.isFinite(sum) ? sum + comp : sum;
}

function int64Of(x: Float64Array): Column {
  return { type: "int64", data: BigInt64Array.from(x, (v) => BigInt(v)) };
}

function floats(ng: number, at: (g: number) => number | undefined): Column {
  const data = new Float64Array(ng);
  let valid: Uint8Array | undefined;
  for (let g = 0; g < ng; g++) {
    const v = at(g);
    if (v === undefined) (valid ??= new Uint8Array(ng).fill(1))[g] = 0;
    else data[g] = v;
  }
  return valid ? { type: "float64", data, valid } : { type: "float64", data };
}
