/**
 * ChunkedArray: a lazy n-dimensional array cut into blocks (dask.array.Array). It is a name,
 * a shape, chunks, a dtype, and a HighLevelGraph whose layer `name` computes every block
 * `name[i,j,...]`. Methods build new arrays; nothing runs until compute() or persist().
 *
 * Elementwise methods do not add a layer each: they extend a pending expression over the
 * arrays they read (`pending`), so `x.mul(2).add(1).pow(2)` is one expression over x, and a
 * reduction of it compiles expression + reduction into one kernel pass per block. The layer of
 * a pending array is made only when something needs its blocks (materialize()).
 *
 * The class is an index: each verb lives in its own file and is one line here.
 */

import { currentClient, type ComputeOptions } from "../client/current.js";
import { COLLECTION, type Collection, type CollectionSpec } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph } from "../graph/layers.js";
import { blockKey, type Key } from "../graph/task.js";
import type { Dtype } from "../kernels/dtypes.js";
import type { Expr } from "../kernels/expr.js";
import { blockIndices, numblocks, product, type Chunks, type ChunksSpec } from "./chunks.js";
import { astype, binaryOp, clip, unaryOp, type Operand } from "./elementwise.js";
import { reduce, type ReduceOptions } from "./reduce.js";
import { rechunk } from "./rechunk.js";
import { dot, matmul, type MatmulOptions } from "./matmul.js";
import { concatenate, stack } from "./concatenate.js";
import { cumsum } from "./cumsum.js";
import { bincount, histogram, type BincountOptions, type Histogram, type HistogramOptions } from "./histogram.js";
import { mapBlocks, type MapBlocksArgs } from "./map-blocks.js";
import { mask } from "./mask.js";
import { reshape, type ReshapeOptions } from "./reshape.js";
import { slice, type Index } from "./slice.js";
import { transpose } from "./transpose.js";
import type { UnknownChunksArray } from "./unknown.js";
import { assembleResult } from "./result.js";
import { materialize } from "./materialize.js";
import type { NDArray } from "./ndarray.js";

/** An elementwise expression over `inputs` (materialized arrays), not yet turned into tasks. */
export interface Pending {
  expr: Expr;
  inputs: readonly ChunkedArray[];
}

/** Keeps persisted blocks alive (their futures) as long as an array built on them exists. */
export interface Anchor {
  keys: readonly Key[];
  futures: readonly { key: Key }[];
}

export class ChunkedArray implements Collection<NDArray> {
  private layerGraph: HighLevelGraph | undefined;

  /** @internal built by the verbs (create.ts, elementwise.ts, ...), not by users. */
  constructor(
    /** The graph of everything this array reads (plus its own layer, unless pending). */
    readonly base: HighLevelGraph,
    readonly name: string,
    readonly shape: readonly number[],
    readonly chunks: Chunks,
    readonly dtype: Dtype,
    readonly pending?: Pending,
    /** Persisted blocks this array (or one it reads) is built on. */
    readonly anchors: readonly Anchor[] = [],
  ) {}

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return product(this.shape);
  }

  get numblocks(): number[] {
    return numblocks(this.chunks);
  }

  /** The graph with this array's own layer (a pending expression becomes tasks here). */
  get graph(): HighLevelGraph {
    if (!this.pending) return this.base;
    return (this.layerGraph ??= materialize(this, this.pending));
  }

  /** Block keys, row-major. */
  keys(): Key[] {
    return [...blockIndices(this.numblocks)].map((i) => blockKey(this.name, i));
  }

  blockKey(index: readonly number[]): Key {
    return blockKey(this.name, index);
  }

  // ---- elementwise (lazy: they extend one fused expression) ------------------------------

  add(y: Operand): ChunkedArray {
    return binaryOp("add", this, y);
  }
  sub(y: Operand): ChunkedArray {
    return binaryOp("sub", this, y);
  }
  mul(y: Operand): ChunkedArray {
    return binaryOp("mul", this, y);
  }
  div(y: Operand): ChunkedArray {
    return binaryOp("div", this, y);
  }
  pow(y: Operand): ChunkedArray {
    return binaryOp("pow", this, y);
  }
  maximum(y: Operand): ChunkedArray {
    return binaryOp("maximum", this, y);
  }
  minimum(y: Operand): ChunkedArray {
    return binaryOp("minimum", this, y);
  }
  eq(y: Operand): ChunkedArray {
    return binaryOp("eq", this, y);
  }
  ne(y: Operand): ChunkedArray {
    return binaryOp("ne", this, y);
  }
  lt(y: Operand): ChunkedArray {
    return binaryOp("lt", this, y);
  }
  le(y: Operand): ChunkedArray {
    return binaryOp("le", this, y);
  }
  gt(y: Operand): ChunkedArray {
    return binaryOp("gt", this, y);
  }
  ge(y: Operand): ChunkedArray {
    return binaryOp("ge", this, y);
  }
  and(y: Operand): ChunkedArray {
    return binaryOp("and", this, y);
  }
  or(y: Operand): ChunkedArray {
    return binaryOp("or", this, y);
  }
  xor(y: Operand): ChunkedArray {
    return binaryOp("xor", this, y);
  }
  neg(): ChunkedArray {
    return unaryOp("neg", this);
  }
  abs(): ChunkedArray {
    return unaryOp("abs", this);
  }
  sqrt(): ChunkedArray {
    return unaryOp("sqrt", this);
  }
  exp(): ChunkedArray {
    return unaryOp("exp", this);
  }
  log(): ChunkedArray {
    return unaryOp("log", this);
  }
  sin(): ChunkedArray {
    return unaryOp("sin", this);
  }
  cos(): ChunkedArray {
    return unaryOp("cos", this);
  }
  tanh(): ChunkedArray {
    return unaryOp("tanh", this);
  }
  sigmoid(): ChunkedArray {
    return unaryOp("sigmoid", this);
  }
  not(): ChunkedArray {
    return unaryOp("not", this);
  }
  clip(lo: Operand, hi: Operand): ChunkedArray {
    return clip(this, lo, hi);
  }
  astype(dtype: Dtype): ChunkedArray {
    return astype(this, dtype);
  }

  // ---- reductions (tree reductions, fused with a pending expression) ---------------------

  sum(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "sum", options);
  }
  prod(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "prod", options);
  }
  min(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "min", options);
  }
  max(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "max", options);
  }
  argmin(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "argmin", options);
  }
  argmax(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "argmax", options);
  }
  mean(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "mean", options);
  }
  var(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "var", options);
  }
  std(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "std", options);
  }
  any(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "any", options);
  }
  all(options?: ReduceOptions): ChunkedArray {
    return reduce(this, "all", options);
  }

  // ---- linear algebra -------------------------------------------------------------------

  /** Matrix product (numpy's matmul / @) of 1-D or 2-D arrays. */
  matmul(y: ChunkedArray, options?: MatmulOptions): ChunkedArray {
    return matmul(this, y, options);
  }
  /** numpy's dot for 0-, 1- and 2-D arrays. */
  dot(y: ChunkedArray, options?: MatmulOptions): ChunkedArray {
    return dot(this, y, options);
  }

  // ---- structure ------------------------------------------------------------------------

  /** The same values in other blocks (a number, one entry per axis, or explicit sizes). */
  rechunk(chunks: ChunksSpec): ChunkedArray {
    return rechunk(this, chunks);
  }

  /** numpy's basic indexing x[i, a:b:s, ...]: per axis an integer (drops it), a range, null / ":" (all), or "...". */
  slice(...index: Index[]): ChunkedArray {
    return slice(this, index);
  }
  /** The same as slice(): `x.get(0, { start: 2 })` is numpy's x[0, 2:]. */
  get(...index: Index[]): ChunkedArray {
    return slice(this, index);
  }
  /** numpy's x[m] for a bool array m of x's shape: the selected elements, 1-d, lengths unknown until computed. */
  mask(m: ChunkedArray): UnknownChunksArray {
    return mask(this, m);
  }
  /** Permute the axes (default: reverse them). */
  transpose(axes?: readonly number[]): ChunkedArray {
    return transpose(this, axes);
  }
  /** The axes reversed (numpy's x.T). */
  get T(): ChunkedArray {
    return transpose(this);
  }
  /** The same elements (row-major) in another shape; one -1 is inferred. Block-wise, rechunking if needed. */
  reshape(shape: readonly number[] | number, options?: ReshapeOptions): ChunkedArray {
    return reshape(this, shape, options);
  }
  /** This array followed by `others` along `axis` (numpy.concatenate). */
  concatenate(others: readonly ChunkedArray[], axis = 0): ChunkedArray {
    return concatenate([this, ...others], axis);
  }
  /** This array and `others` (same shape) along a new axis (numpy.stack). */
  stack(others: readonly ChunkedArray[], axis = 0): ChunkedArray {
    return stack([this, ...others], axis);
  }
  /** A registered op applied to each block (and the matching blocks of other arrays), options last. */
  mapBlocks(op: string, ...rest: MapBlocksArgs): ChunkedArray {
    return mapBlocks(op, ...([this, ...rest] as MapBlocksArgs));
  }
  /** Running sums along an axis (flattened when none is given). */
  cumsum(axis?: number | null): ChunkedArray {
    return cumsum(this, axis);
  }
  /** Counts per bin: `{ counts, edges }` (dask.array.histogram). */
  histogram(options?: HistogramOptions): Histogram {
    return histogram(this, options);
  }
  /** Occurrences of each non-negative integer; of unknown length unless minlength gives it. */
  bincount(options: { minlength: number; splitEvery?: number }): ChunkedArray;
  bincount(options?: { minlength?: undefined; splitEvery?: number }): UnknownChunksArray;
  bincount(options?: BincountOptions): ChunkedArray | UnknownChunksArray;
  bincount(options?: BincountOptions): ChunkedArray | UnknownChunksArray {
    return bincount(this, options);
  }

  // ---- running --------------------------------------------------------------------------

  /** Compute on the current client: an NDArray `{ data, shape, dtype }`. */
  compute(options?: ComputeOptions): Promise<NDArray> {
    return currentClient().compute(this, options);
  }

  /** The one value of a size-1 result (a 0-d reduction), as a number. */
  async item(options?: ComputeOptions): Promise<number> {
    if (this.size !== 1) throw new TesseraError(`item() needs an array of one element; this one has shape [${this.shape.join(", ")}]`);
    return (await this.compute(options)).item();
  }

  /** Compute the blocks and keep them on the workers; resolves once they are all there. */
  async persist(options?: ComputeOptions): Promise<ChunkedArray> {
    const persisted = currentClient().persist(this, options);
    await Promise.all(persisted.anchors.flatMap((a) => a.futures.map((f) => (f as { wait?(): Promise<void> }).wait?.())));
    return persisted;
  }

  __tessera_token__(): string {
    return this.name;
  }

  [COLLECTION](): CollectionSpec<NDArray> {
    const keys = this.keys();
    return {
      graph: this.graph,
      keys,
      external: this.anchors.flatMap((a) => a.keys),
      finalize: (values) => assembleResult(this, values),
      rebuild: (futures) =>
        new ChunkedArray(new HighLevelGraph(), this.name, this.shape, this.chunks, this.dtype, undefined, [
          { keys: futures.map((f) => f.key), futures },
        ]),
    };
  }

  toString(): string {
    return `ChunkedArray<${this.name}, shape=[${this.shape.join(", ")}], dtype=${this.dtype}, chunks=${this.numblocks.join("x")} blocks>`;
  }
}
