/**
 * pandas' describe. count, mean, std, min and max are exact (Chan's update of per-partition
 * moments); the percentiles are approximate, from a mergeable quantile summary
 * (quantile-sketch.ts, which bounds the error). Where no column is numeric, the string and bool
 * columns get count, unique, top and freq instead, from exact value counts.
 */

import type { Table } from "apache-arrow";
import { TesseraError } from "../errors.js";
import { checkSplitEvery } from "../graph/tree.js";
import { registerOp } from "../worker/registry.js";
import type { DataFrame } from "./dataframe.js";
import { asFrame, column, isNumeric, makeFrame, stringColumn, type Column, type ColumnMeta } from "./frame.js";
import { frameToArrow } from "./io/arrow.js";
import { mergeSketches, sketchQuantile, sketchSorted, type QuantileSketch } from "./quantile-sketch.js";
import { reducePartitions } from "./reduce.js";
import { checkColumn } from "./summary-checks.js";

export interface DescribeOptions {
  /** Percentiles to report, each in [0, 1] (default [0.25, 0.5, 0.75]; 0.5 is always added, as pandas). */
  percentiles?: readonly number[];
  /** Points per quantile summary, k (default 4096): the rank error is about (1 + combine levels) / 2k of the rows. */
  sketchSize?: number;
  /** Partials combined per tree node (default 8). */
  splitEvery?: number;
}

/** Types pandas' describe treats as numbers (bool is not one of them). */
const isNumberType = (t: ColumnMeta["type"]): boolean => isNumeric(t) || t === "int64" || t === "uint64";

interface NumberPartial {
  n: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  sketch: QuantileSketch;
}

/** Non-missing values of a numeric column, sorted (a copy, so it owns its buffer). */
function sortedNumbers(c: Column): Float64Array {
  const d = c.data as ArrayLike<number | bigint>;
  const out = new Float64Array(d.length);
  const big = c.type === "int64" || c.type === "uint64";
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    if (c.valid && !c.valid[i]) continue;
    const x = big ? Number(d[i]!) : (d[i] as number);
    if (x !== x) continue;
    out[m++] = x;
  }
  return out.slice(0, m).sort();
}

function numberPartial(c: Column, k: number): NumberPartial {
  const xs = sortedNumbers(c);
  const n = xs.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += xs[i]!;
  const mean = n ? sum / n : 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) m2 += (xs[i]! - mean) ** 2;
  return { n, mean, m2, min: n ? xs[0]! : Infinity, max: n ? xs[n - 1]! : -Infinity, sketch: sketchSorted(xs, k) };
}

function mergeNumberPartials(parts: readonly NumberPartial[]): NumberPartial {
  let out = parts[0]!;
  for (const b of parts.slice(1)) {
    const a = out;
    const n = a.n + b.n;
    const d = b.mean - a.mean;
    out = n === 0 ? a : {
      n,
      mean: a.n === 0 ? b.mean : b.n === 0 ? a.mean : a.mean + (d * b.n) / n,
      m2: a.n === 0 ? b.m2 : b.n === 0 ? a.m2 : a.m2 + b.m2 + (d * d * a.n * b.n) / n,
      min: Math.min(a.min, b.min),
      max: Math.max(a.max, b.max),
      sketch: a.sketch,
    };
  }
  return { ...out, sketch: mergeSketches(parts.map((p) => p.sketch)) };
}

registerOp("dataframe.describe-partial", (spec: { columns: string[]; k: number }, frame: unknown) => {
  const f = asFrame(frame, "describe");
  return Object.fromEntries(spec.columns.map((name) => [name, numberPartial(column(f, name, "describe"), spec.k)]));
});

registerOp("dataframe.describe-combine", (...parts: Record<string, NumberPartial>[]) =>
  Object.fromEntries(Object.keys(parts[0]!).map((name) => [name, mergeNumberPartials(parts.map((p) => p[name]!))])),
);

/** Value -> count of a string or bool column; `n` the non-null values. */
interface FreqPartial {
  n: number;
  values: string[];
  counts: number[];
}

function freqPartial(c: Column): FreqPartial {
  const counts = new Map<string, number>();
  let n = 0;
  if (c.type === "string") {
    // Count codes first: the dictionary may repeat a string or hold strings no row uses.
    const dict = c.dictionary ?? [];
    const byCode = new Float64Array(dict.length);
    const codes = c.data as Int32Array;
    for (let i = 0; i < codes.length; i++) if (!c.valid || c.valid[i]) byCode[codes[i]!]!++;
    byCode.forEach((m, code) => {
      if (m > 0) counts.set(dict[code]!, (counts.get(dict[code]!) ?? 0) + m);
      n += m;
    });
  } else {
    const d = c.data as Uint8Array;
    for (let i = 0; i < d.length; i++) {
      if (c.valid && !c.valid[i]) continue;
      const s = d[i] ? "true" : "false";
      counts.set(s, (counts.get(s) ?? 0) + 1);
      n++;
    }
  }
  return { n, values: [...counts.keys()], counts: [...counts.values()] };
}

function mergeFreqPartials(parts: readonly FreqPartial[]): FreqPartial {
  const counts = new Map<string, number>();
  let n = 0;
  for (const p of parts) {
    n += p.n;
    p.values.forEach((s, i) => counts.set(s, (counts.get(s) ?? 0) + p.counts[i]!));
  }
  return { n, values: [...counts.keys()], counts: [...counts.values()] };
}

registerOp("dataframe.describe-freq-partial", (spec: { columns: string[] }, frame: unknown) => {
  const f = asFrame(frame, "describe");
  return Object.fromEntries(spec.columns.map((name) => [name, freqPartial(column(f, name, "describe"))]));
});

registerOp("dataframe.describe-freq-combine", (...parts: Record<string, FreqPartial>[]) =>
  Object.fromEntries(Object.keys(parts[0]!).map((name) => [name, mergeFreqPartials(parts.map((p) => p[name]!))])),
);

/** pandas' percentile labels: 0.25 -> "25%", 0.125 -> "12.5%". */
function percentLabel(p: number): string {
  return `${Number((p * 100).toFixed(10))}%`;
}

/**
 * pandas' describe: for numeric columns (all of them by default) count, mean, std, min,
 * percentiles, max as float64 columns after a `stat` column; where there is no numeric column,
 * count, unique, top, freq of the string and bool columns (as strings; top ties go to the
 * smallest value).
 */
export async function describe(df: DataFrame, columns?: readonly string[], options: DescribeOptions = {}): Promise<Table> {
  const k = options.sketchSize ?? 4096;
  if (!Number.isInteger(k) || k < 2) throw new TesseraError(`describe: sketchSize must be an integer >= 2, got ${k}`);
  const splitEvery = checkSplitEvery(options.splitEvery ?? 8, "describe");
  const pcts = [...new Set([...(options.percentiles ?? [0.25, 0.5, 0.75]), 0.5])].sort((a, b) => a - b);
  for (const p of pcts) if (!(p >= 0 && p <= 1)) throw new TesseraError(`describe: percentiles must be in [0, 1], got ${p}`);
  const labels = pcts.map(percentLabel);
  if (new Set(labels).size !== labels.length) throw new TesseraError(`describe: percentiles ${JSON.stringify(pcts)} give duplicate labels`);

  const schema = await df.schema();
  const named = columns ? [...columns] : schema.names;
  if (columns && named.length === 0) throw new TesseraError("describe: name at least one column, or none for all");
  const metas = named.map((n) => checkColumn(schema, n, "describe"));
  const numbers = named.filter((_, i) => isNumberType(metas[i]!.type));
  const others = named.filter((_, i) => !isNumberType(metas[i]!.type));
  const counted = others.filter((n) => ["string", "bool"].includes(checkColumn(schema, n, "describe").type));
  if (columns && numbers.length > 0 && others.length > 0) {
    throw new TesseraError(`describe: ${others.map((n) => JSON.stringify(n)).join(", ")} ${others.length > 1 ? "are" : "is"} not numeric while ${numbers.map((n) => JSON.stringify(n)).join(", ")} ${numbers.length > 1 ? "are" : "is"}; describe numeric and string columns separately`);
  }
  if (numbers.length > 0) {
    const parts = await reducePartitions<Record<string, NumberPartial>>(df.select(numbers), "dataframe.describe-partial", { columns: numbers, k }, "dataframe.describe-combine", splitEvery);
    const stats = ["count", "mean", "std", "min", ...labels, "max"];
    const cols = numbers.map((name) => {
      const p = parts[name]!;
      const none = p.n === 0;
      const values = [p.n, none ? NaN : p.mean, p.n > 1 ? Math.sqrt(p.m2 / (p.n - 1)) : NaN, none ? NaN : p.min, ...pcts.map((q) => sketchQuantile(p.sketch, q)), none ? NaN : p.max];
      return { type: "float64", data: Float64Array.from(values) } as Column;
    });
    return frameToArrow(makeFrame(["stat", ...numbers], [stringColumn(stats), ...cols]));
  }
  if (counted.length === 0 || (columns && counted.length < others.length)) {
    const bad = others.filter((n) => !counted.includes(n));
    throw new TesseraError(`describe: no numeric, string or bool column to describe${bad.length ? ` (${bad.map((n) => `${JSON.stringify(n)} is ${checkColumn(schema, n, "describe").type}`).join(", ")})` : ""}`);
  }
  const parts = await reducePartitions<Record<string, FreqPartial>>(df.select(counted), "dataframe.describe-freq-partial", { columns: counted }, "dataframe.describe-freq-combine", splitEvery);
  const cols = counted.map((name) => {
    const p = parts[name]!;
    let top: string | null = null, freq = 0;
    p.values.forEach((s, i) => {
      const m = p.counts[i]!;
      if (m > freq || (m === freq && top !== null && s < top)) [top, freq] = [s, m];
    });
    return stringColumn([String(p.n), String(p.values.length), top, top === null ? null : String(freq)]);
  });
  return frameToArrow(makeFrame(["stat", ...counted], [stringColumn(["count", "unique", "top", "freq"]), ...cols]));
}
