/**
 * matmul, dot and tensordot on chunked arrays of one or two dimensions (dask.array's blockwise
 * matmul, with the k-sum done by the kernel instead of by a tree of temporaries).
 *
 *   A (m x k) blocks A[i,p], B (k x n) blocks B[p,j]:   C[i,j] = Σ_p A[i,p]·B[p,j]
 *
 *   one task per output block:  matmul(spec, A[i,0..K-1], B[0..K-1,j]) -> C[i,j]
 *       the wasm gemm accumulates every pair into the one C block (`accumulate: true`): no
 *       partial products, no sum passes, one C block of memory per task.
 *   k split into G groups, only when the output has fewer blocks than k (tall-skinny Xᵀ·X: one
 *   output block, many k-blocks, which one task would run serially on one worker):
 *       matmul(group g) -> partial[i,j,g];  sum tree (fan-in 4) of the partials -> C[i,j]
 *
 * G = max(1, floor(K / output blocks)): about as many product tasks as the chunking has blocks
 * along k or along the output, whichever is more. Measured on 2 workers (bench/array.ts, f32,
 * gathered on the client, three runs): 4096² in 2048-blocks ran at 57-69 GFLOP/s with one task
 * per output block against 52-54 with k split (dask's shape, kPerTask 1), 2048² in 1024-blocks
 * at 64-67 against 53-63: a split adds a C-sized temporary, a sum pass and a fetch of partials from a
 * worker that may be busy. Xᵀ·X of a 400k x 128 X in 8 blocks ran at 41 GFLOP/s split, 21 as
 * one task. A task also reads at most MAX_TASK_INPUT_BYTES of blocks (it holds them all at
 * once), so a long k in big blocks is split whatever the output's block count.
 *
 * Contracted axes must be chunked alike: the operand with fewer bytes is rechunked to the
 * other's chunks along them. Operands of different dtypes are cast to numpy's result_type
 * first; integer products stay integer and wrap like numpy's (exact JS loop on the worker).
 * Operands contracted over their "wrong" axis (tensordot axes [[0],[0]], [[1],[1]]) are not
 * transposed as arrays: each task transposes the blocks it reads (flags ta / tb).
 */

import { TesseraError } from "../errors.js";
import { HighLevelGraph, GeneratedLayer, MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { isFloat, itemSize, promoteTypes, type Dtype } from "../kernels/dtypes.js";
import { blockIndices, blockShape, normalizeAxis, product, sameChunks } from "./chunks.js";
import { ChunkedArray, type Anchor } from "./core.js";
import { astype } from "./elementwise.js";
import type { LinalgBlockSpec, LinalgMatmulSpec } from "./ops-linalg.js";
import { rechunk } from "./rechunk.js";
import { opSpec } from "../graph/spec.js";

export interface MatmulOptions {
  /**
   * k-blocks one task accumulates. Default: all of them (one task per output block) unless the
   * output has fewer blocks than k, when k is split into floor(K / output blocks) groups.
   */
  kPerTask?: number;
}

/** Tensordot axes: a count N (a's last N with b's first N), or [a's axes, b's axes]. */
export type TensordotAxes = number | readonly [number | readonly number[], number | readonly number[]];

/** Inputs per node of the tree that sums partial products. */
const SUM_FAN_IN = 4;
/** Most bytes of input blocks one product task reads (a worker holds them all while it runs). */
const MAX_TASK_INPUT_BYTES = 512 * 2 ** 20;

/** One operand seen as a matrix of blocks: rows x cols block sizes and where each block is. */
interface MatrixView {
  x: ChunkedArray;
  rows: readonly number[];
  cols: readonly number[];
  /** The stored block (i, j) holds the transpose of the matrix block. */
  t: boolean;
  index(i: number, j: number): number[];
  /** Axis of x that is the contracted one (for aligning chunks); -1 when none. */
  kAxis: number;
}

/** The output: its shape, chunks, and the block index of matrix block (i, j). */
interface OutputView {
  shape: number[];
  chunks: number[][];
  index(i: number, j: number): number[];
}

/** x as the left factor (m x k), contracted over axis `ax` (its other axis, if any, is m). */
function asLeft(x: ChunkedArray, ax: number): MatrixView {
  if (x.ndim === 1) return { x, rows: [1], cols: x.chunks[0]!, t: false, index: (_, p) => [p], kAxis: 0 };
  const t = ax === 0;
  const [r, c] = t ? [1, 0] : [0, 1];
  return { x, rows: x.chunks[r]!, cols: x.chunks[c]!, t, index: (i, p) => (t ? [p, i] : [i, p]), kAxis: ax };
}

/** x as the right factor (k x n), contracted over axis `ax`. */
function asRight(x: ChunkedArray, ax: number): MatrixView {
  if (x.ndim === 1) return { x, rows: x.chunks[0]!, cols: [1], t: false, index: (p) => [p], kAxis: 0 };
  const t = ax === 1;
  const [r, c] = t ? [1, 0] : [0, 1];
  return { x, rows: x.chunks[r]!, cols: x.chunks[c]!, t, index: (p, j) => (t ? [j, p] : [p, j]), kAxis: ax };
}

function checkOperands(what: string, a: unknown, b: unknown, maxNdim = 2): [ChunkedArray, ChunkedArray] {
  for (const [name, x] of [["first", a], ["second", b]] as const) {
    if (!(x instanceof ChunkedArray)) {
      throw new TesseraError(`${what}: the ${name} operand must be a chunked array, got ${x === null ? "null" : typeof x}`);
    }
    if (x.ndim < 1 || x.ndim > maxNdim) {
      throw new TesseraError(
        `${what}: the ${name} operand has shape [${x.shape.join(", ")}] (${x.ndim}-D); only 1-D and 2-D arrays are supported` +
          (x.ndim === 0 ? " (multiply by a 0-d array with mul)" : " (no batched products yet)"),
      );
    }
  }
  return [a as ChunkedArray, b as ChunkedArray];
}

/** Both operands cast to numpy's result type (one fused elementwise pass, only where needed). */
function promote(what: string, a: ChunkedArray, b: ChunkedArray): [ChunkedArray, ChunkedArray, Dtype] {
  let dtype: Dtype;
  try {
    dtype = promoteTypes(a.dtype, b.dtype);
  } catch (err) {
    throw new TesseraError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  return [astype(a, dtype), astype(b, dtype), dtype];
}

/** The same view over an array rechunked along its contracted axis to `sizes`. */
function realign(v: MatrixView, sizes: readonly number[], left: boolean): MatrixView {
  const chunks = v.x.chunks.map((c, a) => (a === v.kAxis ? [...sizes] : [...c]));
  const y = rechunk(v.x, chunks);
  return left ? asLeft(y, v.kAxis) : asRight(y, v.kAxis);
}

/** Make A's column chunks equal B's row chunks, rechunking the operand with fewer bytes. */
function alignK(A: MatrixView, B: MatrixView): [MatrixView, MatrixView] {
  if (sameChunks([A.cols], [B.rows])) return [A, B];
  const bytes = (v: MatrixView) => v.x.size * itemSize(v.x.dtype);
  return bytes(A) <= bytes(B) ? [realign(A, B.rows, true), B] : [A, realign(B, A.cols, false)];
}

/** Groups of k-blocks per output block (the header's rule, or the caller's kPerTask). */
function kGroups(A: MatrixView, B: MatrixView, kPerTask: number | undefined): number {
  const K = A.cols.length;
  if (kPerTask !== undefined) {
    if (!Number.isInteger(kPerTask) || kPerTask < 1) throw new TesseraError(`matmul: kPerTask must be a positive integer, got ${kPerTask}`);
    return Math.ceil(K / kPerTask);
  }
  const max = (xs: readonly number[]) => Math.max(0, ...xs);
  const pairBytes = (max(A.rows) + max(B.cols)) * max(A.cols) * itemSize(A.x.dtype);
  const perByMemory = Math.max(1, Math.floor(MAX_TASK_INPUT_BYTES / Math.max(1, pairBytes)));
  return Math.max(1, Math.floor(K / (A.rows.length * B.cols.length)), Math.ceil(K / perByMemory));
}

/** The layer computing C = A·B block by block (see the header). */
function contract(what: string, A: MatrixView, B: MatrixView, out: OutputView, dtype: Dtype, options: MatmulOptions): ChunkedArray {
  [A, B] = alignK(A, B);
  const K = A.cols.length;
  const G = kGroups(A, B, options.kPerTask);
  const per = Math.ceil(K / G);
  const name = `${what}-${tokenize(what, A.x.name, B.x.name, A.t, B.t, out.shape, out.chunks, G)}`;
  const nodes: GraphNode[] = [];
  for (let i = 0; i < A.rows.length; i++) {
    for (let j = 0; j < B.cols.length; j++) {
      const index = out.index(i, j);
      const shape = blockShape(out.chunks, index);
      const task = (key: Key, p0: number, p1: number) => {
        const spec = opSpec<LinalgMatmulSpec>({ dtype, shape, m: A.rows[i]!, n: B.cols[j]!, ks: A.cols.slice(p0, p1), ta: A.t, tb: B.t });
        const refs: TaskRef[] = [];
        for (let p = p0; p < p1; p++) refs.push(new TaskRef(blockKey(A.x.name, A.index(i, p))));
        for (let p = p0; p < p1; p++) refs.push(new TaskRef(blockKey(B.x.name, B.index(p, j))));
        nodes.push(new Task(key, "array.linalg.matmul", [spec, ...refs]));
      };
      const outKey = blockKey(name, index);
      if (G === 1) {
        task(outKey, 0, K);
        continue;
      }
      let level: Key[] = [];
      for (let g = 0; g * per < K; g++) {
        const key = blockKey(`${name}-partial`, [...index, g]);
        task(key, g * per, Math.min(K, (g + 1) * per));
        level.push(key);
      }
      const sum = opSpec<LinalgBlockSpec>({ dtype, shape });
      for (let depth = 0; level.length > 1; depth++) {
        const next: Key[] = [];
        for (let s = 0; s < level.length; s += SUM_FAN_IN) {
          const last = level.length <= SUM_FAN_IN;
          const key = last ? outKey : blockKey(`${name}-sum`, [...index, depth, s / SUM_FAN_IN]);
          nodes.push(new Task(key, "array.linalg.sum", [sum, ...level.slice(s, s + SUM_FAN_IN).map((k) => new TaskRef(k))]));
          next.push(key);
        }
        level = next;
      }
    }
  }
  const deps = [A.x.name, B.x.name];
  const layer = new MaterializedLayer(name, nodes, deps);
  const base = HighLevelGraph.merge(A.x.graph, B.x.graph).withLayer(layer);
  const anchors: Anchor[] = [...new Set([...A.x.anchors, ...B.x.anchors])];
  return new ChunkedArray(base, name, out.shape, out.chunks, dtype, undefined, anchors);
}

function mismatch(what: string, a: ChunkedArray, ax: number, b: ChunkedArray, bx: number): TesseraError {
  return new TesseraError(
    `${what}: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] are not aligned: ` +
      `axis ${ax} of the first has ${a.shape[ax]} elements, axis ${bx} of the second has ${b.shape[bx]}`,
  );
}

/** Contract axis `ax` of a with axis `bx` of b (both 1-D or 2-D); output axes: a's free, then b's. */
function contractOne(what: string, a: ChunkedArray, ax: number, b: ChunkedArray, bx: number, options: MatmulOptions): ChunkedArray {
  if (a.shape[ax] !== b.shape[bx]) throw mismatch(what, a, ax, b, bx);
  let dtype: Dtype;
  [a, b, dtype] = promote(what, a, b);
  // A vector inner product is a fused multiply and a tree sum (the gemm tile would be mostly padding).
  if (a.ndim === 1 && b.ndim === 1 && isFloat(dtype)) return a.mul(b).sum();
  const A = asLeft(a, ax);
  const B = asRight(b, bx);
  const shape = [...(a.ndim === 2 ? [a.shape[1 - ax]!] : []), ...(b.ndim === 2 ? [b.shape[1 - bx]!] : [])];
  const chunks = [...(a.ndim === 2 ? [[...A.rows]] : []), ...(b.ndim === 2 ? [[...B.cols]] : [])];
  const index = (i: number, j: number) => [...(a.ndim === 2 ? [i] : []), ...(b.ndim === 2 ? [j] : [])];
  return contract(what, A, B, { shape, chunks, index }, dtype, options);
}

/**
 * The matrix product (numpy's matmul / @) of 1-D or 2-D arrays: [m,k]·[k,n] -> [m,n],
 * [k]·[k,n] -> [n], [m,k]·[k] -> [m], [k]·[k] -> [] (0-d).
 */
export function matmul(a: ChunkedArray, b: ChunkedArray, options: MatmulOptions = {}): ChunkedArray {
  [a, b] = checkOperands("matmul", a, b);
  return contractOne("matmul", a, a.ndim - 1, b, 0, options);
}

/** numpy's dot for arrays of at most 2 dimensions: matmul, or a product when one is 0-d. */
export function dot(a: ChunkedArray, b: ChunkedArray, options: MatmulOptions = {}): ChunkedArray {
  if (a instanceof ChunkedArray && b instanceof ChunkedArray && (a.ndim === 0 || b.ndim === 0)) return a.mul(b);
  return matmul(a, b, options);
}

function axisList(v: number | readonly number[]): number[] {
  return typeof v === "number" ? [v] : [...v];
}

/**
 * numpy's tensordot for 1-D and 2-D arrays: `axes` = N sums a's last N axes with b's first N;
 * `[axesA, axesB]` pairs them explicitly (`[[1], [0]]` is matmul, `[[0], [0]]` is aᵀ·b).
 * N = 0 is the outer product (shape [...a.shape, ...b.shape]); two pairs contract everything
 * to a 0-d array (a fused multiply and sum; integer inputs then give float64, as tessera's
 * integer sums do).
 */
export function tensordot(a: ChunkedArray, b: ChunkedArray, axes: TensordotAxes = 2, options: MatmulOptions = {}): ChunkedArray {
  [a, b] = checkOperands("tensordot", a, b);
  let pairs: [number, number][];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > Math.min(a.ndim, b.ndim)) {
      const most = Math.min(a.ndim, b.ndim);
      throw new TesseraError(`tensordot: axes must be an integer in [0, ${most}] for shapes [${a.shape}] and [${b.shape}], got ${axes}`);
    }
    pairs = Array.from({ length: axes }, (_, i) => [a.ndim - axes + i, i]);
  } else {
    if (!Array.isArray(axes) || axes.length !== 2) {
      throw new TesseraError(`tensordot: axes must be a number or [axesA, axesB], got ${JSON.stringify(axes)}`);
    }
    const [la, lb] = [axisList(axes[0]), axisList(axes[1])];
    if (la.length !== lb.length) {
      throw new TesseraError(`tensordot: axes ${JSON.stringify(axes)} pair ${la.length} axes of a with ${lb.length} of b`);
    }
    pairs = la.map((x, i) => [normalizeAxis(x, a.ndim, "tensordot axis of a"), normalizeAxis(lb[i]!, b.ndim, "tensordot axis of b")]);
    if (new Set(pairs.map((p) => p[0])).size < pairs.length || new Set(pairs.map((p) => p[1])).size < pairs.length) {
      throw new TesseraError(`tensordot: axes ${JSON.stringify(axes)} repeat an axis`);
    }
  }
  for (const [x, y] of pairs) if (a.shape[x] !== b.shape[y]) throw mismatch("tensordot", a, x, b, y);
  if (pairs.length === 1) return contractOne("tensordot", a, pairs[0]![0], b, pairs[0]![1], options);
  if (pairs.length === 0) return outer(a, b);
  // Two pairs: both 2-D, everything contracted. Crossed pairs read b transposed.
  const crossed = pairs.some(([x, y]) => x !== y);
  return a.mul(crossed ? transposed(b) : b).sum();
}

/** Every product a[...]·b[...] (tensordot with axes 0): block (I, J) is a k = 1 product. */
function outer(a: ChunkedArray, b: ChunkedArray): ChunkedArray {
  let dtype: Dtype;
  [a, b, dtype] = promote("tensordot", a, b);
  const aBlocks = [...blockIndices(a.numblocks)];
  const bBlocks = [...blockIndices(b.numblocks)];
  const sizes = (x: ChunkedArray, blocks: number[][]) => blocks.map((i) => product(blockShape(x.chunks, i)));
  const A: MatrixView = { x: a, rows: sizes(a, aBlocks), cols: [1], t: false, index: (i) => aBlocks[i]!, kAxis: -1 };
  const B: MatrixView = { x: b, rows: [1], cols: sizes(b, bBlocks), t: false, index: (_, j) => bBlocks[j]!, kAxis: -1 };
  const out: OutputView = {
    shape: [...a.shape, ...b.shape],
    chunks: [...a.chunks, ...b.chunks].map((c) => [...c]),
    index: (i, j) => [...aBlocks[i]!, ...bBlocks[j]!],
  };
  return contract("tensordot", A, B, out, dtype, { kPerTask: 1 });
}

/** A 2-D array's transpose (private: for crossed full contractions). */
function transposed(x: ChunkedArray): ChunkedArray {
  const name = `linalg-transpose-${tokenize("transpose", x.name)}`;
  const chunks = [[...x.chunks[1]!], [...x.chunks[0]!]];
  const layer = GeneratedLayer.grid(
    name,
    [chunks[0]!.length, chunks[1]!.length],
    (index) => {
      const spec = opSpec<LinalgBlockSpec>({ dtype: x.dtype, shape: blockShape(chunks, index) });
      return new Task(blockKey(name, index), "array.linalg.transpose", [spec, new TaskRef(blockKey(x.name, [index[1]!, index[0]!]))]);
    },
    [x.name],
  );
  return new ChunkedArray(x.graph.withLayer(layer), name, [x.shape[1]!, x.shape[0]!], chunks, x.dtype, undefined, x.anchors);
}
