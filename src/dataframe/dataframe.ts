/**
 * DataFrame: a lazy, partitioned table (dask.dataframe). It is an input (where partitions come
 * from) plus a list of partition-wise steps; verbs that work per partition append a step, and
 * verbs that combine partitions (groupby, merge, sort, reductions) build a new input from this
 * one's lowered graph. Nothing runs until compute(), persist() or an eager verb (len, head,
 * reductions), each of which first prepares the inputs (reads file metadata) and then submits
 * one graph.
 *
 * The class is an index of verbs; each is a line that appends a step or calls its module.
 */

import type { Table } from "apache-arrow";
import { COLLECTION, PREPARE, type Collection, type CollectionSpec } from "../client/collection.js";
import { currentClient, type ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph } from "../graph/layers.js";
import { blockKey, type Key } from "../graph/task.js";
import { toNode, type ColExpr, type Literal } from "./expr.js";
import { allocColumnData, concatFrames, type ColumnType, type Frame, type Schema } from "./frame.js";
import { KeysInput, type Input, type Lowered } from "./input.js";
import { frameToArrow } from "./io/arrow.js";
import { deriveSchema, type Step } from "./steps.js";
import { columnStats, len, statValue, type StatName } from "./reduce.js";
import { head, tail } from "./head.js";
import { GroupBy, type GroupbyOptions } from "./groupby.js";
import { join, merge, type JoinOptions, type MergeOptions } from "./merge.js";
import { describe, nunique, unique, valueCounts, type DescribeOptions, type ValueCountsOptions } from "./summary.js";
import { repartition, type RepartitionOptions } from "./partitions.js";
import { divisions, knownDivisions, setIndex, sortValues, type Divisions, type SetIndexOptions, type SortValuesOptions } from "./sort-values.js";
import { categorize, getDummies, type GetDummiesOptions } from "./dummies.js";
import type { CsvWriteOptions, ParquetWriteOptions } from "./io/writers.js";
import { toArrow, toCsv, toParquet } from "./write.js";

export interface DropnaOptions {
  /** Only these columns count (default: all). */
  subset?: string[];
  /** Drop a row when any (default) or all of the columns are null. */
  how?: "any" | "all";
}

export class DataFrame implements Collection<Table> {
  /** @internal made by readers and verbs */
  constructor(
    readonly input: Input,
    readonly steps: readonly Step[] = [],
    /** Futures that keep persisted partitions alive while this dataframe exists. */
    private readonly anchors: readonly { key: Key }[] = [],
  ) {}

  private with(step: Step): DataFrame {
    const df = new DataFrame(this.input, [...this.steps, step], this.anchors);
    if (this.input.prepared) deriveSchema(this.input.schema(), df.steps); // fail early where we can
    return df;
  }

  // ---- partition-wise verbs ---------------------------------------------------------------

  /** Keep these columns, in this order. */
  select(...columns: (string | readonly string[])[]): DataFrame {
    const names = columns.flat();
    if (names.length === 0) throw new TesseraError("select: name at least one column");
    return this.with({ kind: "select", columns: names });
  }

  /** Rows where the predicate is true (nulls count as false). */
  filter(predicate: ColExpr): DataFrame {
    return this.with({ kind: "filter", predicate: toNode(predicate) });
  }

  /** Add or replace columns: `assign({ z: col("a").mul(col("b")) })`. */
  assign(columns: Record<string, ColExpr | Literal>): DataFrame {
    const entries = Object.entries(columns);
    if (entries.length === 0) throw new TesseraError("assign: give at least one column");
    return this.with({ kind: "assign", columns: entries.map(([name, e]) => ({ name, expr: toNode(e) })) });
  }

  withColumn(name: string, expr: ColExpr | Literal): DataFrame {
    return this.assign({ [name]: expr });
  }

  rename(mapping: Record<string, string>): DataFrame {
    return this.with({ kind: "rename", mapping: { ...mapping } });
  }

  /** Change column types; integer targets check every value fits (overflow is an error). */
  astype(types: Record<string, ColumnType>): DataFrame {
    return this.with({ kind: "astype", types: { ...types } });
  }

  /** Replace nulls: one value per column. */
  fillna(values: Record<string, Literal>): DataFrame {
    return this.with({ kind: "fillna", values: { ...values } });
  }

  dropna(options: DropnaOptions = {}): DataFrame {
    return this.with({ kind: "dropna", subset: options.subset ?? null, how: options.how ?? "any" });
  }

  // ---- verbs that combine partitions ---------------------------------------------------------

  /** Group rows by key columns; aggregate with `.agg({ col: ["sum", "mean"] })`. */
  groupby(by: string | readonly string[], options: GroupbyOptions = {}): GroupBy {
    return new GroupBy(this, typeof by === "string" ? [by] : [...by], options);
  }

  /** `{ npartitions }` (merge or split evenly) or `{ partitionSize: "100MB" }` (computes the partitions to size them). */
  repartition(options: number | RepartitionOptions): DataFrame {
    return repartition(this, options);
  }

  // ---- merge / join (merge.ts) ----

  /** Rows of this and `right` paired on equal keys (pandas' merge; nulls never match). */
  merge(right: DataFrame, options?: MergeOptions): DataFrame {
    return merge(this, right, options);
  }

  /** merge with pandas' join defaults: how "left", overlapping names need lsuffix/rsuffix. */
  join(right: DataFrame, options?: JoinOptions): DataFrame {
    return join(this, right, options);
  }

  // ---- sorting, dummies (sort-values.ts, dummies.ts) ----

  /** Rows sorted by `by` across all partitions, partition 0 first (a stable sort; nulls and NaN last unless nullsFirst). */
  sortValues(by: string | readonly string[], options: SortValuesOptions = {}): DataFrame {
    return sortValues(this, by, options);
  }

  /** sortValues(column), recording the partition boundaries (divisions); `sorted: true` trusts and checks the existing order. */
  setIndex(column: string, options: SetIndexOptions = {}): DataFrame {
    return setIndex(this, column, options);
  }

  /** The partition boundaries setIndex recorded, `{ column, values }`, or null when unknown. */
  divisions(): Promise<Divisions | null> {
    return divisions(this);
  }

  /** Give string columns (all, or `columns`) one sorted dictionary shared by every partition. */
  categorize(columns?: readonly string[]): DataFrame {
    return categorize(this, columns);
  }

  /** One-hot encode string columns: `<column>_<category>` 0/1 columns (pandas' get_dummies). */
  getDummies(columns?: readonly string[], options: GetDummiesOptions = {}): DataFrame {
    return getDummies(this, columns, options);
  }


  // ---- summaries (summary.ts) ----

  /** pandas' describe: count, mean, std, min, percentiles (approximate, see quantile-sketch.ts), max of numeric columns; count, unique, top, freq where there are none. */
  describe(columns?: string[], options?: DescribeOptions): Promise<Table> {
    return describe(this, columns, options);
  }

  /** Rows per distinct value of a column, most frequent first: columns `<column>` and `count` (or `proportion`). */
  valueCounts(column: string, options?: ValueCountsOptions): DataFrame {
    return valueCounts(this, column, options);
  }

  /** Distinct non-null values per column (NaN counts as null). */
  nunique(columns?: string[]): Promise<Record<string, number>> {
    return nunique(this, columns);
  }

  /** A column's distinct values in order of first appearance, as a one-column table (a null kept once). */
  unique(column: string): Promise<Table> {
    return unique(this, column);
  }

  // ---- writing ----------------------------------------------------------------------------

  /** One Parquet file per partition, `dir/part.<i>.parquet`; without a dir, each file's bytes. */
  toParquet(dir?: string | null, options?: ParquetWriteOptions): Promise<string[] | Uint8Array[]> {
    return toParquet(this, dir, options);
  }

  /** One CSV file per partition (`out-*.csv`, or `dir/<i>.part`); without a path, each file's bytes. */
  toCsv(path?: string | null, options?: CsvWriteOptions): Promise<string[] | Uint8Array[]> {
    return toCsv(this, path, options);
  }

  /** Arrow IPC stream bytes, a record batch per partition. */
  toArrow(): Promise<Uint8Array> {
    return toArrow(this);
  }

  // ---- eager answers (each runs one graph) ----------------------------------------------------

  /** Number of rows (from file metadata when no step changes it). */
  len(): Promise<number> {
    return len(this);
  }

  /** The first n rows, reading only as many partitions as needed. */
  head(n = 5): Promise<Table> {
    return head(this, n);
  }

  /** The last n rows, reading only as many partitions (from the end) as needed. */
  tail(n = 5): Promise<Table> {
    return tail(this, n);
  }

  sum(columns?: string[]): Promise<Record<string, number>> {
    return this.stat("sum", columns);
  }
  mean(columns?: string[]): Promise<Record<string, number>> {
    return this.stat("mean", columns);
  }
  min(columns?: string[]): Promise<Record<string, number>> {
    return this.stat("min", columns);
  }
  max(columns?: string[]): Promise<Record<string, number>> {
    return this.stat("max", columns);
  }
  /** Non-null values per column. */
  count(columns?: string[]): Promise<Record<string, number>> {
    return this.stat("count", columns);
  }
  var(columns?: string[], ddof = 1): Promise<Record<string, number>> {
    return this.stat("var", columns, ddof);
  }
  std(columns?: string[], ddof = 1): Promise<Record<string, number>> {
    return this.stat("std", columns, ddof);
  }

  private async stat(stat: StatName, columns: string[] | undefined, ddof = 1): Promise<Record<string, number>> {
    const stats = await columnStats(this, columns, stat);
    return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, statValue(v, stat, ddof)]));
  }

  // ---- metadata ---------------------------------------------------------------------------

  /** Column names and types (reads file metadata the first time). */
  async schema(): Promise<Schema> {
    await this[PREPARE]();
    return deriveSchema(this.input.schema(), this.steps);
  }

  async columns(): Promise<string[]> {
    return (await this.schema()).names;
  }

  async npartitions(): Promise<number> {
    await this[PREPARE]();
    return this.input.npartitions();
  }

  // ---- running ------------------------------------------------------------------------------

  /** Every partition, as one Arrow Table. */
  compute(options?: ComputeOptions): Promise<Table> {
    return currentClient().compute(this, options);
  }

  /** Compute the partitions and keep them on the workers. */
  async persist(options?: ComputeOptions): Promise<DataFrame> {
    await this[PREPARE]();
    const client = currentClient();
    const persisted = client.persist(this, options);
    await Promise.all(persisted.anchors.map((f) => (f as { wait?(): Promise<void> }).wait?.()));
    return persisted;
  }

  /** @internal the graph of this dataframe's partitions (inputs prepared). */
  lowered(): Lowered {
    return this.input.lower(this.steps);
  }

  async [PREPARE](): Promise<void> {
    await this.input.prepare();
  }

  [COLLECTION](): CollectionSpec<Table> {
    const low = this.lowered();
    const schema = deriveSchema(this.input.schema(), this.steps);
    const keys = Array.from({ length: low.npartitions }, (_, i) => blockKey(low.name, [i]));
    return {
      graph: low.graph,
      keys,
      external: [...low.external, ...this.anchors.map((a) => a.key)],
      finalize: (values) => frameToArrow(values.length === 0 ? emptyFrame(schema) : concatFrames(values as Frame[])),
      rebuild: (futures) => new DataFrame(new KeysInput(new HighLevelGraph(), low.name, keys.length, schema, futures.map((f) => f.key), knownDivisions(this)), [], futures),
    };
  }

  toString(): string {
    return `DataFrame<${this.input.token()}${this.steps.length ? ` + ${this.steps.length} step(s)` : ""}>`;
  }
}

function emptyFrame(schema: Schema): Frame {
  return { length: 0, names: [...schema.names], columns: schema.types.map((t) => ({ ...t, data: allocColumnData(t.type, 0) })) };
}
