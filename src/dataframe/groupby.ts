/**
 * groupby(keys).agg({ col: [...] }) (dask.dataframe's groupby-aggregate): a wasm hash aggregate
 * of each partition into partial states (kernels/groupby.ts), the partials combined by a tree,
 * then finalized into key columns plus `<column>_<agg>` columns.
 *
 *   partition_i --partial--> partial_i --combine tree--> partial --finalize--> result (1 partition)
 *
 * High cardinality (splitOut > 1): each partial is hash-partitioned by key into splitOut
 * pieces, piece j of every partial is combined and finalized into output partition j, so no
 * single task holds every group. With splitOut "auto" (the default) the partials are computed
 * first, with their row counts and (a bet on few groups) the tree's result, in one graph, and
 * kept on the workers until the result's graph is built; their sizes (groups per partition)
 * decide: up to AUTO_GROUPS partial rows in all, the tree, already under way; beyond, the tree's
 * result is given up and there is one output partition per AUTO_GROUPS rows. Output
 * partitions are each sorted by key (sort: true), not sorted across partitions.
 *
 * The source is projected to the key and value columns first, so a Parquet source reads only
 * those columns.
 */

import { COLLECTION, PREPARE, type Collection } from "../client/collection.js";
import { currentClient } from "../client/current.js";
import type { Future } from "../client/future.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { combineTree } from "../graph/tree.js";
import { opSpec } from "../graph/spec.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { DataFrame } from "./dataframe.js";
import { asFrame, type ColumnMeta, type Frame, type Schema } from "./frame.js";
import type { LazyData } from "./kernels/wasm.js";
import { PlannedInput, type Lowered, type Plan } from "./input.js";
import { AGG_NAMES, combineGroupbyPartials, finalizeGroupby, groupbyPartial, hashPartition, splitByPartition, type AggName, type GroupbyAggs } from "./kernels/index.js";
import { applyStepsMasked, maskable, neededColumns, type Step } from "./steps.js";
import { BlockScope } from "./kernels/block-eval.js";

export interface GroupbyOptions {
  /** Drop rows whose key is null or NaN (default true, as pandas). */
  dropna?: boolean;
  /** Sort the groups by key within each output partition (default true). */
  sort?: boolean;
  /** Output partitions: 1 (a tree reduction), n (a hash shuffle), or "auto" (default: by the number of groups). */
  splitOut?: number | "auto";
  /** Partials combined per tree node (default 8). */
  splitEvery?: number;
}

export interface AggOptions {
  /** Delta degrees of freedom of var and std (default 1, as pandas). */
  ddof?: number;
}

export type AggSpec = Record<string, AggName | readonly AggName[]>;

/** Partial rows (all partitions together) up to which one tree reduces them; more are shuffled. */
export const AUTO_GROUPS = 1 << 20;

const NUMERIC = new Set(["float64", "float32", "int8", "int16", "int32", "uint8", "uint16", "uint32", "int64", "uint64", "bool"]);
const ORDERED = new Set([...NUMERIC, "string", "timestamp", "date32"]);

/** Which columns an aggregation applies to when none are named (pandas' numeric_only-like defaults). */
function accepts(agg: AggName, type: string): boolean {
  if (agg === "sum" || agg === "mean" || agg === "var" || agg === "std") return NUMERIC.has(type);
  if (agg === "min" || agg === "max") return ORDERED.has(type);
  return type !== "object";
}

/** The result column's type for `agg` of a column of type `m` (finalize.ts's rules). */
function aggMeta(agg: AggName, m: ColumnMeta): ColumnMeta {
  switch (agg) {
    case "count":
    case "size":
    case "nunique":
      return { type: "int64" };
    case "sum":
      return m.type === "float64" || m.type === "float32" ? { type: "float64" } : m.type === "uint64" ? { type: "uint64" } : { type: "int64" };
    case "mean":
    case "var":
    case "std":
      return { type: "float64" };
    default:
      return { ...m };
  }
}

export class GroupBy {
  /** @internal made by DataFrame.groupby */
  constructor(
    private readonly df: DataFrame,
    private readonly by: readonly string[],
    private readonly options: GroupbyOptions,
  ) {
    if (by.length === 0) throw new TesseraError("groupby: name at least one key column");
    const o = options;
    if (o.splitOut !== undefined && o.splitOut !== "auto" && (!Number.isInteger(o.splitOut) || o.splitOut < 1)) {
      throw new TesseraError(`groupby: splitOut must be a positive integer or "auto", got ${String(o.splitOut)}`);
    }
    if (o.splitEvery !== undefined && (!Number.isInteger(o.splitEvery) || o.splitEvery < 2)) {
      throw new TesseraError(`groupby: splitEvery must be an integer >= 2, got ${o.splitEvery}`);
    }
  }

  /** `{ column: ["sum", "mean"] }` -> key columns, then `<column>_<agg>` per aggregation. */
  agg(spec: AggSpec, options: AggOptions = {}): DataFrame {
    if (spec === null || typeof spec !== "object" || Object.keys(spec).length === 0) {
      throw new TesseraError('groupby.agg: give { column: ["sum", ...] } with at least one column');
    }
    const aggs: Record<string, AggName[]> = {};
    for (const [name, list] of Object.entries(spec)) {
      const names = typeof list === "string" ? [list] : [...list];
      if (names.length === 0) throw new TesseraError(`groupby.agg: column ${JSON.stringify(name)} has no aggregations`);
      for (const a of names) {
        if (!AGG_NAMES.includes(a)) throw new TesseraError(`groupby.agg: unknown aggregation ${JSON.stringify(a)} for column ${JSON.stringify(name)}; expected one of ${AGG_NAMES.join(", ")}`);
      }
      aggs[name] = names;
    }
    return new DataFrame(new GroupbyInput(this.df, this.by, { kind: "spec", aggs }, this.options, options.ddof ?? 1));
  }

  /** One aggregation of every column it applies to (all non-key columns, or `columns`). */
  private all(agg: AggName, columns?: readonly string[], ddof = 1): DataFrame {
    return new DataFrame(new GroupbyInput(this.df, this.by, { kind: "all", agg, columns: columns ? [...columns] : null }, this.options, ddof));
  }

  sum(columns?: readonly string[]): DataFrame {
    return this.all("sum", columns);
  }
  mean(columns?: readonly string[]): DataFrame {
    return this.all("mean", columns);
  }
  min(columns?: readonly string[]): DataFrame {
    return this.all("min", columns);
  }
  max(columns?: readonly string[]): DataFrame {
    return this.all("max", columns);
  }
  count(columns?: readonly string[]): DataFrame {
    return this.all("count", columns);
  }
  first(columns?: readonly string[]): DataFrame {
    return this.all("first", columns);
  }
  last(columns?: readonly string[]): DataFrame {
    return this.all("last", columns);
  }
  nunique(columns?: readonly string[]): DataFrame {
    return this.all("nunique", columns);
  }
  var(columns?: readonly string[], ddof = 1): DataFrame {
    return this.all("var", columns, ddof);
  }
  std(columns?: readonly string[], ddof = 1): DataFrame {
    return this.all("std", columns, ddof);
  }
  /** Rows per group (nulls included), as a column named `size`. */
  size(): DataFrame {
    const key = this.by[0]!;
    return this.agg({ [key]: ["size"] }).rename({ [`${key}_size`]: "size" });
  }
}

type AggRequest = { kind: "spec"; aggs: Record<string, AggName[]> } | { kind: "all"; agg: AggName; columns: string[] | null };

class GroupbyInput extends PlannedInput {
  protected readonly verb = "groupby";
  /**
   * Partials computed to choose splitOut, held on the workers until the result's graph is first
   * built; a later computation of the result computes them again (the plan's graph has their tasks).
   */
  private held: Future<unknown>[] | undefined;
  constructor(
    private readonly df: DataFrame,
    private readonly by: readonly string[],
    private readonly request: AggRequest,
    private readonly options: GroupbyOptions,
    private readonly ddof: number,
  ) {
    super();
  }

  private resolveAggs(schema: Schema): GroupbyAggs {
    const metaOf = (name: string, where: string): ColumnMeta => {
      const i = schema.names.indexOf(name);
      if (i < 0) throw new TesseraError(`groupby: ${where} ${JSON.stringify(name)} is not a column; columns are ${schema.names.map((n) => JSON.stringify(n)).join(", ")}`);
      return schema.types[i]!;
    };
    for (const k of this.by) {
      const m = metaOf(k, "key");
      if (m.type === "object") throw new TesseraError(`groupby: key ${JSON.stringify(k)} is an object column (lists, structs, decimals); group by numbers, strings, booleans or timestamps`);
    }
    if (this.request.kind === "spec") {
      for (const name of Object.keys(this.request.aggs)) metaOf(name, "aggregated column");
      return this.request.aggs;
    }
    const { agg, columns } = this.request;
    const names = columns ?? schema.names.filter((n) => !this.by.includes(n) && accepts(agg, metaOf(n, "column").type));
    if (names.length === 0) throw new TesseraError(`groupby.${agg}: no column to aggregate (every column is a key or cannot take the ${agg})`);
    return Object.fromEntries(names.map((n) => (metaOf(n, "aggregated column"), [n, [agg]])));
  }

  protected async plan(): Promise<Plan> {
    await this.df[PREPARE]();
    const input = await this.df.schema();
    const aggs = this.resolveAggs(input);
    const meta = (n: string) => input.types[input.names.indexOf(n)]!;
    const names = [...this.by];
    const types = this.by.map((k) => ({ ...meta(k) }));
    for (const [name, list] of Object.entries(aggs)) {
      for (const agg of list) {
        const t = meta(name).type;
        if (agg !== "size" && !accepts(agg, t)) throw new TesseraError(`groupby: cannot take the ${agg} of column ${JSON.stringify(name)} (type ${t})`);
        const out = `${name}_${agg}`;
        if (names.includes(out)) throw new TesseraError(`groupby: result column ${JSON.stringify(out)} is also a key or requested twice`);
        names.push(out);
        types.push(aggMeta(agg, meta(name)));
      }
    }
    const schema: Schema = { names, types };

    // Read only the keys and the aggregated columns.
    const used = [...new Set([...this.by, ...Object.keys(aggs)])];
    const dropna = this.options.dropna ?? true;
    let low: Lowered;
    let steps: Step[] | null = null;
    if (dropna && this.df.steps.some((s) => s.kind === "filter" || s.kind === "assign") && maskable(this.df.steps)) {
      // The steps run inside the partial: filters become a row mask it applies as it groups
      // (masked rows dropped like null keys), so the rows that pass are never copied, and
      // assigned columns that only sums read are computed a block at a time. The source reads
      // what the steps need.
      steps = [...this.df.steps, { kind: "select", columns: used }];
      const base = this.df.input.schema();
      const need = neededColumns(base, steps, null);
      low = new DataFrame(this.df.input, need.length < base.names.length ? [{ kind: "select", columns: need }] : []).lowered();
    } else {
      low = (used.length < input.names.length ? this.df.select(used) : this.df).lowered();
    }
    const token = tokenize(low.name, steps, this.by, aggs, dropna, this.options.sort ?? true, this.ddof);
    const partialName = `groupby-partial-${token}`;
    const nodes: GraphNode[] = [];
    const partialSpec = opSpec(steps ? { by: this.by, aggs, dropna, steps } : { by: this.by, aggs, dropna });
    for (let i = 0; i < low.npartitions; i++) {
      nodes.push(new Task(blockKey(partialName, [i]), "dataframe.groupby-partial", [partialSpec, new TaskRef(blockKey(low.name, [i]))]));
    }
    let graph = low.graph.withLayer(new MaterializedLayer(partialName, nodes, [low.name]));
    const external = low.external;
    const partials = Array.from({ length: low.npartitions }, (_, i) => blockKey(partialName, [i]));
    const finalSpec = opSpec({ aggs, sort: this.options.sort ?? true, ddof: this.ddof });
    const splitEvery = this.options.splitEvery ?? 8;
    const combineAll = (outName: string): GraphNode[] => {
      const out: GraphNode[] = [];
      const root = combineTree(partials, `groupby-combine-${token}`, "dataframe.groupby-combine", splitEvery, out);
      out.push(new Task(blockKey(outName, [0]), "dataframe.groupby-finalize", [finalSpec, new TaskRef(root)]));
      return out;
    };
    let splitOut = this.options.splitOut ?? "auto";
    if (splitOut === "auto") {
      splitOut = 1;
      if (low.npartitions > 1) {
        // The one-piece result goes with the partials, betting on few groups (the common case):
        // then it is computing, or done, by the time the counts say so, and the result's graph
        // finds it; with many groups it is given up and the split graph built.
        const oneName = `groupby-${tokenize(token, 1)}`;
        const bet = new MaterializedLayer(oneName, combineAll(oneName), [partialName]);
        const total = await this.persistPartials(graph, partialName, low.npartitions, external, bet);
        if (total > AUTO_GROUPS) splitOut = Math.min(low.npartitions, Math.ceil(total / AUTO_GROUPS));
      }
    }
    const outName = `groupby-${tokenize(token, splitOut)}`;
    let out: GraphNode[] = [];
    if (splitOut === 1) {
      out = combineAll(outName);
    } else {
      // The split count goes into the token (in hex), so the key prefix stays "groupby-split".
      const tag = `${token}${splitOut.toString(16)}`;
      const splitName = `groupby-split-${tag}`;
      const pieceName = `groupby-piece-${tag}`;
      const splitSpec = opSpec({ by: this.by, n: splitOut });
      partials.forEach((p, i) => out.push(new Task(blockKey(splitName, [i]), "dataframe.groupby-split", [splitSpec, new TaskRef(p)])));
      for (let j = 0; j < splitOut; j++) {
        const pieces = partials.map((_, i) => {
          const key = blockKey(pieceName, [i, j]);
          out.push(new Task(key, "tessera.getitem", [new TaskRef(blockKey(splitName, [i])), j]));
          return key;
        });
        const root = combineTree(pieces, `groupby-combine-${tag}`, "dataframe.groupby-combine", splitEvery, out, [j]);
        out.push(new Task(blockKey(outName, [j]), "dataframe.groupby-finalize", [finalSpec, new TaskRef(root)]));
      }
    }
    graph = graph.withLayer(new MaterializedLayer(outName, out, [partialName]));
    return { graph, name: outName, count: splitOut, schema, external };
  }

  /**
   * splitOut "auto": compute the partials and keep them on the workers, with each one's row count
   * (a small value the scheduler holds, so reading it costs no trip to a worker), in one graph.
   * Returns the partial rows in all. The partials stay held until the result's graph is built
   * (lower), so that graph reads them instead of computing them again; so does `bet`, the
   * one-piece result, unless the rows say to split (then it is released at once).
   */
  private async persistPartials(graph: HighLevelGraph, partialName: string, n: number, external: Key[], bet: MaterializedLayer): Promise<number> {
    const partials = Array.from({ length: n }, (_, i) => blockKey(partialName, [i]));
    const lengthName = `groupby-length-${partialName}`;
    const spec = opSpec({});
    const lengths = partials.map((p, i) => new Task(blockKey(lengthName, [i]), "dataframe.frame-length", [spec, new TaskRef(p)]));
    const g = graph.withLayer(new MaterializedLayer(lengthName, lengths, [partialName])).withLayer(bet);
    const betKey = blockKey(bet.name, [0]);
    let futures: Future<unknown>[] = [];
    const c: Collection<unknown> = {
      [COLLECTION]: () => ({
        graph: g,
        keys: [...partials, betKey, ...lengths.map((t) => t.key)],
        external,
        finalize: (v) => v,
        rebuild: (fs) => ((futures = fs as Future<unknown>[]), c),
      }),
    };
    const client = currentClient();
    client.persist(c);
    const held = futures.slice(0, n + 1);
    const counts = futures.slice(n + 1);
    try {
      const sizes = (await client.gather(counts)) as number[];
      const total = sizes.reduce((a, b) => a + b, 0);
      // Lost bet: let the one-piece result go now (its tasks are cancelled), keep the partials.
      if (total > AUTO_GROUPS) held.pop()!.release();
      this.releaseHeld();
      this.held = held;
      return total;
    } catch (err) {
      for (const f of held) f.release();
      throw err;
    } finally {
      for (const f of counts) f.release();
    }
  }

  /** Let go of the held partials: after this macrotask, so a graph being submitted now still reads them. */
  private releaseHeld(later = false): void {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    if (later) setTimeout(() => held.forEach((f) => f.release()), 0);
    else held.forEach((f) => f.release());
  }

  token(): string {
    return tokenize(this.df.input.token(), this.df.steps, this.by, this.request, this.options, this.ddof);
  }
  override lower(steps: readonly Step[]): Lowered {
    const low = super.lower(steps);
    this.releaseHeld(true);
    return low;
  }
}

/** Aggregations whose state ops read their column only through block readers (kernels/ops.ts). */
const BLOCKWISE = new Set<AggName>(["sum", "mean", "count", "var", "std"]);

registerOp("dataframe.groupby-partial", (spec: { by: string[]; aggs: GroupbyAggs; dropna: boolean; steps?: Step[] }, frame: unknown) =>
  withKernels((k) => {
    let f = asFrame(frame, "groupby");
    let rows: Uint8Array | LazyData | null = null;
    if (spec.steps) {
      // Columns the steps assign that only sums, means, counts and variances read: evaluated a
      // block at a time as the kernels read them (steps.ts).
      const lazy = new Set(Object.entries(spec.aggs).filter(([name, list]) => !spec.by.includes(name) && list.every((a) => BLOCKWISE.has(a))).map(([name]) => name));
      // Filters and those columns computed in wasm memory where they can be (block-eval.ts).
      const scope = new BlockScope(k);
      try {
        ({ frame: f, mask: rows } = applyStepsMasked(f, spec.steps, lazy, true, scope));
        return groupbyPartial(k, f, spec.by, spec.aggs, { dropna: spec.dropna, rows });
      } finally {
        scope.free();
      }
    }
    return groupbyPartial(k, f, spec.by, spec.aggs, { dropna: spec.dropna, rows });
  }),
);

registerOp("dataframe.groupby-combine", (...partials: unknown[]) =>
  withKernels((k) => combineGroupbyPartials(k, partials.map((p, i) => asFrame(p, `groupby partial ${i}`)))),
);

registerOp("dataframe.groupby-finalize", (spec: { aggs: GroupbyAggs; sort: boolean; ddof: number }, partial: unknown) =>
  withKernels((k) => finalizeGroupby(k, asFrame(partial, "groupby partial"), spec.aggs, { sort: spec.sort, ddof: spec.ddof })),
);

registerOp("dataframe.groupby-split", (spec: { by: string[]; n: number }, partial: unknown) =>
  withKernels((k): Frame[] => {
    const f = asFrame(partial, "groupby partial");
    return splitByPartition(f, hashPartition(k, f, spec.by, spec.n), spec.n);
  }),
);

registerOp("dataframe.frame-length", (_spec: object, frame: unknown) => asFrame(frame, "length").length);
