/**
 * Lazy blockwise outputs of a block function (ops-postfit.ts): what SGD's
 * decisionFunction / predictProba and ParallelPostFit build. Like output.ts's blockOutput, but
 * for any `ml.map` function and any number of output columns.
 *
 *   X an array (or plain data)   a ChunkedArray with X's row blocks: [n] or [n, cols]
 *   X a dataframe                a DataFrame of the output columns (float64)
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { ChunkedArray } from "../array/core.js";
import { DataFrame } from "../dataframe/dataframe.js";
import type { ColumnMeta, Schema } from "../dataframe/frame.js";
import { featureColumns, toMatrix, type MatrixInput } from "./data.js";
import type { MapFn } from "./ops-postfit.js";
import { PartitionMapInput } from "./output.js";

export interface MapOutput {
  map: MapFn;
  /** Features the function reads. */
  d: number;
  /** Output columns per row, or null for one value per row. */
  cols: number | null;
  /** Output column names for dataframes. */
  names: string[];
  /** Feature names the model was fitted on (dataframes), or null. */
  columns: string[] | null;
  prefix: string;
  what: string;
}

export function mapBlocks(X: MatrixInput, o: MapOutput): ChunkedArray | DataFrame {
  if (X instanceof DataFrame) return mapFrame(X, o);
  const A = toMatrix(X, o.what);
  const d = A.shape[1]!;
  if (d !== o.d) throw new TesseraError(`${o.what}: X has ${d} features, but the model was fitted with ${o.d}`);
  const name = `${o.prefix}-${tokenize(o.prefix, A.name, o.map)}`;
  const nrow = A.numblocks[0]!;
  const grid = o.cols === null ? [nrow] : [nrow, 1];
  const layer = GeneratedLayer.grid(name, grid, (index) => new Task(blockKey(name, index), "ml.map", [opSpec({ d: o.d, map: o.map }), new TaskRef(A.blockKey([index[0]!, 0]))]), [A.name]);
  const chunks = o.cols === null ? [[...A.chunks[0]!]] : [[...A.chunks[0]!], [o.cols]];
  return new ChunkedArray(A.graph.withLayer(layer), name, chunks.map((c) => c.reduce((a, b) => a + b, 0)), chunks, "float64", undefined, A.anchors);
}

function mapFrame(df: DataFrame, o: MapOutput): DataFrame {
  const out: Schema = { names: [...o.names], types: o.names.map((): ColumnMeta => ({ type: "float64" })) };
  return new DataFrame(
    new PartitionMapInput(df, {
      prefix: o.prefix,
      op: "ml.map.frame",
      schema: () => out,
      spec: (schema) => {
        const missing = (o.columns ?? []).filter((c) => !schema.names.includes(c));
        if (missing.length > 0) throw new TesseraError(`${o.what}: X lacks the column(s) the model was fitted on: ${missing.join(", ")}`);
        const columns = o.columns ?? featureColumns(schema, null, o.what);
        if (columns.length !== o.d) throw new TesseraError(`${o.what}: X has ${columns.length} feature columns, but the model was fitted with ${o.d}`);
        return { d: o.d, map: o.map, columns, names: o.names };
      },
    }),
  );
}
