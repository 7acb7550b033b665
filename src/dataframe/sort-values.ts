/**
 * sortValues(by) and setIndex(column): a global sort across partitions by range shuffle, as
 * dask.dataframe does it.
 *
 *   1. prepare: every partition reports its first key's count, min, max and a few quantiles
 *      of a sample (a small computation, run before the main graph, like groupby's partials);
 *   2. the client merges the quantiles (weighted by each partition's count) into p - 1
 *      boundaries, dropping duplicates, so equal first-key values always land in one output
 *      partition and no output partition is empty (p may come out below the npartitions asked);
 *   3. every input partition is split into p pieces by range (sort-split -> Frame[]), piece j
 *      of each picked out (tessera.getitem) and concatenated in input order (concat-partitions);
 *   4. each output partition is sorted by all keys (argsortFrame: stable), so the whole result
 *      is the stable sort of the table, partition 0 first.
 *
 * When the statistics show the partitions already ordered and disjoint (time-ordered data), the
 * shuffle is skipped and each partition is sorted alone, as Dask's presorted path does. The
 * source runs twice (once for the statistics, once for the result) unless it is persisted.
 *
 * Nulls and NaN (pandas treats both as missing) sort last, or first with nullsFirst, for every
 * key; they ride to the last (first) output partition.
 *
 * setIndex: tessera has no index. setIndex(col) is sortValues(col) plus a record that the
 * result is sorted by `col` with known partition boundaries: divisions() then gives
 * `{ column, values }`, p + 1 values where partition i holds values[i] <= v < values[i + 1]
 * (the last partition also v = values[p]), and missing values sit at the end of the last
 * partition, outside the divisions. The column stays a column. With { sorted: true } the data
 * is trusted to be sorted already: nothing is shuffled, the statistics check that it is
 * (within partitions and across them) and give the divisions; empty partitions are dropped.
 * The record survives filters and steps that leave the column alone; it does not survive
 * persist() (which rebuilds the frame over plain keys) nor any step that rewrites the column.
 */

import { PREPARE } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { Alias, Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { opSpec } from "../graph/spec.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { DataFrame } from "./dataframe.js";
import { asFrame, column, takeRows, type Frame, type Schema } from "./frame.js";
import { KeysInput, PlannedInput, type Plan } from "./input.js";
import { argsortFrame, rangePartition, sampleQuantiles, splitByPartition, type ScalarValue, type SortKey } from "./kernels/index.js";
import { compareScalars, scalarAt } from "./kernels/sort.js";
import { dictionaryRanks, isMissingAt } from "./kernels/columns.js";
import { eachPartition } from "./reduce.js";
import { deriveSchema } from "./steps.js";

export interface SortValuesOptions {
  /** One flag, or one per key (default true). */
  ascending?: boolean | readonly boolean[];
  /** Nulls and NaN first (default false: last, as pandas' na_position="last"). */
  nullsFirst?: boolean;
  /** Output partitions, at most (default: as many as the input has). */
  npartitions?: number;
}

export interface SetIndexOptions {
  /** The data is already sorted by the column: check it and compute divisions, move nothing. */
  sorted?: boolean;
  /** Output partitions, at most (default: as many as the input has); ignored when sorted. */
  npartitions?: number;
}

/**
 * Partition boundaries of a frame sorted by `column` (see the header): values as the column
 * holds them (numbers; bigints for int64, uint64 and timestamps, in the column's unit; strings).
 */
export interface Divisions {
  column: string;
  values: ScalarValue[];
}

/** Quantiles each partition reports per output partition: enough to balance within a few %. */
const QUANTILES_PER_OUTPUT = 32;
const MAX_QUANTILES = 4097;

interface Request {
  keys: SortKey[];
  npartitions: number | null;
  /** setIndex: record divisions; "sorted" trusts (and checks) the existing order. */
  index: null | "sort" | "sorted";
  verb: string;
}

interface SortPlan extends Plan {
  divisions: Divisions | null;
}

/** What one partition says about the first key (the dataframe.sort-stats op). */
interface PartitionStats {
  rows: number;
  /** Rows with a value (not null, not NaN). */
  count: number;
  min: ScalarValue | null;
  max: ScalarValue | null;
  /** Values at evenly spaced quantiles of a sample (empty when count is 0). */
  quantiles: ScalarValue[];
  /** First row out of ascending order (nulls last), or -1; only when asked to check. */
  unsortedAt: number;
}

function checkNpartitions(n: number | undefined, verb: string): number | null {
  if (n === undefined) return null;
  if (!Number.isInteger(n) || n < 1) throw new TesseraError(`${verb}: npartitions must be a positive integer, got ${String(n)}`);
  return n;
}

function checkKeys(schema: Schema, keys: readonly SortKey[], verb: string): void {
  for (const k of keys) {
    const i = schema.names.indexOf(k.column);
    if (i < 0) throw new TesseraError(`${verb}: no column ${JSON.stringify(k.column)}; columns are ${schema.names.map((n) => JSON.stringify(n)).join(", ")}`);
    const t = schema.types[i]!.type;
    if (t === "object") throw new TesseraError(`${verb}: column ${JSON.stringify(k.column)} is an object column (lists, structs, decimals) and has no order; sort by numbers, strings, booleans, dates or timestamps`);
  }
}

/** Validate what can be validated now (the schema is known without I/O), else at prepare. */
function early(df: DataFrame, keys: readonly SortKey[], verb: string): void {
  if (df.input.prepared) checkKeys(deriveSchema(df.input.schema(), df.steps), keys, verb);
}

export function sortValues(df: DataFrame, by: string | readonly string[], options: SortValuesOptions = {}): DataFrame {
  const names = typeof by === "string" ? [by] : [...by];
  if (names.length === 0) throw new TesseraError("sortValues: name at least one column to sort by");
  if (names.some((n) => typeof n !== "string")) throw new TesseraError(`sortValues: columns must be names (strings), got ${JSON.stringify(names)}`);
  const asc = options.ascending ?? true;
  if (Array.isArray(asc) && asc.length !== names.length) {
    throw new TesseraError(`sortValues: ascending has ${asc.length} flags for ${names.length} columns (${names.map((n) => JSON.stringify(n)).join(", ")})`);
  }
  const nullsFirst = options.nullsFirst ?? false;
  const keys = names.map((column, i) => ({ column, ascending: typeof asc === "boolean" ? asc : (asc as readonly boolean[])[i]!, nullsFirst }));
  const npartitions = checkNpartitions(options.npartitions, "sortValues");
  early(df, keys, "sortValues");
  return new DataFrame(new SortInput(df, { keys, npartitions, index: null, verb: "sortValues" }));
}

export function setIndex(df: DataFrame, name: string, options: SetIndexOptions = {}): DataFrame {
  if (typeof name !== "string") throw new TesseraError(`setIndex: give one column name, got ${JSON.stringify(name)}`);
  const keys = [{ column: name, ascending: true, nullsFirst: false }];
  const npartitions = checkNpartitions(options.npartitions, "setIndex");
  early(df, keys, "setIndex");
  return new DataFrame(new SortInput(df, { keys, npartitions, index: options.sorted ? "sorted" : "sort", verb: "setIndex" }));
}

/** The divisions setIndex recorded, if the frame's steps left the column alone; else null. */
export async function divisions(df: DataFrame): Promise<Divisions | null> {
  await df[PREPARE]();
  return knownDivisions(df);
}

/** The divisions of a prepared dataframe: its input's, followed through its steps. */
export function knownDivisions(df: DataFrame): Divisions | null {
  const d = df.input instanceof SortInput ? df.input.divisions() : df.input instanceof KeysInput ? df.input.divisions : null;
  if (!d) return null;
  let name = d.column;
  for (const s of df.steps) {
    switch (s.kind) {
      case "filter":
      case "dropna":
        break; // fewer rows: the boundaries still bound every partition
      case "select":
        if (!s.columns.includes(name)) return null;
        break;
      case "rename":
        if (Object.hasOwn(s.mapping, name)) name = s.mapping[name]!;
        break;
      case "assign":
        if (s.columns.some((c) => c.name === name)) return null;
        break;
      case "astype":
        if (Object.hasOwn(s.types, name)) return null;
        break;
      case "fillna":
        if (Object.hasOwn(s.values, name)) return null;
        break;
    }
  }
  return { column: name, values: [...d.values] };
}

class SortInput extends PlannedInput<SortPlan> {
  protected readonly verb: string;
  constructor(
    private readonly df: DataFrame,
    private readonly request: Request,
  ) {
    super();
    this.verb = request.verb;
  }

  protected async plan(): Promise<SortPlan> {
    const { keys, verb, index } = this.request;
    await this.df[PREPARE]();
    const schema = await this.df.schema();
    checkKeys(schema, keys, verb);
    const low = this.df.lowered();
    const nin = low.npartitions;
    const first = keys[0]!;
    const nout = this.request.npartitions ?? Math.max(1, nin);
    const token = tokenize(low.name, this.request);
    const done = (graph: HighLevelGraph, name: string, count: number, divs: Divisions | null): SortPlan => ({ graph, name, count, schema, external: low.external, divisions: divs });
    if (nin === 0) return done(low.graph, low.name, 0, null);

    // One partition in, one out: nothing to learn first, unless setIndex wants divisions.
    const needStats = index !== null || nout > 1;
    const stats = needStats
      ? await eachPartition<PartitionStats>(this.df, "dataframe.sort-stats", () => ({
          column: first.column,
          quantiles: index === "sorted" ? 0 : Math.min(MAX_QUANTILES, QUANTILES_PER_OUTPUT * nout + 1),
          checkSorted: index === "sorted",
        }))
      : [];

    if (index === "sorted") {
      const { keep, divs } = checkPresorted(stats, first.column);
      const name = `set-index-sorted-${token}`;
      const nodes = keep.map((i, j) => new Alias(blockKey(name, [j]), blockKey(low.name, [i])));
      return done(low.graph.withLayer(new MaterializedLayer(name, nodes, [low.name])), name, nodes.length, divs);
    }

    const sortSpec = opSpec({ by: keys });
    const sortName = `sort-values-${token}`;
    const nodes: GraphNode[] = [];
    const divisionsOf = (values: ScalarValue[]): Divisions | null => (index !== null && values.length > 0 ? { column: first.column, values } : null);

    const presorted = needStats && this.request.npartitions === null ? disjointRanges(stats, first) : null;
    if (presorted || (nin === 1 && nout === 1)) {
      // Already in order across partitions: sort each one alone.
      for (let i = 0; i < nin; i++) nodes.push(new Task(blockKey(sortName, [i]), "dataframe.sort-partition", [sortSpec, new TaskRef(blockKey(low.name, [i]))]));
      const graph = low.graph.withLayer(new MaterializedLayer(sortName, nodes, [low.name]));
      return done(graph, sortName, nin, divisionsOf(presorted ?? rangeOf(stats)));
    }

    const bounds = needStats ? chooseBoundaries(stats, nout, first.ascending !== false) : [];
    const p = bounds.length + 1;
    const concatName = `sort-concat-${token}`;
    if (p === 1) {
      nodes.push(new Task(blockKey(concatName, [0]), "dataframe.concat-partitions", Array.from({ length: nin }, (_, i) => new TaskRef(blockKey(low.name, [i])))));
    } else {
      const splitName = `sort-split-${token}`;
      const pieceName = `sort-piece-${token}`;
      const splitSpec = opSpec({ column: first.column, boundaries: bounds, ascending: first.ascending !== false, nullsFirst: first.nullsFirst === true, n: p });
      for (let i = 0; i < nin; i++) {
        nodes.push(new Task(blockKey(splitName, [i]), "dataframe.sort-split", [splitSpec, new TaskRef(blockKey(low.name, [i]))]));
        for (let j = 0; j < p; j++) nodes.push(new Task(blockKey(pieceName, [i, j]), "tessera.getitem", [new TaskRef(blockKey(splitName, [i])), j]));
      }
      // Pieces in input order, so the stable local sort is a stable global sort.
      for (let j = 0; j < p; j++) {
        nodes.push(new Task(blockKey(concatName, [j]), "dataframe.concat-partitions", Array.from({ length: nin }, (_, i) => new TaskRef(blockKey(pieceName, [i, j])))));
      }
    }
    for (let j = 0; j < p; j++) nodes.push(new Task(blockKey(sortName, [j]), "dataframe.sort-partition", [sortSpec, new TaskRef(blockKey(concatName, [j]))]));
    const graph = low.graph.withLayer(new MaterializedLayer(sortName, nodes, [low.name]));
    const range = rangeOf(stats);
    return done(graph, sortName, p, divisionsOf(range.length ? [range[0]!, ...bounds, range[1]!] : []));
  }

  /** @internal the divisions recorded by setIndex (null for sortValues, or no values at all). */
  divisions(): Divisions | null {
    return this.ready().divisions;
  }
  token(): string {
    return tokenize(this.df.input.token(), this.df.steps, this.request);
  }
}

/** [min, max] of the first key over all partitions; empty when no row has a value. */
function rangeOf(stats: readonly PartitionStats[]): ScalarValue[] {
  let lo: ScalarValue | null = null, hi: ScalarValue | null = null;
  for (const s of stats) {
    if (s.count === 0) continue;
    if (lo === null || compareScalars(s.min!, lo) < 0) lo = s.min;
    if (hi === null || compareScalars(s.max!, hi) > 0) hi = s.max;
  }
  return lo === null ? [] : [lo, hi!];
}

/**
 * p - 1 boundaries (ascending or descending, as the first key sorts) at the weighted quantiles
 * of every partition's sampled quantiles, duplicates and the minimum itself dropped: each output
 * partition then starts at a value the data holds, so none is empty.
 */
function chooseBoundaries(stats: readonly PartitionStats[], p: number, ascending: boolean): ScalarValue[] {
  const points: { v: ScalarValue; w: number }[] = [];
  let total = 0;
  for (const s of stats) {
    if (s.count === 0 || s.quantiles.length === 0) continue;
    const w = s.count / s.quantiles.length;
    for (const v of s.quantiles) points.push({ v, w });
    total += s.count;
  }
  if (points.length === 0 || p === 1) return [];
  points.sort((a, b) => compareScalars(a.v, b.v));
  const [lo, hi] = rangeOf(stats) as [ScalarValue, ScalarValue];
  // Descending: boundaries cut the reversed order, so take quantiles from the top.
  const ordered = ascending ? points : [...points].reverse();
  const edge = ascending ? lo : hi;
  const out: ScalarValue[] = [];
  let at = 0, cum = 0;
  for (let j = 1; j < p; j++) {
    const target = (total * j) / p;
    while (at < ordered.length - 1 && cum + ordered[at]!.w < target) cum += ordered[at++]!.w;
    const v = ordered[at]!.v;
    if (compareScalars(v, edge) === 0) continue;
    if (out.length && compareScalars(v, out[out.length - 1]!) === 0) continue;
    out.push(v);
  }
  return out;
}

/**
 * When the partitions' ranges are disjoint and in order (and missing values only where the sort
 * puts them), the order of the partitions is already right: the divisions, else null.
 */
function disjointRanges(stats: readonly PartitionStats[], key: SortKey): ScalarValue[] | null {
  if (stats.length < 2) return null;
  const asc = key.ascending !== false;
  for (let i = 0; i < stats.length; i++) {
    const s = stats[i]!;
    if (s.count === 0) return null; // an empty or all-missing partition has no place in divisions
    const hasMissing = s.rows > s.count;
    if (hasMissing && i !== (key.nullsFirst ? 0 : stats.length - 1)) return null;
    if (i > 0) {
      const prev = stats[i - 1]!;
      if (asc ? compareScalars(prev.max!, s.min!) >= 0 : compareScalars(prev.min!, s.max!) <= 0) return null;
    }
  }
  if (!asc) return rangeOf(stats); // divisions are for setIndex, which sorts ascending
  return [...stats.map((s) => s.min!), stats[stats.length - 1]!.max!];
}

/** setIndex(sorted): check the order within and across partitions; keep the non-empty ones. */
function checkPresorted(stats: readonly PartitionStats[], name: string): { keep: number[]; divs: Divisions | null } {
  const col = JSON.stringify(name);
  const fix = `call setIndex(${col}) without sorted to sort it`;
  stats.forEach((s, i) => {
    if (s.unsortedAt >= 0) throw new TesseraError(`setIndex(sorted): partition ${i} is not sorted by ${col} at row ${s.unsortedAt} (values ascending, missing values only at the end); ${fix}`);
  });
  const keep = stats.flatMap((s, i) => (s.rows > 0 ? [i] : []));
  if (keep.length === 0) return { keep: [0], divs: null }; // all empty: one (empty) partition
  if (keep.every((i) => stats[i]!.count === 0)) return { keep, divs: null }; // no values: no divisions
  for (let j = 0; j < keep.length; j++) {
    const i = keep[j]!, s = stats[i]!;
    const last = j === keep.length - 1;
    if (s.count === 0 || (!last && s.rows > s.count)) {
      throw new TesseraError(`setIndex(sorted): partition ${i} has missing values in ${col}${last ? " only" : " and later partitions have values"}; known divisions need a value in every partition and missing values only at the end of the last; ${fix}`);
    }
    if (j > 0) {
      const p = stats[keep[j - 1]!]!;
      if (compareScalars(p.max!, s.min!) >= 0) {
        throw new TesseraError(`setIndex(sorted): partition ${i} starts at ${String(s.min)} in ${col}, not after the end of partition ${keep[j - 1]} (${String(p.max)}); equal values must share a partition: ${fix}`);
      }
    }
  }
  return { keep, divs: { column: name, values: [...keep.map((i) => stats[i]!.min!), stats[keep[keep.length - 1]!]!.max!] } };
}

// ---- worker ops ------------------------------------------------------------------------------

/** Count, min, max, sampled quantiles and (if asked) the first row out of order, of one column. */
function columnStats(f: Frame, name: string, quantiles: number, checkSorted: boolean): PartitionStats {
  const c = column(f, name, "sort statistics");
  const rows = c.data.length;
  // Strings compare by their rank in this partition's dictionary: integer compares per row.
  const ranks = c.type === "string" ? dictionaryRanks(c.dictionary ?? []) : null;
  const codes = c.data as Int32Array;
  const valueAt = ranks ? (i: number): ScalarValue => ranks.rank[codes[i]!]! : (i: number): ScalarValue => scalarAt(c, i)!;
  let count = 0, unsortedAt = -1, sawMissing = false;
  let min: ScalarValue | null = null, max: ScalarValue | null = null, prev: ScalarValue | null = null;
  for (let i = 0; i < rows; i++) {
    if (isMissingAt(c, i)) {
      sawMissing = true;
      continue;
    }
    const v = valueAt(i);
    count++;
    if (min === null || compareScalars(v, min) < 0) min = v;
    if (max === null || compareScalars(v, max) > 0) max = v;
    if (checkSorted && unsortedAt < 0 && (sawMissing || (prev !== null && compareScalars(v, prev) < 0))) unsortedAt = i;
    prev = v;
  }
  if (ranks && min !== null) {
    min = ranks.sorted[min as number]!;
    max = ranks.sorted[max as number]!;
  }
  const q = quantiles > 1 ? Array.from({ length: quantiles }, (_, k) => k / (quantiles - 1)) : [];
  return { rows, count, min, max, quantiles: count && q.length ? sampleQuantiles(f, name, q) : [], unsortedAt };
}

registerOp("dataframe.sort-stats", (spec: { column: string; quantiles: number; checkSorted: boolean }, frame: unknown) => {
  return columnStats(asFrame(frame, "sort statistics"), spec.column, spec.quantiles, spec.checkSorted);
});

registerOp("dataframe.sort-split", (spec: { column: string; boundaries: ScalarValue[]; ascending: boolean; nullsFirst: boolean; n: number }, frame: unknown): Frame[] => {
  const f = asFrame(frame, "sort split");
  return splitByPartition(f, rangePartition(f, spec.column, spec.boundaries, { ascending: spec.ascending, nullsFirst: spec.nullsFirst }), spec.n);
});

registerOp("dataframe.sort-partition", (spec: { by: SortKey[] }, frame: unknown) =>
  withKernels((k) => {
    const f = asFrame(frame, "sort partition");
    return takeRows(f, argsortFrame(k, f, spec.by));
  }),
);
