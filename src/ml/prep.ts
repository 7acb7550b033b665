/**
 * What the preprocessing estimators beyond the scalers (encoders, imputer, polynomial
 * features) and PCA share on the client: X as row blocks that may hold NaN and, for a
 * dataframe, string columns (`prepInput`); a reduction of one `ml.prep.*` op over them
 * (`reducePrep`); and a lazy transform of X (`transformed`): an array with X's row blocks, or
 * a dataframe with the output columns, one task per block either way.
 */

import { COLLECTION } from "../client/collection.js";
import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { GeneratedLayer, HighLevelGraph } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { ChunkedArray } from "../array/core.js";
import { DataFrame } from "../dataframe/dataframe.js";
import type { ColumnMeta, Schema } from "../dataframe/frame.js";
import { toMatrix, toRows, type MatrixInput, type Rows } from "./data.js";
import type { ColsSpec, FrameTransformSpec, TransformSpec } from "./ops-prep.js";
import { PartitionMapInput } from "./output.js";
import { reduceBlocks, rowOffsets } from "./run.js";

const NUMERIC = new Set(["float64", "float32", "int8", "int16", "int32", "uint8", "uint16", "uint32", "int64", "uint64", "bool"]);

export interface PrepInput {
  rows: Rows;
  source: "array" | "frame";
  /** Column names (dataframes) and which are strings. */
  columns: string[] | null;
  strings: boolean[];
  offsets: number[] | null;
}

/** X's feature columns (a dataframe's: all of them, numeric or bool, or string when `strings`). */
export async function prepInput(X: MatrixInput, what: string, strings: boolean): Promise<PrepInput> {
  if (!(X instanceof DataFrame)) {
    const rows = await toRows(X, undefined, what);
    return { rows, source: "array", columns: null, strings: new Array<boolean>(rows.d).fill(false), offsets: rowOffsets(rows.rows!) };
  }
  const schema = await X.schema();
  if (schema.names.length === 0) throw new TesseraError(`${what}: X has no columns`);
  const isString = schema.types.map((t, i) => {
    if (t.type === "string" && strings) return true;
    if (NUMERIC.has(t.type)) return false;
    const hint = t.type === "string" ? "; encode it first (OneHotEncoder, OrdinalEncoder, getDummies)" : "; select the feature columns";
    throw new TesseraError(`${what}: column ${JSON.stringify(schema.names[i])} of X is ${t.type}, not numeric${hint}`);
  });
  const s = X[COLLECTION]();
  const rows: Rows = {
    graph: s.graph as HighLevelGraph,
    x: [...s.keys],
    y: null,
    d: schema.names.length,
    rows: null,
    columns: [...schema.names],
    target: null,
    external: [...(s.external ?? [])],
    hold: [X],
  };
  return { rows, source: "frame", columns: [...schema.names], strings: isString, offsets: null };
}

/** One `op` task per block of X, merged by `combine`; the op's spec is ColsSpec & extra. */
export function reducePrep<P>(input: PrepInput, op: string, combine: string, extra: object, what: string, options?: ComputeOptions): Promise<P> {
  const { rows } = input;
  return reduceBlocks<P>(
    rows,
    {
      name: op.replace(/\./g, "-"),
      op,
      combine,
      withY: false,
      spec: (block): ColsSpec => ({ source: input.source, d: rows.d, columns: rows.columns, block, offset: input.offsets ? input.offsets[block]! : null, ...extra }),
    },
    what,
    options,
  );
}

export interface TransformOutput {
  t: TransformSpec;
  /** Input columns: the width an array must have, the names a dataframe must have (null: fitted on an array). */
  d: number;
  inputs: string[] | null;
  /** Output column names (dataframes) and how many (arrays). */
  outputs: string[];
  /** Output type of each output column of a dataframe. */
  types?: ColumnMeta[];
  inPlace: boolean;
  /** Key prefix and the estimator's method for errors, e.g. "OneHotEncoder.transform". */
  prefix: string;
  what: string;
  estimator: string;
}

/** The lazy transform of X: an array (X's row blocks, float64) or a dataframe. */
export function transformed(X: MatrixInput, o: TransformOutput): ChunkedArray | DataFrame {
  if (X instanceof DataFrame) return transformedFrame(X, o);
  const A = toMatrix(X, o.what);
  const d = A.shape[1]!;
  if (d !== o.d) throw new TesseraError(`${o.what}: X has ${d} features, but this ${o.estimator} was fitted with ${o.d}`);
  const name = `${o.prefix}-${tokenize(o.prefix, A.name, o.t)}`;
  const offsets = rowOffsets(A.chunks[0]!);
  const w = o.outputs.length;
  const layer = GeneratedLayer.grid(
    name,
    [A.numblocks[0]!, 1],
    (index) => new Task(blockKey(name, index), "ml.prep.block", [opSpec({ t: o.t, d, offset: offsets[index[0]!]! }), new TaskRef(A.blockKey([index[0]!, 0]))]),
    [A.name],
  );
  const chunks = [[...A.chunks[0]!], [w]];
  return new ChunkedArray(A.graph.withLayer(layer), name, [A.shape[0]!, w], chunks, "float64", undefined, A.anchors);
}

function transformedFrame(df: DataFrame, o: TransformOutput): DataFrame {
  return new DataFrame(
    new PartitionMapInput(df, {
      prefix: o.prefix,
      op: "ml.prep.frame",
      spec: (schema, block): FrameTransformSpec => ({ t: o.t, inputs: frameInputs(schema, o), outputs: o.outputs, inPlace: o.inPlace, block }),
      schema: (source) => {
        const inputs = frameInputs(source, o);
        const types = o.types ?? o.outputs.map((): ColumnMeta => ({ type: "float64" }));
        if (o.inPlace) return { names: [...source.names], types: source.types.map((t, i) => (inputs.includes(source.names[i]!) ? types[inputs.indexOf(source.names[i]!)]! : t)) };
        const keep = source.names.map((n, i) => [n, i] as const).filter(([n]) => !inputs.includes(n) && !o.outputs.includes(n));
        return { names: [...keep.map(([n]) => n), ...o.outputs], types: [...keep.map(([, i]) => source.types[i]!), ...types] };
      },
    }),
  );
}

/** The columns a dataframe transform reads: the fitted names, or every column when fitted on an array. */
function frameInputs(schema: Schema, o: TransformOutput): string[] {
  const names = o.inputs ?? schema.names;
  const missing = names.filter((n) => !schema.names.includes(n));
  if (missing.length > 0) throw new TesseraError(`${o.what}: X lacks the column(s) this ${o.estimator} was fitted on: ${missing.map((n) => JSON.stringify(n)).join(", ")}`);
  if (names.length !== o.d) throw new TesseraError(`${o.what}: X has ${names.length} columns, but this ${o.estimator} was fitted with ${o.d}`);
  return [...names];
}
