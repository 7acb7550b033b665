/**
 * Reductions over a dataframe's partitions: a partial per partition, a combine tree
 * (graph/tree.ts), the answer on the client. Partials are small plain objects, so they travel
 * inline with worker reports.
 *
 * len() skips all of it when file metadata already knows the row counts (a Parquet dataset
 * read without filters). Column statistics follow pandas: nulls and NaN are skipped (skipna),
 * count counts the rest; var/std use ddof = 1 unless told otherwise (pandas' default, not
 * numpy's); partials keep (n, mean, M2) and combine with Chan's update, so the result does not
 * depend on how the rows are partitioned beyond rounding.
 */

import { COLLECTION, PREPARE, type Collection } from "../client/collection.js";
import { currentClient } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { checkSplitEvery, combineTree } from "../graph/tree.js";
import { opSpec } from "../graph/spec.js";
import { registerOp } from "../worker/registry.js";
import type { DataFrame } from "./dataframe.js";
import { asFrame, column, isNumeric, type Column } from "./frame.js";

/** Run `op(spec, partition)` on every partition and fold the results with `combine`. */
export async function reducePartitions<T>(df: DataFrame, op: string, spec: object, combine: string, splitEvery = 8): Promise<T> {
  await df[PREPARE]();
  const low = df.lowered();
  const token = tokenize(low.name, op, spec);
  const nodes: GraphNode[] = [];
  const partials: Key[] = [];
  for (let i = 0; i < low.npartitions; i++) {
    const key = blockKey(`${op.replace(/^dataframe\./, "")}-${token}`, [i]);
    nodes.push(new Task(key, op, [opSpec(spec), new TaskRef(blockKey(low.name, [i]))]));
    partials.push(key);
  }
  if (partials.length === 0) throw new TesseraError(`${op}: the dataframe has no partitions`);
  const root = combineTree(partials, `${combine.replace(/^dataframe\./, "")}-${token}`, combine, checkSplitEvery(splitEvery, op), nodes);
  const graph = low.graph.withLayer(new MaterializedLayer(`${op}-${token}`, nodes, [low.name]));
  const collection: Collection<T> = {
    [COLLECTION]: () => ({ graph, keys: [root], external: low.external, finalize: (v) => v[0] as T, rebuild: () => collection }),
  };
  return currentClient().compute(collection) as Promise<T>;
}

/** Run `op(spec_i, partition i)` on every partition; the results, in partition order. */
export async function eachPartition<T>(df: DataFrame, op: string, spec: (i: number) => object): Promise<T[]> {
  await df[PREPARE]();
  await df.schema(); // validates the steps
  const low = df.lowered();
  const token = tokenize(low.name, op, Array.from({ length: low.npartitions }, (_, i) => spec(i)));
  const name = `${op.replace(/^dataframe\./, "")}-${token}`;
  const nodes: GraphNode[] = [];
  const keys: Key[] = [];
  for (let i = 0; i < low.npartitions; i++) {
    const key = blockKey(name, [i]);
    nodes.push(new Task(key, op, [opSpec(spec(i)), new TaskRef(blockKey(low.name, [i]))]));
    keys.push(key);
  }
  const graph = low.graph.withLayer(new MaterializedLayer(name, nodes, [low.name]));
  const collection: Collection<T[]> = {
    [COLLECTION]: () => ({ graph, keys, external: low.external, finalize: (v) => v as T[], rebuild: () => collection }),
  };
  return currentClient().compute(collection);
}

export async function len(df: DataFrame): Promise<number> {
  await df.schema(); // prepares, and validates the steps
  const known = df.input.knownLengths?.(df.steps);
  if (known) return known.reduce((a, b) => a + b, 0);
  // Rows only: keep one cheap column, so a reader decodes just it and what the filters use.
  const out = await df.schema();
  const cheap = out.types.findIndex((t) => isNumeric(t.type) || t.type === "bool" || t.type === "date32");
  const narrow = out.names.length > 1 ? df.select(out.names[Math.max(0, cheap)]!) : df;
  return reducePartitions<number>(narrow, "dataframe.len-partial", {}, "dataframe.sum-numbers");
}

registerOp("dataframe.len-partial", (_spec: object, frame: unknown) => asFrame(frame, "len").length);
registerOp("dataframe.sum-numbers", (...xs: number[]) => xs.reduce((a, b) => a + b, 0));

/** Per column: rows counted (non-null, non-NaN), sum, min, max, mean, M2. */
export interface ColumnStats {
  n: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  m2: number;
}

function statsOf(c: Column): ColumnStats {
  const s: ColumnStats = { n: 0, sum: 0, min: Infinity, max: -Infinity, mean: 0, m2: 0 };
  const data = c.data as ArrayLike<number | bigint>;
  const valid = c.valid;
  for (let i = 0; i < data.length; i++) {
    if (valid && !valid[i]) continue;
    const x = Number(data[i]!);
    if (Number.isNaN(x)) continue;
    s.n++;
    s.sum += x;
    if (x < s.min) s.min = x;
    if (x > s.max) s.max = x;
    const d = x - s.mean;
    s.mean += d / s.n;
    s.m2 += d * (x - s.mean);
  }
  return s;
}

function mergeStats(a: ColumnStats, b: ColumnStats): ColumnStats {
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const n = a.n + b.n;
  const d = b.mean - a.mean;
  return { n, sum: a.sum + b.sum, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), mean: a.mean + (d * b.n) / n, m2: a.m2 + b.m2 + (d * d * a.n * b.n) / n };
}

registerOp("dataframe.stats-partial", (spec: { columns: string[] }, frame: unknown) => {
  const f = asFrame(frame, "stats");
  return Object.fromEntries(spec.columns.map((name) => [name, statsOf(column(f, name, "stats"))]));
});

registerOp("dataframe.stats-combine", (...parts: Record<string, ColumnStats>[]) => {
  const out: Record<string, ColumnStats> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = out[k] ? mergeStats(out[k]!, v) : v;
  return out;
});

export type StatName = "count" | "sum" | "mean" | "min" | "max" | "var" | "std";

/** Statistics of numeric columns (all numeric ones when `columns` is omitted). */
export async function columnStats(df: DataFrame, columns: readonly string[] | undefined, what: string): Promise<Record<string, ColumnStats>> {
  const schema = await df.schema();
  const numeric = schema.names.filter((_, i) => {
    const t = schema.types[i]!.type;
    return isNumeric(t) || t === "int64" || t === "uint64" || t === "bool";
  });
  const names = columns ? [...columns] : numeric;
  for (const n of names) {
    if (!schema.names.includes(n)) throw new TesseraError(`${what}: no column ${JSON.stringify(n)}; columns are ${schema.names.join(", ")}`);
    if (!numeric.includes(n)) throw new TesseraError(`${what}: column ${JSON.stringify(n)} is ${schema.types[schema.names.indexOf(n)]!.type}, not numeric`);
  }
  return reducePartitions(df, "dataframe.stats-partial", { columns: names }, "dataframe.stats-combine");
}

export function statValue(s: ColumnStats, stat: StatName, ddof = 1): number {
  switch (stat) {
    case "count":
      return s.n;
    case "sum":
      return s.sum;
    case "mean":
      return s.n ? s.mean : NaN;
    case "min":
      return s.n ? s.min : NaN;
    case "max":
      return s.n ? s.max : NaN;
    case "var":
      return s.n - ddof > 0 ? s.m2 / (s.n - ddof) : NaN;
    case "std":
      return s.n - ddof > 0 ? Math.sqrt(s.m2 / (s.n - ddof)) : NaN;
  }
}
