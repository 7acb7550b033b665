/**
 * Lazy per-block outputs of fitted estimators (predict, predictProba, KMeans' transform): one
 * `ml.predict` task per row block of X, with the model's parameters inline in its spec.
 *
 *   X an array (or plain data)   a ChunkedArray with X's row blocks: [n] or [n, cols]
 *   X a dataframe                a DataFrame of the output columns, one partition per partition
 *
 * Nothing runs until the result is computed (or reduced, or persisted).
 */

import { COLLECTION } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { GeneratedLayer, HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { ChunkedArray } from "../array/core.js";
import { DataFrame } from "../dataframe/dataframe.js";
import type { ColumnMeta, Schema } from "../dataframe/frame.js";
import { KeysInput, type Input, type Lowered } from "../dataframe/input.js";
import { deriveSchema, type Step } from "../dataframe/steps.js";
import { featureColumns, toMatrix, type MatrixInput } from "./data.js";
import { predictShape, type PredictSpec } from "./ops-predict.js";

export interface OutputSpec {
  predict: PredictSpec;
  /** Key prefix, e.g. "kmeans-predict". */
  prefix: string;
  /** Output column names for dataframes (one per output column). */
  names: string[];
  /** Feature names the model was fitted on (dataframes), or null. */
  columns: string[] | null;
  /** e.g. "KMeans.predict", for errors. */
  what: string;
}

export function blockOutput(X: MatrixInput, o: OutputSpec): ChunkedArray | DataFrame {
  if (X instanceof DataFrame) return predictFrame(X, o);
  const A = toMatrix(X, o.what);
  const d = A.shape[1]!;
  if (d !== o.predict.d) throw new TesseraError(`${o.what}: X has ${d} features, but the model was fitted with ${o.predict.d}`);
  const { cols, dtype } = predictShape(o.predict);
  const name = `${o.prefix}-${tokenize(o.prefix, A.name, o.predict)}`;
  const nrow = A.numblocks[0]!;
  const grid = cols === null ? [nrow] : [nrow, 1];
  const layer = GeneratedLayer.grid(name, grid, (index) => new Task(blockKey(name, index), "ml.predict", [opSpec(o.predict), new TaskRef(A.blockKey([index[0]!, 0]))]), [A.name]);
  const chunks = cols === null ? [[...A.chunks[0]!]] : [[...A.chunks[0]!], [cols]];
  return new ChunkedArray(A.graph.withLayer(layer), name, chunks.map((c) => c.reduce((a, b) => a + b, 0)), chunks, dtype, undefined, A.anchors);
}

/** What a PartitionMapInput runs on each partition of a dataframe. */
export interface PartitionMap {
  /** Key prefix. */
  prefix: string;
  op: string;
  /** The op's spec for partition i, given the source's schema (checks it; may throw). */
  spec(schema: Schema, partition: number): object;
  /** The output's schema. */
  schema(source: Schema): Schema;
}

/**
 * A dataframe whose partitions are an op applied to another's: an Input, so the result is a
 * lazy DataFrame even when the source's schema is not known yet (a Parquet file not read).
 */
export class PartitionMapInput implements Input {
  private source: Schema | null = null;

  constructor(
    private readonly df: DataFrame,
    private readonly m: PartitionMap,
  ) {
    if (df.input.prepared) this.setSource(deriveSchema(df.input.schema(), df.steps));
  }

  private setSource(schema: Schema): void {
    this.m.spec(schema, 0); // fail early on a bad schema
    this.source = schema;
  }

  get prepared(): boolean {
    return this.source !== null;
  }

  async prepare(): Promise<void> {
    if (!this.source) this.setSource(await this.df.schema());
  }

  private src(): Schema {
    if (!this.source) throw new TesseraError("internal: a mapped dataframe was used before prepare()");
    return this.source;
  }

  schema(): Schema {
    return this.m.schema(this.src());
  }

  npartitions(): number {
    return this.df.input.npartitions();
  }

  token(): string {
    return tokenize(this.m.prefix, this.m.op, this.df.input.token(), this.df.steps, this.source ? this.m.spec(this.source, 0) : null);
  }

  lower(steps: readonly Step[]): Lowered {
    const schema = this.src();
    const s = this.df[COLLECTION]();
    const name = `${this.m.prefix}-${tokenize(this.token(), s.keys)}`;
    const nodes = s.keys.map((k, i) => new Task(blockKey(name, [i]), this.m.op, [opSpec(this.m.spec(schema, i)), new TaskRef(k)]));
    const base = s.graph as HighLevelGraph;
    const graph = base.withLayer(new MaterializedLayer(name, nodes, [...base.layers.keys()]));
    return new KeysInput(graph, name, s.keys.length, this.m.schema(schema), [...(s.external ?? [])]).lower(steps);
  }
}

/** Prediction columns of each partition. */
function predictFrame(df: DataFrame, o: OutputSpec): DataFrame {
  const { dtype } = predictShape(o.predict);
  const out: Schema = { names: [...o.names], types: o.names.map((): ColumnMeta => ({ type: dtype })) };
  return new DataFrame(
    new PartitionMapInput(df, {
      prefix: o.prefix,
      op: "ml.predict.frame",
      schema: () => out,
      spec: (schema) => {
        const missing = (o.columns ?? []).filter((c) => !schema.names.includes(c));
        if (missing.length > 0) throw new TesseraError(`${o.what}: X lacks the column(s) the model was fitted on: ${missing.join(", ")}`);
        const columns = o.columns ?? featureColumns(schema, null, o.what);
        if (columns.length !== o.predict.d) throw new TesseraError(`${o.what}: X has ${columns.length} feature columns, but the model was fitted with ${o.predict.d}`);
        return { predict: o.predict, columns, names: o.names };
      },
    }),
  );
}
