/**
 * What the estimators accept, turned into one shape: row blocks of X (f64 [rows, d], every
 * column in one block) and, aligned with them, blocks of y (f64 [rows]).
 *
 *   a tessera array      2-d; blocks are cut along rows only (columns split over several
 *                        blocks are rechunked into one), cast to float64 lazily; y a 1-d array
 *                        (or plain values) rechunked to X's row blocks
 *   a dataframe          every column is a feature, except y when y names a column of it (or
 *                        y is a one-column dataframe with the same partitions); one block
 *                        per partition, row counts learnt in the first pass
 *   plain data           an array of rows, or { data, shape: [n, d] } (an NDArray): one block
 *
 * Nothing runs here: Rows is a graph and the keys of its blocks.
 */

import { COLLECTION } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import type { TypedArray } from "../kernels/dtypes.js";
import { ChunkedArray } from "../array/core.js";
import { AUTO_BLOCK_BYTES } from "../array/chunks.js";
import { fromTypedArray } from "../array/create.js";
import { NDArray } from "../array/ndarray.js";
import { UnknownChunksArray } from "../array/unknown.js";
import { DataFrame } from "../dataframe/dataframe.js";
import type { Schema } from "../dataframe/frame.js";

/** X: a 2-d tessera array, a dataframe, an NDArray / { data, shape: [n, d] }, or an array of rows. */
export type MatrixInput = ChunkedArray | DataFrame | NDArray | { data: TypedArray; shape: readonly number[] } | readonly (readonly number[])[];
/** y: a 1-d tessera array, plain values, a column name of a dataframe X, or a one-column dataframe. */
export type TargetInput = ChunkedArray | NDArray | TypedArray | readonly number[] | string | DataFrame;

/** A single block bigger than this is cut along rows when its columns are brought together. */
export const MAX_BLOCK_BYTES = 256 * 2 ** 20;

export interface Rows {
  graph: HighLevelGraph;
  /** Key of each row block of X (f64 [rows, d]). */
  x: Key[];
  /** Key of each block of y (f64 [rows]), aligned with x; null without y. */
  y: Key[] | null;
  d: number;
  /** Rows per block, when known before running anything (arrays). */
  rows: number[] | null;
  /** Feature names (dataframes). */
  columns: string[] | null;
  /** y's column name (dataframes). */
  target: string | null;
  /** Keys the graph reads that the cluster holds already (persisted inputs). */
  external: Key[];
  /** What keeps those keys alive while these rows are in use. */
  hold: readonly unknown[];
}

export function describeInput(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (x instanceof ChunkedArray || x instanceof UnknownChunksArray) return `an array of shape [${x.shape}]`;
  if (x instanceof DataFrame) return "a dataframe";
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of ${(x as TypedArray).length} values`;
  if (Array.isArray(x)) return `an array of ${x.length} ${x.length > 0 && Array.isArray(x[0]) ? "rows" : "values"}`;
  if (typeof x === "object") return `an object (${x.constructor?.name ?? "plain"})`;
  return typeof x;
}

const isShaped = (x: unknown): x is { data: TypedArray; shape: readonly number[] } =>
  x instanceof NDArray || (x !== null && typeof x === "object" && ArrayBuffer.isView((x as { data?: unknown }).data) && Array.isArray((x as { shape?: unknown }).shape));

/** X as a 2-d float64 tessera array whose blocks hold every column (lazy). */
export function toMatrix(X: MatrixInput, what: string): ChunkedArray {
  if (X instanceof UnknownChunksArray) throw new TesseraError(`${what}: X has unknown chunk sizes; call computeChunkSizes() on it first`);
  if (X instanceof DataFrame) throw new TesseraError(`internal: toMatrix got a dataframe`);
  let A: ChunkedArray;
  if (X instanceof ChunkedArray) A = X;
  else if (isShaped(X)) {
    if (X.shape.length !== 2) throw new TesseraError(`${what}: X must be 2-d (samples x features); got shape [${X.shape}]`);
    A = fromTypedArray(Float64Array.from(X.data as ArrayLike<number>), { shape: X.shape, chunks: [Math.max(1, X.shape[0]!), Math.max(1, X.shape[1]!)] });
  } else if (Array.isArray(X)) A = fromRows(X as readonly (readonly number[])[], what);
  else throw new TesseraError(`${what}: X must be a 2-d tessera array, a dataframe, an NDArray, { data, shape } or an array of rows; got ${describeInput(X)}`);
  if (A.ndim !== 2) {
    const hint = A.ndim === 1 ? ": for one feature, reshape it with x.reshape([-1, 1])" : "";
    throw new TesseraError(`${what}: X must be 2-d (samples x features); got shape [${A.shape}]${hint}`);
  }
  const d = A.shape[1]!;
  if (A.numblocks[1]! > 1) {
    if (d * 8 > MAX_BLOCK_BYTES) {
      throw new TesseraError(`${what}: X has ${d} features; one row (${d * 8} bytes) does not fit a block of ${MAX_BLOCK_BYTES} bytes, and the estimators need every column of a row in one block`);
    }
    const tooBig = A.chunks[0]!.some((r) => r * d * 8 > MAX_BLOCK_BYTES);
    const rows = tooBig ? Math.max(1, Math.floor(AUTO_BLOCK_BYTES / (d * 8))) : A.chunks[0]!;
    A = A.rechunk([rows, [d]]);
  }
  return A.dtype === "float64" ? A : A.astype("float64");
}

function fromRows(rows: readonly (readonly number[])[], what: string): ChunkedArray {
  const { data, d } = rowsData(rows, what);
  return fromTypedArray(data, { shape: [rows.length, d], chunks: [rows.length, Math.max(1, d)] });
}

/** An array of rows as row-major f64, every row checked (the same length, numbers). */
export function rowsData(rows: readonly (readonly number[])[], what: string): { data: Float64Array; d: number } {
  if (rows.length === 0) throw new TesseraError(`${what}: X has no rows`);
  if (!rows.every((r) => Array.isArray(r))) throw new TesseraError(`${what}: X must be an array of rows (arrays of numbers); got ${describeInput(rows)}`);
  const d = rows[0]!.length;
  const data = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new TesseraError(`${what}: every row of X must have ${d} values (row 0 does); row ${i} has ${r.length}`);
    for (let j = 0; j < d; j++) {
      const v = r[j];
      if (typeof v !== "number") throw new TesseraError(`${what}: X[${i}][${j}] is ${typeof v}, not a number`);
      data[i * d + j] = v;
    }
  });
  return { data, d };
}

/** y as a 1-d float64 array with X's row blocks (lazy). */
export function toTarget(y: TargetInput, rowChunks: readonly number[], what: string): ChunkedArray {
  const n = rowChunks.reduce((a, b) => a + b, 0);
  if (typeof y === "string" || y instanceof DataFrame) {
    throw new TesseraError(`${what}: y can name a column (or be a dataframe) only when X is a dataframe; X is an array here`);
  }
  if (y instanceof UnknownChunksArray) throw new TesseraError(`${what}: y has unknown chunk sizes; call computeChunkSizes() on it first`);
  let Y: ChunkedArray;
  if (y instanceof ChunkedArray) Y = y;
  else {
    const values = y instanceof NDArray ? y.data : y;
    if (!ArrayBuffer.isView(values) && !Array.isArray(values)) throw new TesseraError(`${what}: y must be a 1-d array or plain values; got ${describeInput(y)}`);
    if (y instanceof NDArray && y.ndim !== 1) throw new TesseraError(`${what}: y must be 1-d; got shape [${y.shape}]`);
    const data = Float64Array.from(values as ArrayLike<number>);
    if (data.length !== n) throw new TesseraError(`${what}: X has ${n} rows but y has ${data.length} values`);
    return fromTypedArray(data, { chunks: [rowChunks] });
  }
  if (Y.ndim !== 1) {
    const hint = Y.ndim === 2 && Y.shape[1] === 1 ? ": flatten it with y.reshape([-1])" : "";
    throw new TesseraError(`${what}: y must be 1-d; got shape [${Y.shape}]${hint}`);
  }
  if (Y.shape[0] !== n) throw new TesseraError(`${what}: X has ${n} rows but y has ${Y.shape[0]} values`);
  const same = Y.chunks[0]!.length === rowChunks.length && Y.chunks[0]!.every((c, i) => c === rowChunks[i]);
  if (!same) Y = Y.rechunk([rowChunks]);
  return Y.dtype === "float64" ? Y : Y.astype("float64");
}

const NUMERIC = new Set(["float64", "float32", "int8", "int16", "int32", "uint8", "uint16", "uint32", "int64", "uint64", "bool"]);

/** X (and y) as row blocks. */
export async function toRows(X: MatrixInput, y: TargetInput | undefined, what: string): Promise<Rows> {
  if (X instanceof DataFrame) return frameRows(X, y, what);
  const A = toMatrix(X, what);
  const rowChunks = A.chunks[0]!;
  const Y = y === undefined ? undefined : toTarget(y, rowChunks, what);
  const sx = A[COLLECTION]();
  const sy = Y?.[COLLECTION]();
  return {
    graph: HighLevelGraph.merge(A.graph, ...(Y ? [Y.graph] : [])),
    x: [...sx.keys],
    y: sy ? [...sy.keys] : null,
    d: A.shape[1]!,
    rows: [...rowChunks],
    columns: null,
    target: null,
    external: [...(sx.external ?? []), ...(sy?.external ?? [])],
    hold: [A, Y],
  };
}

/** The feature columns of a dataframe X: all but y's; numeric (or bool) only. */
export function featureColumns(schema: Schema, exclude: string | null, what: string): string[] {
  const columns = schema.names.filter((n) => n !== exclude);
  if (columns.length === 0) throw new TesseraError(`${what}: X has no feature columns`);
  for (const c of columns) {
    const type = schema.types[schema.names.indexOf(c)]!.type;
    if (!NUMERIC.has(type)) {
      throw new TesseraError(`${what}: column ${JSON.stringify(c)} of X is ${type}, not numeric; select the feature columns, or encode it first (getDummies, categorize)`);
    }
  }
  return columns;
}

async function frameRows(df: DataFrame, y: TargetInput | undefined, what: string): Promise<Rows> {
  const schema = await df.schema();
  let target: string | null = null;
  let yFrame: DataFrame | null = null;
  if (typeof y === "string") {
    if (!schema.names.includes(y)) throw new TesseraError(`${what}: y names column ${JSON.stringify(y)}, which X does not have (columns: ${schema.names.join(", ")})`);
    target = y;
  } else if (y instanceof DataFrame) {
    const ys = await y.schema();
    if (ys.names.length !== 1) throw new TesseraError(`${what}: y must be a one-column dataframe; it has ${ys.names.length} columns (${ys.names.join(", ")})`);
    yFrame = y;
    target = ys.names[0]!;
  } else if (y !== undefined) {
    throw new TesseraError(`${what}: X is a dataframe, so y must name one of its columns or be a one-column dataframe with the same partitions; got ${describeInput(y)}`);
  }
  const columns = featureColumns(schema, typeof y === "string" ? y : null, what);
  if (yFrame) featureColumns(await yFrame.schema(), null, what);
  const sx = df[COLLECTION]();
  const sy = yFrame?.[COLLECTION]();
  if (sy && sy.keys.length !== sx.keys.length) {
    throw new TesseraError(`${what}: y has ${sy.keys.length} partitions but X has ${sx.keys.length}; they must be partitioned alike`);
  }
  const token = tokenize("ml-frame", sx.keys, sy?.keys ?? null, columns, target);
  const xName = `ml-x-${token}`;
  const yName = `ml-y-${token}`;
  const xNodes: GraphNode[] = sx.keys.map((k, i) => new Task(blockKey(xName, [i]), "ml.frameMatrix", [opSpec({ columns }), new TaskRef(k)]));
  const yKeys = target === null ? null : (sy ?? sx).keys;
  const yNodes: GraphNode[] = yKeys ? yKeys.map((k, i) => new Task(blockKey(yName, [i]), "ml.frameColumn", [opSpec({ column: target! }), new TaskRef(k)])) : [];
  const graphs = [sx.graph as HighLevelGraph, ...(sy ? [sy.graph as HighLevelGraph] : [])];
  let graph = HighLevelGraph.merge(...graphs).withLayer(new MaterializedLayer(xName, xNodes, graphs.flatMap((g) => [...g.layers.keys()])));
  if (yNodes.length > 0) graph = graph.withLayer(new MaterializedLayer(yName, yNodes, graphs.flatMap((g) => [...g.layers.keys()])));
  return {
    graph,
    x: xNodes.map((n) => n.key),
    y: yKeys ? yNodes.map((n) => n.key) : null,
    d: columns.length,
    rows: null,
    columns,
    target,
    external: [...(sx.external ?? []), ...(sy?.external ?? [])],
    hold: [df, yFrame],
  };
}
