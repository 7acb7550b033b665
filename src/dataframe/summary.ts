/**
 * Summaries of whole columns (pandas' describe, value_counts, nunique, unique). Each is one
 * graph: a partial per partition, a combine tree that keeps partition order, the answer on the
 * client (reduce.ts), except valueCounts, which stays lazy (a groupby size plus a sort).
 *
 * describe's percentiles are approximate, as in Dask, from a mergeable quantile summary:
 *
 *   partition  the sorted values cut into k runs of (nearly) equal length, each kept as its
 *              middle value weighted by its length (every value, weight 1, when there are at
 *              most k; then nothing is approximate)
 *   combine    the union of the inputs' points; past 2k points, neighbours are grouped up to
 *              W/k weight and each group kept as its weighted median with the group's weight
 *   query      the point at position (N - 1)q of the cumulative weights, interpolated linearly
 *              between neighbouring positions like pandas
 *
 * Only one run (or group) of a summary straddles any threshold t, so the count of values <= t
 * read from a summary is off by at most half a run: floor(ceil(n/k) / 2) rows per partition,
 * plus W/2k per compression, and these add up in a union. The summary tracks the bound, E, as
 * it goes; the percentile returned lies between the exact order statistics at ranks
 * (N - 1)q - E - 1 and (N - 1)q + E + 1, where, with L combine levels that compress and P
 * partitions, E <= (1 + L) N / 2k + P/2. With the default k = 4096 and splitEvery 8 that is
 * under 0.025% of the rows up to 8 partitions, 0.05% up to 512 (plus P/2 + 1 rows).
 * count, mean, std, min and max are exact (Chan's update of per-partition moments).
 */

import type { Table } from "apache-arrow";
import { PREPARE } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { checkSplitEvery } from "../graph/tree.js";
import { opSpec } from "../graph/spec.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { DataFrame } from "./dataframe.js";
import { asFrame, column, concatFrames, isNumeric, makeFrame, stringColumn, takeRows, type Column, type ColumnMeta, type Frame, type Schema } from "./frame.js";
import { PlannedInput, type Plan } from "./input.js";
import { frameToArrow } from "./io/arrow.js";
import { argsortFrame } from "./kernels/index.js";
import { reducePartitions } from "./reduce.js";
import { deriveSchema } from "./steps.js";

export interface DescribeOptions {
  /** Percentiles to report, each in [0, 1] (default [0.25, 0.5, 0.75]; 0.5 is always added, as pandas). */
  percentiles?: readonly number[];
  /** Points per quantile summary, k (default 4096): the rank error is about (1 + combine levels) / 2k of the rows. */
  sketchSize?: number;
  /** Partials combined per tree node (default 8). */
  splitEvery?: number;
}

export interface ValueCountsOptions {
  /** Leave out nulls and NaN (default true); otherwise they are counted as one value. */
  dropna?: boolean;
  /** Order by count (default true); false keeps the order of first appearance. */
  sort?: boolean;
  /** Smallest counts first (default false). Equal counts are ordered by value, ascending, either way. */
  ascending?: boolean;
  /** A `proportion` column (count / total counted) instead of `count` (default false). */
  normalize?: boolean;
}

/** Types pandas' describe treats as numbers (bool is not one of them). */
const isNumberType = (t: ColumnMeta["type"]): boolean => isNumeric(t) || t === "int64" || t === "uint64";

function checkColumn(schema: Schema, name: string, what: string): ColumnMeta {
  const i = schema.names.indexOf(name);
  if (i < 0) throw new TesseraError(`${what}: no column ${JSON.stringify(name)}; columns are ${schema.names.map((n) => JSON.stringify(n)).join(", ")}`);
  return schema.types[i]!;
}

/** Reject object columns (lists, structs, decimals): their values have no identity to count. */
function checkHashable(name: string, m: ColumnMeta, what: string): void {
  if (m.type === "object") throw new TesseraError(`${what}: column ${JSON.stringify(name)} is an object column (lists, structs, decimals); its values cannot be compared`);
}

// ---- quantile summary -------------------------------------------------------------------------

/** Sorted values `v` with weights `w` (rows each stands for), `err` the rank-error bound E, `k` the target size. */
export interface QuantileSketch {
  v: Float64Array;
  w: Float64Array;
  err: number;
  k: number;
}

/** The summary of sorted values (owned: kept as is when there are at most k). */
export function sketchSorted(sorted: Float64Array, k: number): QuantileSketch {
  const n = sorted.length;
  if (n <= k) return { v: sorted, w: new Float64Array(n).fill(1), err: 0, k };
  const v = new Float64Array(k), w = new Float64Array(k);
  let start = 0, err = 0;
  for (let j = 1; j <= k; j++) {
    const end = Math.round((j * n) / k) - 1;
    const mid = (start + end) >>> 1;
    v[j - 1] = sorted[mid]!;
    w[j - 1] = end - start + 1;
    // A threshold inside this run is off by the rows on one side of its middle, at most.
    err = Math.max(err, mid - start, end - mid);
    start = end + 1;
  }
  return { v, w, err, k };
}

/** The union of summaries (their errors add), compressed when it holds more than 2k points. */
export function mergeSketches(parts: readonly QuantileSketch[]): QuantileSketch {
  if (parts.length === 1) return parts[0]!;
  const k = Math.max(...parts.map((p) => p.k));
  const n = parts.reduce((s, p) => s + p.v.length, 0);
  const allV = new Float64Array(n), allW = new Float64Array(n);
  let at = 0, err = 0;
  for (const p of parts) {
    allV.set(p.v, at);
    allW.set(p.w, at);
    at += p.v.length;
    err += p.err;
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => (allV[a]! < allV[b]! ? -1 : allV[a]! > allV[b]! ? 1 : a - b));
  const v = Float64Array.from(order, (i) => allV[i]!), w = Float64Array.from(order, (i) => allW[i]!);
  return n > 2 * k ? compress({ v, w, err, k }) : { v, w, err, k };
}

/**
 * Neighbouring points grouped up to W/k weight (a heavier point alone), each group kept as its
 * weighted median carrying the group's weight: a threshold inside a group is off by the weight
 * on one side of the median, at most W/2k. At most 2k + 1 groups remain.
 */
function compress(s: QuantileSketch): QuantileSketch {
  const n = s.v.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += s.w[i]!;
  const cap = total / s.k;
  const v: number[] = [], w: number[] = [];
  let added = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1, g = s.w[i]!;
    while (j < n && g + s.w[j]! <= cap) g += s.w[j++]!;
    let m = i, below = 0;
    while (below + s.w[m]! < g / 2) below += s.w[m++]!;
    added = Math.max(added, below, g - below - s.w[m]!);
    v.push(s.v[m]!);
    w.push(g);
    i = j;
  }
  return { v: Float64Array.from(v), w: Float64Array.from(w), err: s.err + added, k: s.k };
}

/** The q-quantile (pandas' linear interpolation) of the rows a summary stands for; NaN when empty. */
export function sketchQuantile(s: QuantileSketch, q: number): number {
  const n = s.v.length;
  if (n === 0) return NaN;
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cum[i] = total += s.w[i]!;
  // The point holding 0-based position p: the first whose cumulative weight exceeds p. It lies
  // between the exact order statistics at p - E and p + E.
  const at = (p: number): number => {
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > p) hi = mid;
      else lo = mid + 1;
    }
    return s.v[lo]!;
  };
  const h = (total - 1) * q;
  const lo = Math.floor(h), frac = h - lo;
  const a = at(lo);
  if (frac === 0) return a;
  const b = at(Math.min(lo + 1, total - 1));
  return a + frac * (b - a);
}

// ---- describe ---------------------------------------------------------------------------------

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

// ---- nunique, unique --------------------------------------------------------------------------

/**
 * A column's distinct non-missing values: strings by value; numbers (NaN left out) and 64-bit
 * integers as sorted typed arrays, so a union is a linear merge, not a Set of boxed numbers.
 */
type Distinct = string[] | Float64Array | BigInt64Array | BigUint64Array;

// The sorted-array helpers read bigint arrays through the Float64Array type: <, === and sort()
// behave alike on both, and the values never mix within one column.
type Sorted = Float64Array;

function dedupeSorted(a: Sorted): Sorted {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (m === 0 || a[i] !== a[m - 1]) a[m++] = a[i]!;
  return a.slice(0, m);
}

function mergeSorted(a: Sorted, b: Sorted): Sorted {
  const out = new (a.constructor as new (n: number) => Sorted)(a.length + b.length);
  let i = 0, j = 0, m = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!, y = b[j]!;
    if (x === y) (out[m++] = x), i++, j++;
    else if (x < y) (out[m++] = x), i++;
    else (out[m++] = y), j++;
  }
  while (i < a.length) out[m++] = a[i++]!;
  while (j < b.length) out[m++] = b[j++]!;
  return out.slice(0, m);
}

function distinctOf(c: Column): Distinct {
  if (c.type === "string") {
    const dict = c.dictionary ?? [];
    const used = new Uint8Array(dict.length);
    const codes = c.data as Int32Array;
    for (let i = 0; i < codes.length; i++) if (!c.valid || c.valid[i]) used[codes[i]!] = 1;
    return [...new Set(dict.filter((_, code) => used[code]))];
  }
  const d = c.data as unknown as Sorted;
  const bigints = c.type === "int64" || c.type === "uint64" || c.type === "timestamp";
  const out = bigints ? d.slice() : new Float64Array(d.length);
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    if (c.valid && !c.valid[i]) continue;
    const x = d[i]!;
    if (x !== x) continue; // NaN is missing, as pandas' isna
    out[m++] = x;
  }
  return dedupeSorted(out.subarray(0, m).sort());
}

function unionDistinct(parts: readonly Distinct[]): Distinct {
  if (Array.isArray(parts[0])) {
    const seen = new Set<string>();
    for (const p of parts as string[][]) for (const s of p) seen.add(s);
    return [...seen];
  }
  // Pairwise, so each value is copied log(parts) times.
  let level = parts as Sorted[];
  while (level.length > 1) {
    const next: Sorted[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? mergeSorted(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

registerOp("dataframe.nunique-partial", (spec: { columns: string[] }, frame: unknown) => {
  const f = asFrame(frame, "nunique");
  return Object.fromEntries(spec.columns.map((name) => [name, distinctOf(column(f, name, "nunique"))]));
});

registerOp("dataframe.nunique-combine", (...parts: Record<string, Distinct>[]) =>
  Object.fromEntries(Object.keys(parts[0]!).map((name) => [name, unionDistinct(parts.map((p) => p[name]!))])),
);

/** Distinct non-null (and non-NaN) values per column (all but object columns by default). */
export async function nunique(df: DataFrame, columns?: readonly string[]): Promise<Record<string, number>> {
  const schema = await df.schema();
  let names: string[];
  if (columns) {
    names = [...columns];
    if (names.length === 0) throw new TesseraError("nunique: name at least one column, or none for all");
    for (const n of names) checkHashable(n, checkColumn(schema, n, "nunique"), "nunique");
  } else {
    names = schema.names.filter((_, i) => schema.types[i]!.type !== "object");
    if (names.length === 0) return {};
  }
  const parts = await reducePartitions<Record<string, Distinct>>(df.select(names), "dataframe.nunique-partial", { columns: names }, "dataframe.nunique-combine");
  return Object.fromEntries(names.map((n) => [n, parts[n]!.length]));
}

const MISSING = Symbol("missing");

/** Rows of c holding a value for the first time (missing values, null or NaN, count as one value). */
function firstAppearances(c: Column): Int32Array {
  const rows: number[] = [];
  const seen = new Set<unknown>();
  const d = c.data as ArrayLike<unknown>;
  const dict = c.dictionary ?? [];
  for (let i = 0; i < d.length; i++) {
    let x: unknown = c.valid && !c.valid[i] ? MISSING : c.type === "string" ? dict[d[i] as number] : d[i];
    if (x !== x) x = MISSING;
    if (seen.has(x)) continue;
    seen.add(x);
    rows.push(i);
  }
  return Int32Array.from(rows);
}

function distinctRows(f: Frame): Frame {
  return takeRows(f, firstAppearances(f.columns[0]!));
}

registerOp("dataframe.unique-partial", (spec: { column: string }, frame: unknown) => {
  const f = asFrame(frame, "unique");
  return distinctRows({ length: f.length, names: [spec.column], columns: [column(f, spec.column, "unique")] });
});

// Partials arrive in partition order, so concatenating keeps the order of first appearance.
registerOp("dataframe.unique-combine", (...parts: unknown[]) => distinctRows(concatFrames(parts.map((p, i) => asFrame(p, `unique partial ${i}`)))));

/**
 * A column's distinct values as a one-column Arrow Table, in order of first appearance (in
 * partition order); a missing value (null, or NaN) is kept once, where it first appears, as pandas.
 */
export async function unique(df: DataFrame, name: string): Promise<Table> {
  if (typeof name !== "string") throw new TesseraError("unique: name one column");
  const schema = await df.schema();
  checkHashable(name, checkColumn(schema, name, "unique"), "unique");
  const f = await reducePartitions<Frame>(df.select(name), "dataframe.unique-partial", { column: name }, "dataframe.unique-combine");
  return frameToArrow(f);
}

// ---- valueCounts ------------------------------------------------------------------------------

/** An input planned when a computation starts (the groupby under it needs its source's schema). */
class ValueCountsInput extends PlannedInput {
  protected readonly verb = "valueCounts";
  constructor(
    private readonly df: DataFrame,
    private readonly name: string,
    private readonly options: Required<ValueCountsOptions>,
  ) {
    super();
  }

  protected async plan(): Promise<Plan> {
    await this.df[PREPARE]();
    const m = checkValueColumn(await this.df.schema(), this.name);
    const { dropna, sort, ascending, normalize } = this.options;
    // One output partition: the counts are sorted as a whole anyway, and a tree needs no
    // look at the partials first (groupby's "auto").
    const counted = this.df.groupby(this.name, { dropna, sort: false, splitOut: 1 }).agg({ [this.name]: ["size"] });
    await counted[PREPARE]();
    await counted.schema();
    const low = counted.lowered();
    const out = normalize ? "proportion" : "count";
    const spec = { column: this.name, size: `${this.name}_size`, out, sort, ascending };
    const name = `value-counts-${tokenize(low.name, spec)}`;
    const refs = Array.from({ length: low.npartitions }, (_, i) => new TaskRef(blockKey(low.name, [i])));
    const node = new Task(blockKey(name, [0]), "dataframe.value-counts-finish", [opSpec(spec), ...refs]);
    return {
      graph: low.graph.withLayer(new MaterializedLayer(name, [node], [low.name])),
      name,
      count: 1,
      schema: { names: [this.name, out], types: [{ ...m }, { type: normalize ? "float64" : "int64" }] },
      external: low.external,
    };
  }

  token(): string {
    return tokenize("value-counts", this.df.input.token(), this.df.steps, this.name, this.options);
  }
}

function checkValueColumn(schema: Schema, name: string): ColumnMeta {
  const m = checkColumn(schema, name, "valueCounts");
  checkHashable(name, m, "valueCounts");
  return m;
}

/** pandas' value_counts: `<column>` and `count` (or `proportion`), one row per distinct value. */
export function valueCounts(df: DataFrame, name: string, options: ValueCountsOptions = {}): DataFrame {
  if (typeof name !== "string") throw new TesseraError("valueCounts: name one column");
  const o: Required<ValueCountsOptions> = { dropna: options.dropna ?? true, sort: options.sort ?? true, ascending: options.ascending ?? false, normalize: options.normalize ?? false };
  const out = o.normalize ? "proportion" : "count";
  if (name === out) throw new TesseraError(`valueCounts: column ${JSON.stringify(name)} has the name of the result column ${JSON.stringify(out)}; rename it first`);
  if (df.input.prepared) checkValueColumn(deriveSchema(df.input.schema(), df.steps), name); // fail early where we can
  return new DataFrame(new ValueCountsInput(df, name, o));
}

registerOp("dataframe.value-counts-finish", (spec: { column: string; size: string; out: string; sort: boolean; ascending: boolean }, ...parts: unknown[]) => {
  const f = parts.length === 1 ? asFrame(parts[0], "valueCounts") : concatFrames(parts.map((p, i) => asFrame(p, `valueCounts partition ${i}`)));
  const sizes = column(f, spec.size, "valueCounts").data as BigInt64Array;
  let counts: Column = { type: "int64", data: sizes };
  if (spec.out === "proportion") {
    let total = 0;
    for (const s of sizes) total += Number(s);
    counts = { type: "float64", data: Float64Array.from(sizes, (s) => Number(s) / total) };
  }
  const frame = makeFrame([spec.column, spec.out], [column(f, spec.column, "valueCounts"), counts], f.length);
  if (!spec.sort || frame.length < 2) return frame;
  return withKernels((k) => takeRows(frame, argsortFrame(k, frame, [{ column: spec.out, ascending: spec.ascending }, { column: spec.column }])));
});
