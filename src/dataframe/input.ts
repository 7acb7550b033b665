/**
 * Where a dataframe's partitions come from. An Input knows its schema and partitions once
 * prepared (reading a Parquet footer or a CSV header is I/O, so preparing is async and happens
 * when a computation starts), and lowers itself to graph tasks: one task per partition that
 * produces the partition and runs the dataframe's partition-wise steps on it.
 *
 *   FramesInput     partitions given by the client (fromArrays, fromArrow): data nodes
 *   SourceInput     a file reader (Parquet, CSV): a reader task per partition, with the
 *                   columns the steps need (projection pushdown) and row-group filters
 *   KeysInput       partitions already on the cluster (persisted, or computed by a layer)
 */

import type { Divisions } from "./sort-values.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { DataNode, Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { opSpec } from "../graph/spec.js";
import type { Frame, Schema } from "./frame.js";
import { deriveSchema, neededColumns, type Step } from "./steps.js";

export interface Lowered {
  graph: HighLevelGraph;
  /** Partition i is `${name}[i]`. */
  name: string;
  npartitions: number;
  /** Keys already on the cluster that the graph reads (kept alive by the dataframe). */
  external: Key[];
}

export interface Input {
  prepare(): Promise<void>;
  readonly prepared: boolean;
  schema(): Schema;
  npartitions(): number;
  /** A token naming the input (for keys): equal inputs, equal keys. */
  token(): string;
  lower(steps: readonly Step[]): Lowered;
  /** Row counts per partition when known without reading data (Parquet metadata), else null. */
  knownLengths?(steps: readonly Step[]): number[] | null;
}

/** The task making partition `i` with the steps applied: the reader, then the pipeline (fused later). */
function partitionTasks(name: string, npartitions: number, produce: (i: number) => GraphNode, steps: readonly Step[]): GraphNode[] {
  const nodes: GraphNode[] = [];
  for (let i = 0; i < npartitions; i++) {
    const base = produce(i);
    if (steps.length === 0) {
      nodes.push(base.kind === "task" ? new Task(blockKey(name, [i]), base.op, base.args) : new DataNode(blockKey(name, [i]), (base as DataNode).value));
      continue;
    }
    nodes.push(base);
    nodes.push(new Task(blockKey(name, [i]), "dataframe.pipeline", [opSpec({ steps: [...steps] }), new TaskRef(base.key)]));
  }
  return nodes;
}

export class FramesInput implements Input {
  readonly prepared = true;
  constructor(
    private readonly frames: readonly Frame[],
    private readonly sch: Schema,
    private readonly id: string,
  ) {}
  async prepare(): Promise<void> {}
  schema(): Schema {
    return this.sch;
  }
  npartitions(): number {
    return this.frames.length;
  }
  token(): string {
    return this.id;
  }
  lower(steps: readonly Step[]): Lowered {
    const name = `frame-${tokenize(this.id, steps)}`;
    const dataName = `frame-data-${this.id}`;
    const nodes = partitionTasks(name, this.frames.length, (i) => new DataNode(blockKey(dataName, [i]), this.frames[i]), steps);
    return { graph: new HighLevelGraph([new MaterializedLayer(name, nodes)]), name, npartitions: this.frames.length, external: [] };
  }
  knownLengths(steps: readonly Step[]): number[] | null {
    return steps.some((s) => s.kind === "filter" || s.kind === "dropna") ? null : this.frames.map((f) => f.length);
  }
}

/** A file dataset resolved on the client: a schema, and one plain-data spec per partition. */
export interface Dataset<Part> {
  schema: Schema;
  parts: Part[];
  /** Rows per part, when the metadata says. */
  rows?: number[];
}

export interface Reader<Part> {
  /** Key prefix, e.g. "read-parquet". */
  prefix: string;
  /** The worker op that reads one part: (part, columns, extra) -> Frame. */
  op: string;
  resolve(): Promise<Dataset<Part>>;
  /** Arguments after (part, columns) for the op (e.g. filters). */
  extraArgs(): unknown[];
  id: string;
}

export class SourceInput<Part> implements Input {
  private dataset: Dataset<Part> | undefined;
  constructor(private readonly reader: Reader<Part>) {}

  get prepared(): boolean {
    return this.dataset !== undefined;
  }
  async prepare(): Promise<void> {
    this.dataset ??= await this.reader.resolve();
  }
  private ds(): Dataset<Part> {
    if (!this.dataset) throw new TesseraError("internal: the dataset was not resolved (prepare() first)");
    return this.dataset;
  }
  schema(): Schema {
    return this.ds().schema;
  }
  npartitions(): number {
    return this.ds().parts.length;
  }
  token(): string {
    return this.reader.id;
  }
  lower(steps: readonly Step[]): Lowered {
    const ds = this.ds();
    deriveSchema(ds.schema, steps); // validate column names before anything runs
    const columns = neededColumns(ds.schema, steps, null);
    const readName = `${this.reader.prefix}-${tokenize(this.reader.id, columns, this.reader.extraArgs())}`;
    const name = steps.length === 0 ? readName : `${this.reader.prefix}-pipe-${tokenize(readName, steps)}`;
    const nodes = partitionTasks(name, ds.parts.length, (i) => new Task(blockKey(readName, [i]), this.reader.op, [ds.parts[i], columns, ...this.reader.extraArgs()]), steps);
    return { graph: new HighLevelGraph([new MaterializedLayer(name, nodes)]), name, npartitions: ds.parts.length, external: [] };
  }
  knownLengths(steps: readonly Step[]): number[] | null {
    const rows = this.ds().rows;
    if (!rows || this.reader.extraArgs().some((a) => a !== null && a !== undefined)) return null;
    return steps.some((s) => s.kind === "filter" || s.kind === "dropna") ? null : rows;
  }
}

/** Partitions computed by a graph (`name[i]`), or held on the cluster (persisted). */
export class KeysInput implements Input {
  readonly prepared = true;
  constructor(
    private readonly graph: HighLevelGraph,
    private readonly name: string,
    private readonly count: number,
    private readonly sch: Schema,
    private readonly external: Key[] = [],
    /** Partition boundaries known for these partitions (a persisted setIndex result). */
    readonly divisions: Divisions | null = null,
  ) {}
  async prepare(): Promise<void> {}
  schema(): Schema {
    return this.sch;
  }
  npartitions(): number {
    return this.count;
  }
  token(): string {
    return this.name;
  }
  lower(steps: readonly Step[]): Lowered {
    if (steps.length === 0) return { graph: this.graph, name: this.name, npartitions: this.count, external: this.external };
    const name = `pipeline-${tokenize(this.name, steps)}`;
    const nodes: GraphNode[] = [];
    for (let i = 0; i < this.count; i++) {
      nodes.push(new Task(blockKey(name, [i]), "dataframe.pipeline", [opSpec({ steps: [...steps] }), new TaskRef(blockKey(this.name, [i]))]));
    }
    return { graph: this.graph.withLayer(new MaterializedLayer(name, nodes, [this.name])), name, npartitions: this.count, external: this.external };
  }
}

/** What a planned input lowers to: a graph whose partition i is `name[i]`. */
export interface Plan {
  graph: HighLevelGraph;
  name: string;
  count: number;
  schema: Schema;
  external: Key[];
}

/**
 * An input whose graph is planned once, when a computation first needs it (planning may read
 * the source's schema or run a small computation first, e.g. sample statistics), and that then
 * lowers like KeysInput. A failed plan (a bad column, a file gone) is forgotten, so a later
 * computation tries again.
 */
export abstract class PlannedInput<P extends Plan = Plan> implements Input {
  private planned: P | undefined;
  private planning: Promise<void> | undefined;
  /** The verb, for messages. */
  protected abstract readonly verb: string;
  protected abstract plan(): Promise<P>;
  abstract token(): string;

  get prepared(): boolean {
    return this.planned !== undefined;
  }
  prepare(): Promise<void> {
    this.planning ??= this.plan().then(
      (p) => {
        this.planned = p;
      },
      (err: unknown) => {
        this.planning = undefined;
        throw err;
      },
    );
    return this.planning;
  }
  protected ready(): P {
    if (!this.planned) throw new TesseraError(`internal: ${this.verb} was not prepared (prepare() first)`);
    return this.planned;
  }
  schema(): Schema {
    return this.ready().schema;
  }
  npartitions(): number {
    return this.ready().count;
  }
  lower(steps: readonly Step[]): Lowered {
    const p = this.ready();
    return new KeysInput(p.graph, p.name, p.count, p.schema, p.external).lower(steps);
  }
}
