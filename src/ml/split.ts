/**
 * trainTestSplit (sklearn.model_selection.train_test_split, dask-ml's blockwise form): every
 * row block (dataframe partition) is split on its own, so nothing is gathered or shuffled
 * between workers. Within a block the rows are permuted by a Fisher-Yates shuffle seeded by
 * (seed, block number); the first rows of the permutation go to test, the next to train.
 * X and y (split by the same op with the same seeds) stay aligned row for row.
 *
 * For arrays the client knows every block's length, so it decides the counts: block b, rows
 * [s, e), gets ceil(testSize·e) - ceil(testSize·s) test rows, which add up to scikit-learn's
 * ceil(testSize·n); the outputs are ordinary arrays with known chunks. For dataframes each
 * partition takes ceil(testSize·rows) (lengths are unknown until read). The split depends on
 * the blocks: the same data cut differently gives another (equally random) split.
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import type { TypedArray } from "../kernels/dtypes.js";
import { ChunkedArray } from "../array/core.js";
import { fromTypedArray } from "../array/create.js";
import { NDArray } from "../array/ndarray.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { describeInput, toMatrix, type MatrixInput, type TargetInput } from "./data.js";
import { checkKeys } from "./estimator.js";
import type { SplitSpec } from "./ops-split.js";
import { PartitionMapInput } from "./output.js";
import { checkSeed } from "./random.js";

export interface TrainTestSplitOptions {
  /** Fraction of the rows for test (default 0.25, or 1 - trainSize). */
  testSize?: number;
  /** Fraction for train (default: the rest). */
  trainSize?: number;
  /** Seed of the shuffles (default 0). */
  seed?: number;
  /** Shuffle within blocks (default true); false takes each block's first rows for test. */
  shuffle?: boolean;
}

type ArrayLikeInput = Exclude<MatrixInput, DataFrame>;

export function trainTestSplit(X: DataFrame, options?: TrainTestSplitOptions): [DataFrame, DataFrame];
export function trainTestSplit(X: DataFrame, y: DataFrame, options?: TrainTestSplitOptions): [DataFrame, DataFrame, DataFrame, DataFrame];
export function trainTestSplit(X: ArrayLikeInput, options?: TrainTestSplitOptions): [ChunkedArray, ChunkedArray];
export function trainTestSplit(X: ArrayLikeInput, y: Exclude<TargetInput, string | DataFrame>, options?: TrainTestSplitOptions): [ChunkedArray, ChunkedArray, ChunkedArray, ChunkedArray];
export function trainTestSplit(X: MatrixInput, ...rest: unknown[]): (ChunkedArray | DataFrame)[] {
  const last = rest[rest.length - 1];
  const hasOptions = rest.length === 2 || (rest.length === 1 && isOptions(last));
  const options = (hasOptions ? last : {}) as TrainTestSplitOptions;
  const y = (hasOptions ? rest.slice(0, -1) : rest)[0] as TargetInput | undefined;
  const o = checkOptions(options);
  if (X instanceof DataFrame) {
    if (y !== undefined && !(y instanceof DataFrame)) throw new TesseraError(`trainTestSplit: X is a dataframe, so y must be one too (with the same partitions); got ${describeInput(y)}`);
    const frames = y ? [X, y] : [X];
    return frames.flatMap((df) => [splitFrame(df, "train", o), splitFrame(df, "test", o)]);
  }
  const A = X instanceof ChunkedArray ? X : toMatrix(X, "trainTestSplit");
  if (A.ndim === 0) throw new TesseraError("trainTestSplit: X must have at least one axis");
  const rowChunks = A.chunks[0]!;
  const counts = blockCounts(rowChunks, o);
  const arrays = [A];
  if (y !== undefined) arrays.push(alignY(y, rowChunks));
  return arrays.flatMap((a) => [splitArray(a, "train", counts, o), splitArray(a, "test", counts, o)]);
}

interface Checked {
  testSize: number;
  trainSize: number | null;
  seed: number;
  shuffle: boolean;
}

function isOptions(x: unknown): boolean {
  if (x === null || typeof x !== "object" || Array.isArray(x) || ArrayBuffer.isView(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null ? !("data" in x && "shape" in x) : false;
}

function checkOptions(options: TrainTestSplitOptions): Checked {
  checkKeys("trainTestSplit", options, ["testSize", "trainSize", "seed", "shuffle"]);
  const frac = (name: string, v: number | undefined) => {
    if (v !== undefined && !(typeof v === "number" && v > 0 && v < 1)) throw new TesseraError(`trainTestSplit: ${name} must be a fraction in (0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  const train = frac("trainSize", options.trainSize);
  const test = frac("testSize", options.testSize) ?? (train !== undefined ? 1 - train : 0.25);
  if (train !== undefined && test + train > 1 + 1e-12) throw new TesseraError(`trainTestSplit: testSize + trainSize must be at most 1, got ${test} + ${train}`);
  const shuffle = options.shuffle ?? true;
  if (typeof shuffle !== "boolean") throw new TesseraError(`trainTestSplit: shuffle must be true or false, got ${JSON.stringify(shuffle)}`);
  return { testSize: test, trainSize: train ?? null, seed: checkSeed(options.seed ?? 0, "trainTestSplit"), shuffle };
}

/** Test and train rows of each block: cumulative rounding, so the totals match scikit-learn's. */
function blockCounts(rows: readonly number[], o: Checked): { test: number; train: number }[] {
  let start = 0;
  return rows.map((r) => {
    const end = start + r;
    const test = Math.ceil(o.testSize * end - 1e-9) - Math.ceil(o.testSize * start - 1e-9);
    const train = o.trainSize === null ? r - test : Math.min(r - test, Math.floor(o.trainSize * end + 1e-9) - Math.floor(o.trainSize * start + 1e-9));
    start = end;
    return { test, train };
  });
}

function alignY(y: TargetInput, rowChunks: readonly number[]): ChunkedArray {
  const n = rowChunks.reduce((a, b) => a + b, 0);
  let Y: ChunkedArray;
  if (y instanceof ChunkedArray) Y = y;
  else if (y instanceof NDArray) Y = fromTypedArray(y.data, { shape: y.shape });
  else if (ArrayBuffer.isView(y) || Array.isArray(y)) Y = fromTypedArray(ArrayBuffer.isView(y) ? (y as TypedArray) : Float64Array.from(y as number[]));
  else throw new TesseraError(`trainTestSplit: y must be an array or plain values; got ${describeInput(y)}`);
  if (Y.ndim === 0 || Y.shape[0] !== n) throw new TesseraError(`trainTestSplit: X has ${n} rows but y has ${Y.ndim === 0 ? "no axis" : `${Y.shape[0]}`}`);
  const same = Y.chunks[0]!.length === rowChunks.length && Y.chunks[0]!.every((c, i) => c === rowChunks[i]);
  return same ? Y : Y.rechunk([rowChunks, ...Y.chunks.slice(1)]);
}

function splitArray(A: ChunkedArray, side: "train" | "test", counts: { test: number; train: number }[], o: Checked): ChunkedArray {
  const name = `split-${side}-${tokenize(A.name, side, counts, o)}`;
  const rows = counts.map((c) => (side === "test" ? c.test : c.train));
  const layer = GeneratedLayer.grid(
    name,
    A.numblocks,
    (index) => {
      const b = index[0]!;
      const spec: SplitSpec = { seed: o.seed, block: b, side, test: counts[b]!.test, train: counts[b]!.train, shuffle: o.shuffle };
      return new Task(blockKey(name, index), "ml.split", [opSpec(spec), new TaskRef(A.blockKey(index))]);
    },
    [A.name],
  );
  const chunks = [rows, ...A.chunks.slice(1).map((c) => [...c])];
  const shape = [rows.reduce((a, b) => a + b, 0), ...A.shape.slice(1)];
  return new ChunkedArray(A.graph.withLayer(layer), name, shape, chunks, A.dtype, undefined, A.anchors);
}

function splitFrame(df: DataFrame, side: "train" | "test", o: Checked): DataFrame {
  return new DataFrame(
    new PartitionMapInput(df, {
      prefix: `split-${side}`,
      op: "ml.split.frame",
      schema: (s) => s,
      spec: (_, block): SplitSpec => ({ seed: o.seed, block, side, testSize: o.testSize, trainSize: o.trainSize, shuffle: o.shuffle }),
    }),
  );
}
